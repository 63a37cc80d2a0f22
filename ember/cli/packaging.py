"""Turn a folder into a Lambda zip (file modes kept), or take a zip as it is."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

# node_modules is code: a Node.js function ships its dependencies in its zip, as on AWS
SKIP_DIRS = {"__pycache__", ".git", ".venv", ".ember"}


def zip_folder(folder: Path) -> bytes:
    """Deterministic zip of a folder: sorted entries, fixed timestamps, Unix modes in external_attr."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_files(folder)):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (os.stat(path).st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found.extend(Path(root) / name for name in files if not name.endswith(".pyc"))
    return found


def code_bytes(path: Path) -> bytes:
    if path.is_dir():
        return zip_folder(path)
    return path.read_bytes()


def folder_settings(path: Path) -> dict[str, Any]:
    """An optional `ember.json` beside the code: runtime, handler, memory, timeout, environment."""
    settings = path / "ember.json" if path.is_dir() else path.with_name("ember.json")
    if not settings.exists():
        return {}
    return json.loads(settings.read_text())
