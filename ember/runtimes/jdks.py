"""Which JDK runs a javaNN function: the oldest installed JDK at least as new as NN (java21 and java25 on a
Temurin 25 beside Debian's 17), else the machine's default one, whose runtime then says it is older."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

JAVA = "/usr/bin/java"  # the machine's default JDK (Debian's alternatives), which also compiles the bootstrap
JVM_ROOT = Path("/usr/lib/jvm")  # where Debian's and Adoptium's packages install JDKs; a sandbox sees /usr


@dataclass(frozen=True)
class Jdk:
    """One installed JDK: its home and the Java feature release it runs (17, 21, 25)."""

    home: Path
    feature: int

    @property
    def java(self) -> str:
        return str(self.home / "bin" / "java")

    def identity(self) -> str:
        """Its version and build, and its libjvm's size and time: HotSpot refuses a class-data archive dumped by
        any other build ("created by a different version or build of HotSpot"). Two small reads per call."""
        try:
            release = (self.home / "release").read_text()
            libjvm = (self.home / "lib" / "server" / "libjvm.so").stat()
        except OSError:
            return f"{self.home} unreadable"
        version = _release_field(release, "JAVA_RUNTIME_VERSION")
        return f"{self.home} {version} libjvm {libjvm.st_size}:{libjvm.st_mtime_ns}"


def default_jdk() -> Jdk:
    """The JDK behind /usr/bin/java."""
    return _jdk_at(Path(os.path.realpath(JAVA)).parent.parent) or Jdk(Path(JAVA).parent.parent, 0)


def jdk_for(runtime: str) -> Jdk:
    """The JDK a javaNN runtime runs on; read once per server (a JDK installed later needs a restart)."""
    return _jdk_for(runtime, JAVA)


def jdks_in_use(runtimes: tuple[str, ...]) -> list[Jdk]:
    """The distinct JDKs those runtimes run on, the default one first: each gets its own class-data archive."""
    used = [default_jdk(), *(jdk_for(runtime) for runtime in runtimes)]
    return list(dict.fromkeys(used))


def java_feature(runtime: str) -> int:
    """The Java release a runtime names: java8.al2 -> 8, java21 -> 21."""
    found = re.match(r"java(\d+)", runtime)
    if found is None:
        raise ValueError(f"{runtime} is no Java runtime")
    return int(found[1])


@cache
def _jdk_for(runtime: str, default_java: str) -> Jdk:
    wanted = java_feature(runtime)
    default = default_jdk()
    fitting = [jdk for jdk in (default, *_installed()) if jdk.feature >= wanted]
    return min(fitting, key=lambda jdk: jdk.feature) if fitting else default  # the default wins a tie


def _installed() -> list[Jdk]:
    homes = sorted({Path(os.path.realpath(home)) for home in JVM_ROOT.glob("*")} if JVM_ROOT.is_dir() else set())
    return [jdk for jdk in map(_jdk_at, homes) if jdk is not None]


def _jdk_at(home: Path) -> Jdk | None:
    """A JDK home with a `release` file naming its version and a java launcher; None for anything else."""
    try:
        version = _release_field((home / "release").read_text(), "JAVA_VERSION")
    except OSError:
        return None
    feature = version.split(".")[0]
    if not feature.isdigit() or not os.access(home / "bin" / "java", os.X_OK):
        return None
    return Jdk(home, int(feature))


def _release_field(release: str, name: str) -> str:
    return next((line.split("=", 1)[1].strip().strip('"') for line in release.splitlines()
                 if line.startswith(f"{name}=")), "unknown")
