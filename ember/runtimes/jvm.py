"""The Java runtimes: Ember's bootstrap (Java source shipped beside this file), compiled once on this
machine's JDK against AWS's aws-lambda-java-serialization (fetched from Maven Central) with a class-data
archive of its cold start, and the JVM flags that fit a JVM into MemorySize."""

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

JAVA_RUNTIMES = ("java17", "java21", "java25")  # all on this machine's JDK (a newer one warns); classes
# newer than the JDK fail at Init
JAVA = "/usr/bin/java"
JAVAC = "/usr/bin/javac"
MVN = "mvn"
JAVA_DIR = Path(__file__).resolve().parent / "java"
SOURCES = JAVA_DIR / "src"
BUILD = JAVA_DIR / "build"  # a sandbox sees it at this same path (rootfs), as the archive records it
JAR = BUILD / "ember-runtime.jar"
ARCHIVE = BUILD / "ember-runtime.jsa"
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
    server start, first use): an apt upgrade of the JDK makes the class-data archive unusable."""
    with _building:
        if _is_stale():
            _build()
        return JAR


def jdk_identity() -> str:
    """The JDK's version and build, and its libjvm's size and time: HotSpot refuses an archive dumped by any
    other build ("created by a different version or build of HotSpot"). Two small reads, cheap per cold start."""
    home = Path(os.path.realpath(JAVA)).parent.parent
    try:
        release = (home / "release").read_text()
        libjvm = (home / "lib" / "server" / "libjvm.so").stat()
    except OSError:
        return f"{home} unreadable"
    version = next((line.split("=", 1)[1].strip('"') for line in release.splitlines()
                    if line.startswith("JAVA_RUNTIME_VERSION=")), "unknown")
    return f"{home} {version} libjvm {libjvm.st_size}:{libjvm.st_mtime_ns}"


def java_command(memory_mb: int) -> list[str]:
    """The JVM's argv: MemorySize is its RAM and the heap stops short of it, so a full heap is Java's own
    OutOfMemoryError rather than the cgroup's kill. The jar is built before any function can be created
    (server start, CreateFunction's runtime check); the archive is passed only while it fits this JDK."""
    archive = [f"-XX:SharedArchiveFile={ARCHIVE}", "-Xlog:cds=off,cds+dynamic=off"] if _archive_fits() else []
    return [JAVA, f"-XX:MaxRAM={memory_mb}m", f"-XX:MaxRAMPercentage={HEAP_PERCENT}", *JVM_FLAGS, *archive,
            "-cp", CLASSPATH, "ember.runtime.Bootstrap"]


def _archive_fits() -> bool:
    """Whether the archive was dumped by the JDK that runs now; if not (the JDK was upgraded under a running
    server), the JVMs start without it and a rebuild starts in the background, said once."""
    if not ARCHIVE.exists():
        return False
    built_by, running = _built_by(), jdk_identity()
    if built_by == running:
        return True
    if running not in _rebuilding:
        _rebuilding.add(running)
        log.warning("the Java class-data archive was built by another JDK (%s; this one is %s): Java cold "
                    "starts run without it until it is rebuilt, now, in the background", built_by, running)
        threading.Thread(target=built_runtime, name="jvm-archive-rebuild", daemon=True).start()
    return False


def _built_by() -> str:
    """The JDK identity the stamp records (empty for a stamp of an older Ember, so it counts as stale)."""
    try:
        return (BUILD / ".built").read_text().strip()
    except OSError:
        return ""


def _sources() -> list[Path]:
    return sorted(SOURCES.rglob("*.java"))


def _is_stale() -> bool:
    stamp = BUILD / ".built"
    if not stamp.exists() or not SERIALIZATION_JAR.exists() or _built_by() != jdk_identity():
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
    _dump_archive()
    (BUILD / ".built").write_text(jdk_identity() + "\n")


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


def _dump_archive() -> None:
    """AppCDS: a training run of a cold start dumps its classes parsed and verified, cutting ~40% of the
    JVM's own start; without the archive the runtime still works, only slower."""
    ARCHIVE.unlink(missing_ok=True)
    partial = ARCHIVE.with_name(ARCHIVE.name + ".partial")
    subprocess.run([JAVA, *JVM_FLAGS, f"-XX:ArchiveClassesAtExit={partial}", "-cp", CLASSPATH,
                    "ember.runtime.Warmup"], capture_output=True, timeout=120)
    if partial.exists():
        partial.chmod(0o644)
        partial.rename(ARCHIVE)
