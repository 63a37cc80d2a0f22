"""What runs inside an execution environment. Shipped as package data: nothing depends on the repo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from ember.runtimes.jdks import jdk_for
from ember.runtimes.jvm import BUILD, JAVA_RUNTIMES, java_command, java_problem

RUNTIMES_DIR = Path(__file__).resolve().parent


# Every python3.x runs on the interpreter Ember runs on, every nodejs on this machine's `node`: a runtime newer
# than what really runs says so in its log (the bootstraps compare AWS_EXECUTION_ENV with their own version).
# Deprecated runtimes AWS still lets functions be created on (ember.runtimes.deprecations) run the same way, older
# than what runs: deploying one warns and names what runs.
PYTHON_RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
NODE_RUNTIMES = ("nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x")
PROVIDED_RUNTIMES = ("provided", "provided.al2", "provided.al2023")  # the function's own `bootstrap`
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES + NODE_RUNTIMES + JAVA_RUNTIMES + PROVIDED_RUNTIMES
NODE = "/usr/bin/node"


def is_python(runtime: str) -> bool:
    return runtime in PYTHON_RUNTIMES


def runtime_problem(runtime: str) -> str | None:
    """Why this server can't run `runtime` (a language missing on the machine), or None."""
    if runtime in NODE_RUNTIMES and not os.path.exists(NODE):
        return f"{NODE} is missing (apt-get install nodejs)"
    if runtime in JAVA_RUNTIMES:
        return java_problem()
    return None


def language_summary() -> str:
    """What the non-Python runtimes run on here, for `ember doctor`."""
    node = runtime_problem(NODE_RUNTIMES[0]) or _first_line([NODE, "--version"])
    problem = runtime_problem(JAVA_RUNTIMES[0])
    if problem:
        return f"{', '.join(NODE_RUNTIMES)} on Node.js {node}; {', '.join(JAVA_RUNTIMES)}: {problem}"
    on_jdk: dict[str, list[str]] = {}
    for runtime in JAVA_RUNTIMES:
        on_jdk.setdefault(jdk_for(runtime).java, []).append(runtime)
    java = "; ".join(f"{', '.join(runtimes)} on {_first_line([launcher, '-version'])}"
                     for launcher, runtimes in on_jdk.items())
    return f"{', '.join(NODE_RUNTIMES)} on Node.js {node}; {java}"


def runtime_version(runtime: str) -> str:
    """INIT_START's label in AWS's shape (`python:3.12.v38`), naming what really runs: the interpreter Ember runs
    on (a python3.12 function on Python 3.11.7 says `python:3.11.v7`), this machine's Node.js or JDK, or the
    custom runtime's Amazon Linux generation (a java21 on Temurin 25 says `java:25.v3`). Computed once per
    runtime (`node --version` is a process)."""
    return _runtime_version(runtime)


@cache
def _runtime_version(runtime: str) -> str:
    if is_python(runtime):
        return f"python:{sys.version_info.major}.{sys.version_info.minor}.v{sys.version_info.micro}"
    if runtime in NODE_RUNTIMES:  # v20.20.2 -> nodejs:20.v20
        major, minor, *_ = _numbers(_version_of([NODE, "--version"]))
        return f"nodejs:{major}.v{minor}"
    if runtime in JAVA_RUNTIMES:  # 17.0.15+6-Debian-1deb12u1 -> java:17.v15
        feature, *_, update = _numbers(jdk_for(runtime).identity().split()[1].partition("+")[0])
        return f"java:{feature}.v{update}"
    return f"provided:{runtime.partition('.')[2] or 'al1'}.v1"


def _numbers(version: str) -> list[int]:
    """The release numbers of a version string, at least two (0 for what it lacks)."""
    found = [int(part) for part in re.findall(r"\d+", version)]
    return found + [0] * (2 - len(found))


def _version_of(argv: list[str]) -> str:
    try:
        return _first_line(argv)
    except (OSError, subprocess.SubprocessError, IndexError):
        return ""


def _first_line(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def runtime_host_paths() -> list[str]:
    """Host folders a runtime reads at their own path inside a sandbox: the JVM's class-data archive
    records the jar's path, so the Java build can't move to /var/runtime."""
    return [str(BUILD)] if BUILD.is_dir() else []


def node_heap_flags(memory_mb: int) -> list[str]:
    """V8's heap limits, well inside MemorySize: Node dies of its own "heap out of memory", not an OOM kill."""
    # Without a semi-space limit V8 sizes the young generation from the host's RAM (16 MB semi-spaces),
    # and node runs 10-15% above its old-space limit (GC bookkeeping, pages freed late on a throttled
    # CPU). Measured at 128 MB with arrays of strings/objects kept growing: 85% alone is OOM-killed;
    # 85% + 2 MB semi-spaces peaks at 114-124 MB; 75% + 2 MB at 102-110 MB. (AWS: 90% + 5%.)
    semi_space = min(16, max(1, memory_mb // 64))
    return [f"--max-old-space-size={max(32, memory_mb * 3 // 4)}", f"--max-semi-space-size={semi_space}"]


def runtime_command(runtime: str, task_root: str, runtime_dir: str, memory_mb: int) -> list[str]:
    """The argv that starts `runtime` in an environment whose code is at `task_root` and Ember's
    runtimes at `runtime_dir`; every python3.x is served by the interpreter Ember runs on."""
    if is_python(runtime):
        # -P: don't put the bootstrap's own folder on sys.path, where it could shadow user modules.
        return [sys.executable, "-P", f"{runtime_dir}/python/bootstrap.py"]
    if runtime in NODE_RUNTIMES:
        return [NODE, *node_heap_flags(memory_mb), f"{runtime_dir}/node/bootstrap.mjs"]
    if runtime in JAVA_RUNTIMES:
        return java_command(runtime, memory_mb)
    if runtime in PROVIDED_RUNTIMES:
        return [f"{task_root}/bootstrap"]
    raise ValueError(f"no runtime for {runtime}")
