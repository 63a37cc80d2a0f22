"""ember.runtimes.jvm: the JVM's flags fit it into MemorySize; the bootstrap is built once."""

from __future__ import annotations

import subprocess
import threading
import zipfile

import pytest

from ember.runtimes import jvm, runtime_command
from ember.runtimes.jdks import default_jdk, jdk_for


def test_the_jvm_sees_memorysize_as_its_ram_and_keeps_heap_below_it():
    jvm.built_runtime()
    argv = runtime_command("java17", "/var/task", "/var/runtime", 512)
    assert argv[0] == default_jdk().java and argv[-1] == "ember.runtime.Bootstrap"
    assert "-XX:MaxRAM=512m" in argv and f"-XX:MaxRAMPercentage={jvm.HEAP_PERCENT}" in argv
    assert "-XX:TieredStopAtLevel=1" in argv
    assert argv[argv.index("-cp") + 1] == f"{jvm.JAR}:{jvm.SERIALIZATION_JAR}"


def test_the_runtime_is_built_once_with_its_class_data_archive():
    jar = jvm.built_runtime()
    stamp = (jvm.BUILD / ".built").stat().st_mtime_ns
    assert jvm.built_runtime() == jar and (jvm.BUILD / ".built").stat().st_mtime_ns == stamp
    assert "com/amazonaws/services/lambda/runtime/RequestHandler.class" in zipfile.ZipFile(jar).namelist()
    for runtime in jvm.JAVA_RUNTIMES:  # one archive per JDK a runtime runs on, dumped by that JDK
        archive = jvm.archive_for(jdk_for(runtime))
        assert archive.stat().st_size > 100_000, "the training run dumped its classes"
        assert f"-XX:SharedArchiveFile={archive}" in runtime_command(runtime, "/var/task", "/var/runtime", 128)
    assert "com/amazonaws/services/lambda/runtime/serialization/PojoSerializer.class" in zipfile.ZipFile(
        jvm.SERIALIZATION_JAR).namelist(), "AWS's serialization jar, beside the bootstrap's"


def test_the_archive_matches_the_classpath_the_runtime_starts_with():
    """-Xshare:on turns a silently unused archive (a moved jar, other flags, another JDK) into a failure."""
    jvm.built_runtime()
    for runtime in jvm.JAVA_RUNTIMES:
        argv = runtime_command(runtime, "/var/task", "/var/runtime", 256)
        strict = [arg if arg != "-Xshare:auto" else "-Xshare:on" for arg in argv[:-1]]
        checked = subprocess.run([*strict, "-version"], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _pretend_another_jdk_built_it() -> None:
    """What an apt upgrade of the JDK leaves behind: a build stamped by a JDK that no longer runs."""
    jvm.built_runtime()
    (jvm.BUILD / ".built").write_text("/usr/lib/jvm/java-17-openjdk-amd64 17.0.1+12-Debian-1 libjvm 1:1\n"
                                      + "".join(f"{jdk.identity()}\n" for jdk in jvm._in_use()[1:]))


def test_a_jdk_upgrade_makes_the_build_stale_and_it_is_rebuilt_for_the_new_jdk():
    _pretend_another_jdk_built_it()
    jvm.built_runtime()
    identity = default_jdk().identity()
    assert (jvm.BUILD / ".built").read_text().splitlines()[0] == identity, "rebuilt by the JDK that runs"
    assert identity.split()[1] in subprocess.run([jvm.JAVA, "-version"], capture_output=True,
                                                 text=True).stderr, "the identity names the build"
    test_the_archive_matches_the_classpath_the_runtime_starts_with()


def test_a_runtime_whose_archive_another_jdk_built_starts_without_it_says_so_once_and_rebuilds(caplog):
    _pretend_another_jdk_built_it()
    jvm._rebuilding.clear()
    with caplog.at_level("WARNING", logger="ember.runtimes.jvm"):
        first = runtime_command("java17", "/var/task", "/var/runtime", 256)
        second = runtime_command("java17", "/var/task", "/var/runtime", 256)
    assert not any(arg.startswith("-XX:SharedArchiveFile") for arg in first + second), "never silently ignored"
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1 == len(caplog.records)
    assert "built by another JDK" in caplog.records[0].message
    for thread in [t for t in threading.enumerate() if t.name == "jvm-archive-rebuild"]:
        thread.join(timeout=120)
    archive = jvm.archive_for(default_jdk())
    assert f"-XX:SharedArchiveFile={archive}" in runtime_command("java17", "/var/task", "/var/runtime", 256)


def test_without_maven_the_missing_serialization_library_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(jvm, "SERIALIZATION_JAR", tmp_path / "lib" / jvm.SERIALIZATION_JAR.name)
    monkeypatch.setattr(jvm, "MVN", "no-such-mvn")
    with pytest.raises(jvm.JavaRuntimeMissing, match="apt-get install maven"):
        jvm._fetch_serialization()


def test_a_serialization_jar_that_is_not_the_pinned_one_is_refused(monkeypatch, tmp_path):
    """Maven copies it (from its local repository, filled by `make install`), and the hash decides."""
    target = tmp_path / "lib" / jvm.SERIALIZATION_JAR.name
    monkeypatch.setattr(jvm, "SERIALIZATION_JAR", target)
    monkeypatch.setattr(jvm, "SERIALIZATION_SHA256", "0" * 64)
    with pytest.raises(jvm.JavaRuntimeMissing, match=f"has SHA-256 [0-9a-f]{{64}}, not {'0' * 64}"):
        jvm._fetch_serialization()
    assert not target.exists(), "never put where the runtime would load it"
