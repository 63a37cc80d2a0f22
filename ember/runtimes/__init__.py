"""What runs inside an execution environment. Shipped as package data: nothing depends on the repo."""

from __future__ import annotations

import sys
from pathlib import Path

RUNTIMES_DIR = Path(__file__).resolve().parent
PYTHON_BOOTSTRAP = RUNTIMES_DIR / "python" / "bootstrap.py"


def runtime_command(runtime: str) -> list[str]:
    """The argv that starts `runtime`; every python3.x is served by the interpreter Ember runs on."""
    if runtime.startswith("python3"):
        # -P: don't put the bootstrap's own folder on sys.path, where it could shadow user modules.
        return [sys.executable, "-P", str(PYTHON_BOOTSTRAP)]
    raise ValueError(f"no runtime for {runtime}")
