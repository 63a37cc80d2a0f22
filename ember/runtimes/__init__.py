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


def runtime_command(runtime: str, task_root: str, runtime_dir: str, memory_mb: int) -> list[str]:
    """The argv that starts `runtime` in an environment whose code is at `task_root` and Ember's
    runtimes at `runtime_dir`; every python3.x is served by the interpreter Ember runs on."""
    if is_python(runtime):
        # -P: don't put the bootstrap's own folder on sys.path, where it could shadow user modules.
        return [sys.executable, "-P", f"{runtime_dir}/python/bootstrap.py"]
    if runtime in NODE_RUNTIMES:
        # V8's heap stops short of MemorySize, so Node fails with its own "heap out of memory" first.
        return [NODE, f"--max-old-space-size={max(32, memory_mb * 85 // 100)}", f"{runtime_dir}/node/bootstrap.mjs"]
    if runtime in JAVA_RUNTIMES:
        return java_command(memory_mb)
    if runtime in PROVIDED_RUNTIMES:
        return [f"{task_root}/bootstrap"]
    raise ValueError(f"no runtime for {runtime}")
