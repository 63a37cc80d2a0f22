"""ember.cli.packaging.zip_folder: deterministic Lambda zips with Unix modes kept."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from ember.cli.packaging import zip_folder


def make_folder(root: Path) -> Path:
    folder = root / "src"
    (folder / "pkg").mkdir(parents=True)
    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    (folder / "bootstrap").write_text("#!/bin/sh\n")
    os.chmod(folder / "bootstrap", 0o755)
    os.chmod(folder / "app.py", 0o644)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00\x01")
    (folder / "pkg" / "__pycache__").mkdir()
    (folder / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\x00\x01")
    return folder


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(data)).infolist()


def test_entries_are_relative_to_the_folder(tmp_path):
    names = [info.filename for info in entries(zip_folder(make_folder(tmp_path)))]
    assert set(names) == {"app.py", "bootstrap", "pkg/util.py"}
    assert not any(name.startswith("/") or ".." in name for name in names)


def test_entries_are_sorted(tmp_path):
    names = [info.filename for info in entries(zip_folder(make_folder(tmp_path)))]
    assert names == ["app.py", "bootstrap", "pkg/util.py"]


def test_entry_contents_are_the_file_contents(tmp_path):
    folder = make_folder(tmp_path)
    archive = zipfile.ZipFile(io.BytesIO(zip_folder(folder)))
    assert archive.read("pkg/util.py") == b"X = 1\n"


def test_executable_file_keeps_mode_755(tmp_path):
    by_name = {info.filename: info for info in entries(zip_folder(make_folder(tmp_path)))}
    assert (by_name["bootstrap"].external_attr >> 16) & 0o777 == 0o755
    assert (by_name["app.py"].external_attr >> 16) & 0o777 == 0o644


def test_pycache_is_skipped(tmp_path):
    names = [info.filename for info in entries(zip_folder(make_folder(tmp_path)))]
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_node_modules_are_kept(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "node_modules" / "dep").mkdir(parents=True)
    (folder / "node_modules" / "dep" / "index.js").write_text("module.exports = 1;\n")
    names = [info.filename for info in entries(zip_folder(folder))]
    assert "node_modules/dep/index.js" in names, "a Node.js function's dependencies are part of its code"


def test_same_folder_twice_gives_identical_bytes(tmp_path):
    folder = make_folder(tmp_path)
    assert zip_folder(folder) == zip_folder(folder)


def test_file_timestamps_do_not_change_the_bytes(tmp_path):
    folder = make_folder(tmp_path)
    before = zip_folder(folder)
    os.utime(folder / "app.py", (1_000_000_000, 1_000_000_000))
    assert zip_folder(folder) == before
