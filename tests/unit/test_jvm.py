"""ember.runtimes.jvm: the JVM's flags fit it into MemorySize; the bootstrap is built once."""

from __future__ import annotations

import subprocess
import zipfile

from ember.runtimes import jvm, runtime_command


def test_the_jvm_sees_memorysize_as_its_ram_and_keeps_heap_below_it():
    jvm.built_runtime()
    argv = runtime_command("java17", "/var/task", "/var/runtime", 512)
    assert argv[0] == jvm.JAVA and argv[-1] == "ember.runtime.Bootstrap"
    assert "-XX:MaxRAM=512m" in argv and f"-XX:MaxRAMPercentage={jvm.HEAP_PERCENT}" in argv
    assert "-XX:TieredStopAtLevel=1" in argv
    assert argv[argv.index("-cp") + 1] == f"{jvm.JAR}:{jvm.GSON}"


def test_the_runtime_is_built_once_with_its_class_data_archive():
    jar = jvm.built_runtime()
    stamp = (jvm.BUILD / ".built").stat().st_mtime_ns
    assert jvm.built_runtime() == jar and (jvm.BUILD / ".built").stat().st_mtime_ns == stamp
    assert "com/amazonaws/services/lambda/runtime/RequestHandler.class" in zipfile.ZipFile(jar).namelist()
    assert jvm.ARCHIVE.stat().st_size > 100_000, "the training run dumped its classes"
    assert f"-XX:SharedArchiveFile={jvm.ARCHIVE}" in runtime_command("java21", "/var/task", "/var/runtime", 128)


def test_the_archive_matches_the_classpath_the_runtime_starts_with():
    """-Xshare:on turns a silently unused archive (a moved jar, other flags) into a failure."""
    jvm.built_runtime()
    argv = runtime_command("java17", "/var/task", "/var/runtime", 256)
    strict = [arg if arg != "-Xshare:auto" else "-Xshare:on" for arg in argv[:-1]]
    checked = subprocess.run([*strict, "-version"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
