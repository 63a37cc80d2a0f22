"""The Java runtimes: Ember's bootstrap (Java source shipped beside this file), compiled once on this
machine's JDK, and the JVM flags that fit a JVM into MemorySize."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

JAVA_RUNTIMES = ("java17", "java21")  # both on this machine's JDK; classes newer than it fail at Init
JAVA = "/usr/bin/java"
JAVAC = "/usr/bin/javac"
GSON = "/usr/share/java/gson.jar"  # Debian's libgoogle-gson-java: the JSON mapping of POJO handlers
JAVA_DIR = Path(__file__).resolve().parent / "java"
SOURCES = JAVA_DIR / "src"
CLASSES = JAVA_DIR / "classes"
HEAP_PERCENT = 70  # of MemorySize; the rest is metaspace, code cache, thread stacks and /tmp
_compiling = threading.Lock()


class JavaRuntimeMissing(RuntimeError):
    """This machine can't run the Java runtimes; the message says what to install."""


def java_problem() -> str | None:
    """Why Java functions can't run here, or None when they can."""
    for path, package in ((JAVA, "openjdk-17-jdk-headless"), (GSON, "libgoogle-gson-java")):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install {package})"
    return None


def compiled_classes() -> Path:
    """The bootstrap's classes, compiled now if the sources are newer (first use, or `make install`)."""
    with _compiling:
        if not _is_stale():
            return CLASSES
        problem = java_problem() or (None if os.path.exists(JAVAC) else f"{JAVAC} is missing")
        if problem:
            raise JavaRuntimeMissing(f"the Java runtimes need a JDK: {problem}")
        _compile()
        return CLASSES


def java_command(runtime_dir: str, memory_mb: int) -> list[str]:
    """The JVM's argv: a heap that stops short of MemorySize, so Java throws OutOfMemoryError before the
    cgroup kills it, and C1 only with the serial collector, which start fastest (as Lambda's own flags)."""
    compiled_classes()
    return [JAVA, f"-XX:MaxRAM={memory_mb}m", f"-XX:MaxRAMPercentage={HEAP_PERCENT}", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:-UsePerfData", "-Xss512k",
            "-cp", f"{runtime_dir}/java/classes:{GSON}", "ember.runtime.Bootstrap"]


def _sources() -> list[Path]:
    return sorted(SOURCES.rglob("*.java"))


def _is_stale() -> bool:
    stamp = CLASSES / ".compiled"
    if not stamp.exists():
        return True
    built = stamp.stat().st_mtime
    return any(source.stat().st_mtime > built for source in _sources())


def _compile() -> None:
    """javac into a fresh folder, then swap it in whole: a half-written CLASSES is never used."""
    staging = Path(tempfile.mkdtemp(prefix=".classes-", dir=JAVA_DIR))
    try:
        result = subprocess.run([JAVAC, "--release", "17", "-nowarn", "-cp", GSON, "-d", str(staging),
                                 *map(str, _sources())], capture_output=True, text=True)
        if result.returncode != 0:
            raise JavaRuntimeMissing(f"javac failed on Ember's Java runtime: {result.stderr.strip()}")
        (staging / ".compiled").touch()
        staging.chmod(0o755)
        shutil.rmtree(CLASSES, ignore_errors=True)
        staging.rename(CLASSES)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
