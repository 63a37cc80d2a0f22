"""What runs inside an execution environment. Shipped as package data: nothing depends on the repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ember.runtimes.jvm import BUILD, JAVA, JAVA_RUNTIMES, java_command, java_problem

RUNTIMES_DIR = Path(__file__).resolve().parent


PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")  # all on this machine's `node` (a newer one warns)
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
    java = runtime_problem(JAVA_RUNTIMES[0]) or _first_line([JAVA, "-version"])
    return f"{', '.join(NODE_RUNTIMES)} on Node.js {node}; {', '.join(JAVA_RUNTIMES)} on {java}"


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
        return java_command(memory_mb)
    if runtime in PROVIDED_RUNTIMES:
        return [f"{task_root}/bootstrap"]
    raise ValueError(f"no runtime for {runtime}")
