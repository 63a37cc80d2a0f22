"""Compiled Python extensions a function's package carries for another interpreter than the one its python3.x
runs on here: found at deploy, where a warning helps, not at invoke, where they fail as Runtime.ImportModuleError."""

from __future__ import annotations

import os
import re
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

TAGGED = re.compile(r"\.(cpython|pypy)[^./]*\.so$")  # foo.cpython-312-x86_64-linux-gnu.so; untagged .so load anywhere
LOADABLE = tuple(suffix for suffix in EXTENSION_SUFFIXES if suffix != ".so")  # this interpreter's own tags
SHOWN = 3  # extensions named in the warning; the rest are counted


def foreign_extensions(tree: Path) -> list[str]:
    """Paths (relative to the code's root) of extension modules this interpreter would not import."""
    found = []
    for folder, _, files in os.walk(tree):
        for name in files:
            if TAGGED.search(name) and not name.endswith(LOADABLE):
                found.append(os.path.relpath(os.path.join(folder, name), tree))
    return sorted(found)


def abi_warning(function: str, runtime: str, tree: Path) -> str | None:
    """One line naming what will fail to import and what to build for, or None when nothing will."""
    if not runtime.startswith("python"):
        return None
    foreign = foreign_extensions(tree)
    if not foreign:
        return None
    more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
    return (f"{function} ({runtime}) carries compiled extensions for another Python: {', '.join(foreign[:SHOWN])}"
            f"{more}; {runtime} runs here on Python {sys.version.split()[0]}, which can't import them "
            f"(Runtime.ImportModuleError at invoke): build the package for {sys.implementation.cache_tag}, "
            f"e.g. pip install --python-version {sys.version_info.major}.{sys.version_info.minor} "
            "--only-binary=:all: --target .")
