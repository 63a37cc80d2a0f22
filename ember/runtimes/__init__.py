"""What runs inside an execution environment. Shipped as package data: nothing depends on the repo."""

from __future__ import annotations

import sys
from pathlib import Path

RUNTIMES_DIR = Path(__file__).resolve().parent


PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
PROVIDED_RUNTIMES = ("provided", "provided.al2", "provided.al2023")  # the function's own `bootstrap`
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES + PROVIDED_RUNTIMES


def is_python(runtime: str) -> bool:
    return runtime in PYTHON_RUNTIMES


def runtime_command(runtime: str, task_root: str, runtime_dir: str) -> list[str]:
    """The argv that starts `runtime` in an environment whose code is at `task_root` and Ember's
    runtimes at `runtime_dir`; every python3.x is served by the interpreter Ember runs on."""
    if is_python(runtime):
        # -P: don't put the bootstrap's own folder on sys.path, where it could shadow user modules.
        return [sys.executable, "-P", f"{runtime_dir}/python/bootstrap.py"]
    if runtime in PROVIDED_RUNTIMES:
        return [f"{task_root}/bootstrap"]
    raise ValueError(f"no runtime for {runtime}")
