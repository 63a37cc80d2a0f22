"""ember.core.zip_extract: limits counted as written, escapes refused, symlinks kept but never followed."""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile

import pytest

from ember.core.zip_extract import EMPTY_ZIP, extract
from ember.errors import InvalidParameterValueException

MB = 1 << 20


def zip_of(*entries: tuple[str, bytes, int]) -> bytes:
    """(name, data, mode) entries, deflated; mode carries the file type (S_IFLNK for a symlink)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # a duplicate name is one of the cases under test
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[str, bytes, int]:
    return name, data, stat.S_IFREG | mode


def link(name: str, target: str) -> tuple[str, bytes, int]:
    return name, target.encode(), stat.S_IFLNK | 0o777


def lie_about_sizes(data: bytes, declared: int) -> bytes:
    """Rewrite every local and central header's uncompressed size to `declared`."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = raw.find(signature)
        while start != -1:
            struct.pack_into("<I", raw, start + offset, declared)
            start = raw.find(signature, start + 4)
    return bytes(raw)


@pytest.fixture
def dest(tmp_path):
    out = tmp_path / "tree"
    out.mkdir()
    return out


def refused(data: bytes, dest, limit: int = 100 * MB) -> str:
    with pytest.raises(InvalidParameterValueException) as caught:
        extract(data, dest, limit)
    return caught.value.message


def test_a_bomb_stops_at_the_limit_with_awss_message(dest):
    bomb = zip_of(file("zeros", bytes(8 * MB)))
    assert len(bomb) < 16 * 1024  # 8 MB of zeros deflate to a few KB
    assert refused(bomb, dest, limit=2 * MB) == "Unzipped size must be smaller than 2097152 bytes"


def test_the_limit_counts_every_entry_together(dest):
    many = zip_of(*(file(f"f{n}", bytes(MB)) for n in range(3)))
    assert "Unzipped size must be smaller" in refused(many, dest, limit=3 * MB - 1)


def test_exactly_the_limit_is_allowed_and_the_size_reported(tmp_path):
    (tmp_path / "t").mkdir()
    assert extract(zip_of(*(file(f"f{n}", bytes(MB)) for n in range(3))), tmp_path / "t", 3 * MB) == 3 * MB


def test_declared_sizes_that_lie_small_do_not_get_past_the_limit(dest):
    bomb = lie_about_sizes(zip_of(file("zeros", bytes(8 * MB))), declared=10)
    message = refused(bomb, dest, limit=2 * MB)
    assert message.startswith("Could not unzip uploaded file")  # read stops at the lie: CRC fails
    assert sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) <= 2 * MB


def test_declared_sizes_that_lie_large_are_not_charged(dest):
    assert extract(lie_about_sizes(zip_of(file("small", b"hello")), declared=4_000_000_000), dest, 5) == 5
    assert (dest / "small").read_bytes() == b"hello"


def test_nested_directories_are_made(dest):
    extract(zip_of(("a/", b"", stat.S_IFDIR | 0o755), file("a/b/c/d.py", b"X = 1\n")), dest, MB)
    assert (dest / "a" / "b" / "c" / "d.py").read_bytes() == b"X = 1\n"
    assert (dest / "a" / "b").stat().st_mode & 0o777 == 0o755


def test_a_symlink_stays_a_symlink_with_any_target(dest):
    extract(zip_of(link("lib", "/opt/lib"), link("up", "../../etc/passwd"), file("app.py")), dest, MB)
    assert os.readlink(dest / "lib") == "/opt/lib"
    assert os.readlink(dest / "up") == "../../etc/passwd"


def test_an_entry_through_a_symlink_is_refused_and_nothing_is_written_outside(dest, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    data = zip_of(link("escape", str(outside)), file("escape/planted.py", b"boom"))
    assert "Entry 'escape/planted.py'" in refused(data, dest)
    assert list(outside.iterdir()) == []


def test_a_file_after_a_symlink_of_its_name_replaces_the_link_not_its_target(dest, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"original")
    extract(zip_of(link("f", str(victim)), file("f", b"new")), dest, MB)
    assert victim.read_bytes() == b"original"
    assert not (dest / "f").is_symlink() and (dest / "f").read_bytes() == b"new"


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/evil.py", "a/../.."])
def test_entries_leading_outside_are_refused_naming_the_entry(dest, tmp_path, name):
    message = refused(zip_of(file("app.py"), file(name)), dest)
    assert message.startswith("Could not unzip uploaded file") and f"Entry '{name}'" in message
    assert not (tmp_path / "evil.py").exists()


def test_dot_components_inside_the_tree_are_harmless(dest):
    extract(zip_of(file("./a/./b.py", b"ok")), dest, MB)
    assert (dest / "a" / "b.py").read_bytes() == b"ok"


def test_setuid_bits_are_dropped_and_the_owner_can_always_read(dest):
    extract(zip_of(file("tool", b"#!/bin/sh\n", 0o4755), file("secret", b"s", 0o000)), dest, MB)
    assert (dest / "tool").stat().st_mode & 0o7777 == 0o755
    assert (dest / "secret").stat().st_mode & 0o777 == 0o400


def test_a_corrupt_archive_is_could_not_unzip(dest):
    data = bytearray(zip_of(file("app.py", b"print('hello')\n" * 100)))
    data[40:60] = bytes(20)  # inside the first entry's compressed data
    assert refused(bytes(data), dest).startswith("Could not unzip uploaded file")
    assert refused(b"not a zip at all", dest).startswith("Could not unzip uploaded file")


def test_an_empty_archive_is_awss_non_empty_zip_error(dest):
    assert refused(zip_of(), dest) == EMPTY_ZIP
