"""`ember deploy` of a Java folder: its .java sources are compiled against Ember's Lambda interfaces (as
`sam build` runs Maven), so the zip holds classes at its root and the folder's jars in lib/, as on AWS."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ember.cli.packaging import SKIP_DIRS, zip_folder
from ember.runtimes.jvm import JAVA_RUNTIMES, JAVAC, built_runtime


class JavaBuildError(ValueError):
    """javac refused the sources; the message is its first error."""


def has_java_sources(folder: Path, runtime: str | None) -> bool:
    return runtime in JAVA_RUNTIMES and folder.is_dir() and any(folder.rglob("*.java"))


def java_zip(folder: Path) -> bytes:
    """The folder without its sources, plus their classes compiled for this machine's JDK (release 17)."""
    with tempfile.TemporaryDirectory(prefix="ember-java-") as out:
        staged = Path(out) / "code"
        shutil.copytree(folder, staged, ignore=shutil.ignore_patterns("*.java", "*.class", *SKIP_DIRS))
        classpath = [str(built_runtime()), *map(str, sorted((folder / "lib").glob("*.jar")))]
        sources = sorted(str(path) for path in folder.rglob("*.java") if not SKIP_DIRS & set(path.parts))
        done = subprocess.run([JAVAC, "--release", "17", "-nowarn", "-cp", ":".join(classpath), "-d", str(staged),
                               *sources], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise JavaBuildError(f"javac: {_first_error(done.stderr)}")
        for path in staged.rglob("*"):  # what javac wrote must be readable by the function's uid
            if path.is_dir() or path.suffix == ".class":
                path.chmod(0o755 if path.is_dir() else 0o644)
        return zip_folder(staged)


def _first_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return next((line for line in lines if ": error: " in line), lines[0] if lines else "failed")
