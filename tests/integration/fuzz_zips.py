"""Hostile zip archives: traversal, absolute paths, symlinks out, bombs, corrupt and empty archives.

Each escaping entry aims at `target` (a path outside the server's data dir that must never appear)."""

from __future__ import annotations

import io
import stat
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

HANDLER = b"def handler(event, context):\n    return 1\n"


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as archive:
        warnings.simplefilter("ignore")  # duplicate names are one of the hostile cases
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(name: str, points_to: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3  # Unix: the mode bits are read
    return info


def _raw_name(name: str) -> bytes:
    """A zip whose one entry's stored name is `name` byte for byte (zipfile would clean it on write)."""
    placeholder = "P" * len(name.encode("utf-8", "surrogatepass"))
    data = _zip([(placeholder, HANDLER)])
    return data.replace(placeholder.encode(), name.encode("utf-8", "surrogatepass"))


def hostile_zips(target: Path) -> dict[str, Callable[[], bytes]]:
    """Name → builder; every builder's archive tries to write `target` or exhaust the server."""
    up = "../" * 12 + str(target).lstrip("/")
    return {
        "traversal": lambda: _raw_name(up),
        "traversal-backslash": lambda: _raw_name(up.replace("/", "\\")),
        "absolute": lambda: _raw_name(str(target)),
        "symlink-out": lambda: _zip([(_symlink("link", str(target.parent)), str(target.parent).encode()),
                                     ("index.py", HANDLER)]),
        "symlink-then-write-through": lambda: _zip([(_symlink("link", str(target.parent)),
                                                     str(target.parent).encode()),
                                                    (f"link/{target.name}", b"escaped")]),
        "nul-in-name": lambda: _raw_name("index\x00.py"),
        "dot-dot-dir": lambda: _zip([("a/../../index.py", HANDLER)]),
        "duplicate-names": lambda: _zip([("index.py", HANDLER), ("index.py", b"x = 1\n")]),
        "bomb-one-entry": lambda: _zip([("index.py", HANDLER), ("zeros", bytes(300 * 1024 * 1024))]),
        "bomb-many-entries": lambda: _zip([(f"f{i}", b"") for i in range(20000)]),
        "empty-archive": lambda: _zip([]),
        "empty-bytes": lambda: b"",
        "truncated": lambda: _zip([("index.py", HANDLER)])[:40],
        "not-a-zip": lambda: b"PK\x03\x04" + b"\xff" * 200,
        "corrupt-crc": lambda: _zip([("index.py", HANDLER * 50)], zipfile.ZIP_STORED).replace(b"return 1",
                                                                                             b"return 2", 1),
        "deep-directories": lambda: _zip([("/".join(["d"] * 400) + "/index.py", HANDLER)]),
        "long-name": lambda: _zip([("n" * 4000, HANDLER)]),
    }
