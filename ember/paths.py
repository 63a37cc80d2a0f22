"""Names that become paths: each is checked against its pattern and must land directly inside its root.

A crafted name (`..`, `/`, a symlink planted in the root) must never make Ember read or write
outside the directory it owns, so every such join goes through `child`.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path


class PathEscape(ValueError):
    """A name that does not match its pattern, or would resolve outside its root."""


def child(root: Path, name: str, pattern: re.Pattern[str]) -> Path:
    """`root/name` if `name` fully matches `pattern`, is one plain component and is no symlink."""
    if not isinstance(name, str) or not pattern.fullmatch(name) or name in (".", "..") or "/" in name:
        raise PathEscape(f"not a valid name: {name!r}")
    path = root / name
    if path.parent != root or _is_symlink(path):
        raise PathEscape(f"{name!r} leads outside {root}")
    return path


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
