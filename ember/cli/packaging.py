"""Turn a folder into a Lambda zip (file modes kept), or take a zip as it is."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from ember.apps.model import CodeSource

# node_modules is code: a Node.js function ships its dependencies in its zip, as on AWS
SKIP_DIRS = {"__pycache__", ".git", ".venv", ".ember"}


def zip_folder(folder: Path, patterns: tuple[str, ...] = ()) -> bytes:
    """Deterministic zip of a folder: sorted entries, fixed timestamps, Unix modes in external_attr. `patterns`
    are the Serverless framework's `package.patterns`: in order, `glob` includes and `!glob` excludes, the
    last that matches a file deciding (every file is in to begin with)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_files(folder)):
            name = path.relative_to(folder).as_posix()
            if not included(name, patterns):
                continue
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (os.stat(path).st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def included(name: str, patterns: tuple[str, ...]) -> bool:
    keep = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob(pattern.removeprefix("!").removeprefix("./")).fullmatch(name):
            keep = not negated
    return keep


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as micromatch reads it: `**` any depth (a trailing `dir/**` everything under dir), `*` and `?`
    within one path segment."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def package(source: CodeSource) -> bytes:
    """The zip a stack's function or layer deploys: its folder (with its patterns), its zip, or inline code."""
    if source.inline is not None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo(source.inline_name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            archive.writestr(info, source.inline)
        return buffer.getvalue()
    assert source.path is not None
    return zip_folder(source.path, source.patterns) if source.path.is_dir() else source.path.read_bytes()


def code_sha256(zipped: bytes) -> str:
    """Lambda's CodeSha256 of a zip: base64 of its SHA-256, what GetFunction answers once it is deployed."""
    return base64.b64encode(hashlib.sha256(zipped).digest()).decode()


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
