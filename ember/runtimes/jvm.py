"""The Java runtimes: Ember's bootstrap (Java source shipped beside this file), compiled once against AWS's
aws-lambda-java-serialization (fetched from Maven Central), a class-data archive of its cold start for each JDK
a runtime runs on, and the JVM flags that fit a JVM into MemorySize."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path

from ember.runtimes.jdks import JAVA, Jdk, jdk_for, jdks_in_use

# Each on the oldest JDK here that is new enough (jdks.py), else on the default one, and the runtime says so
# (java8.al2 and java11, deprecated, run on JDK 17); classes newer than the JDK fail at Init.
JAVA_RUNTIMES = ("java8.al2", "java11", "java17", "java21", "java25")
JAVAC = "/usr/bin/javac"
MVN = "mvn"
JAVA_DIR = Path(__file__).resolve().parent / "java"
SOURCES = JAVA_DIR / "src"
BUILD = JAVA_DIR / "build"  # a sandbox sees it at this same path (rootfs), as the archive records it
JAR = BUILD / "ember-runtime.jar"
# What Lambda's Java runtime maps POJOs and events with (Jackson and Gson shaded inside it); the version is in
# the file's name, so a new one makes the build stale. Pinned by its SHA-256 as Maven Central serves it.
SERIALIZATION = "com.amazonaws:aws-lambda-java-serialization:1.4.1"
SERIALIZATION_SHA256 = "0ab04580117a1a326c7abea912331c77bec1292ce0c22285eb2d40563145dd9b"
SERIALIZATION_JAR = BUILD / "lib" / "aws-lambda-java-serialization-1.4.1.jar"
CLASSPATH = f"{JAR}:{SERIALIZATION_JAR}"
HEAP_PERCENT = 70  # of MemorySize; the rest is metaspace, code cache, thread stacks and /tmp
# C1 only and the serial collector start fastest, as in Lambda's own Java flags; the training run that
# dumps the archive must use the same ones.
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xss512k", "-Xshare:auto")
_building = threading.Lock()
_rebuilding: set[str] = set()  # the JDK identities a rebuild was started for, so each is said once
log = logging.getLogger("ember.runtimes.jvm")


class JavaRuntimeMissing(RuntimeError):
    """This machine can't run the Java runtimes; the message says what to install."""


def java_problem() -> str | None:
    """Why Java functions can't run here (a missing JDK or Maven, or a runtime that won't build), or None."""
    missing = _missing_tools(JAVA)
    if missing:
        return missing
    try:
        built_runtime()
    except JavaRuntimeMissing as missing:
        return str(missing)
    except (OSError, subprocess.SubprocessError) as failed:  # e.g. a read-only install
        return f"Ember's Java runtime could not be built in {BUILD}: {failed}"
    return None


def built_runtime() -> Path:
    """The bootstrap's jar, built now if the sources are newer or another JDK built it (`make install`,
    server start, first use): an apt upgrade of a JDK makes its class-data archive unusable."""
    with _building:
        if _is_stale():
            _build()
        return JAR


def archive_for(jdk: Jdk) -> Path:
    """Each JDK a runtime runs on has its own archive: HotSpot maps only one its own build dumped."""
    return BUILD / f"ember-runtime-java{jdk.feature}.jsa"


def java_command(runtime: str, memory_mb: int) -> list[str]:
    """The JVM's argv: the runtime's JDK (jdks.py), MemorySize as its RAM and the heap stopping short of it,
    so a full heap is Java's own OutOfMemoryError rather than the cgroup's kill. The jar is built before any
    function can be created (server start, CreateFunction's runtime check); the archive is passed only while it
    fits that JDK."""
    jdk = jdk_for(runtime)
    archive = archive_for(jdk)
    cds = [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off,cds+dynamic=off"] if _archive_fits(jdk) else []
    return [jdk.java, f"-XX:MaxRAM={memory_mb}m", f"-XX:MaxRAMPercentage={HEAP_PERCENT}", *JVM_FLAGS, *cds,
            "-cp", CLASSPATH, "ember.runtime.Bootstrap"]


def _archive_fits(jdk: Jdk) -> bool:
    """Whether the JDK's archive was dumped by that very build; if not (the JDK was upgraded under a running
    server), its JVMs start without it and a rebuild starts in the background, said once."""
    if not archive_for(jdk).exists():
        return False
    built_by, running = _built_by(), jdk.identity()
    if running in built_by:
        return True
    if running not in _rebuilding:
        _rebuilding.add(running)
        log.warning("the Java class-data archive for %s was built by another JDK (%s): Java cold starts on it run "
                    "without it until it is rebuilt, now, in the background", running, "; ".join(built_by))
        threading.Thread(target=built_runtime, name="jvm-archive-rebuild", daemon=True).start()
    return False


def _built_by() -> list[str]:
    """The identities of the JDKs whose archives the stamp records (none for a stamp of an older Ember)."""
    try:
        return (BUILD / ".built").read_text().splitlines()
    except OSError:
        return []


def _in_use() -> list[Jdk]:
    return jdks_in_use(JAVA_RUNTIMES)


def _sources() -> list[Path]:
    return sorted(SOURCES.rglob("*.java"))


def _is_stale() -> bool:
    stamp = BUILD / ".built"
    if not stamp.exists() or not SERIALIZATION_JAR.exists():
        return True
    if _built_by() != [jdk.identity() for jdk in _in_use()]:
        return True
    built = stamp.stat().st_mtime
    return any(source.stat().st_mtime > built for source in _sources())


def _missing_tools(*paths: str) -> str | None:
    for path in paths:
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install openjdk-17-jdk-headless)"
    return None


def _build() -> None:
    missing = _missing_tools(JAVA, JAVAC)
    if missing:
        raise JavaRuntimeMissing(missing)
    BUILD.mkdir(mode=0o755, exist_ok=True)
    (BUILD / ".built").unlink(missing_ok=True)
    _fetch_serialization()
    with tempfile.TemporaryDirectory(dir=BUILD) as staging:
        result = subprocess.run([JAVAC, "--release", "17", "-nowarn", "-cp", str(SERIALIZATION_JAR), "-d", staging,
                                 *map(str, _sources())], capture_output=True, text=True)
        if result.returncode != 0:
            raise JavaRuntimeMissing(f"javac failed on Ember's Java runtime: {result.stderr.strip()}")
        _write_jar(Path(staging), JAR)
    jdks = _in_use()
    for old in BUILD.glob("*.jsa"):  # archives of JDKs no runtime runs on any more
        old.unlink()
    for jdk in jdks:
        _dump_archive(jdk)
    (BUILD / ".built").write_text("".join(f"{jdk.identity()}\n" for jdk in jdks))


def _fetch_serialization() -> None:
    """AWS's serialization jar, copied by Maven from its local repository (filled from Maven Central once, as
    the test suite's fetches of AWS's Java libraries are) and checked against its pinned hash."""
    if SERIALIZATION_JAR.exists():
        return
    if shutil.which(MVN) is None:
        raise JavaRuntimeMissing(f"Maven fetches {SERIALIZATION} for Ember's Java runtime: apt-get install maven")
    with tempfile.TemporaryDirectory(dir=BUILD) as staging:
        fetched = subprocess.run([MVN, "-q", "-B", "dependency:copy", f"-Dartifact={SERIALIZATION}",
                                  f"-DoutputDirectory={staging}"], cwd=staging, capture_output=True, text=True,
                                 timeout=600)
        jar = Path(staging) / SERIALIZATION_JAR.name
        if fetched.returncode != 0 or not jar.exists():
            said = (fetched.stdout + fetched.stderr).strip()[-500:]
            raise JavaRuntimeMissing(f"Maven could not fetch {SERIALIZATION}: {said}")
        digest = hashlib.sha256(jar.read_bytes()).hexdigest()
        if digest != SERIALIZATION_SHA256:
            raise JavaRuntimeMissing(f"{SERIALIZATION} from Maven has SHA-256 {digest}, not {SERIALIZATION_SHA256}")
        SERIALIZATION_JAR.parent.mkdir(mode=0o755, exist_ok=True)
        jar.chmod(0o644)
        jar.rename(SERIALIZATION_JAR)


def _write_jar(classes: Path, jar: Path) -> None:
    """A jar is a zip; written beside the old one and renamed over it, so no JVM ever reads half of one."""
    partial = jar.with_name(jar.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, str(path.relative_to(classes)))
    partial.chmod(0o644)
    partial.rename(jar)


def _dump_archive(jdk: Jdk) -> None:
    """AppCDS: a training run of a cold start dumps its classes parsed and verified, cutting ~40% of the
    JVM's own start; without the archive the runtime still works, only slower."""
    archive = archive_for(jdk)
    archive.unlink(missing_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    trained = subprocess.run([jdk.java, *JVM_FLAGS, f"-XX:ArchiveClassesAtExit={partial}", "-cp", CLASSPATH,
                              "ember.runtime.Warmup"], capture_output=True, text=True, timeout=120)
    if trained.returncode == 0 and partial.exists():
        partial.chmod(0o644)
        partial.rename(archive)
        return
    partial.unlink(missing_ok=True)
    log.warning("the Java class-data archive for %s was not dumped (exit %s): its cold starts run without it. %s",
                jdk.home, trained.returncode, (trained.stdout + trained.stderr).strip()[-500:])
