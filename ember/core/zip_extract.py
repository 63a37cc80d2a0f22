"""Unpacking a function's zip without trusting it.

Sizes are counted as bytes are written, never taken from the zip's headers, so a bomb stops at the
limit. No entry may lead outside the tree (`..`, absolute paths): AWS's answer to those is not
documented, so Ember refuses them, naming the entry. Symlinks are made as symlinks with any target
(they resolve inside the sandbox's root), and every file operation here goes through directory fds
with O_NOFOLLOW, so none is ever followed on the host.
"""

from __future__ import annotations

import errno
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ember.errors import InvalidParameterValueException

UNZIPPED_LIMIT = 262_144_000  # AWS's 250 MB, code and layers together
BAD_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
EMPTY_ZIP = "Uploaded file must be a non-empty zip"
CHUNK = 1 << 20
MAX_LINK = 4096  # PATH_MAX: a longer symlink target is no symlink Linux can make
READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, ValueError, RuntimeError,
               NotImplementedError, OSError)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
T = TypeVar("T")


def too_large(limit: int) -> InvalidParameterValueException:
    return InvalidParameterValueException(f"Unzipped size must be smaller than {limit} bytes")


class Budget:
    """The bytes left to write before the unzipped limit: spent as data is written, not as declared."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise too_large(self.limit)


def extract(zip_bytes: bytes, dest: Path, limit: int = UNZIPPED_LIMIT) -> int:
    """Unpack into the empty directory `dest`; returns the unzipped size."""
    archive = open_archive(zip_bytes)
    budget = Budget(limit)
    root = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW)
    try:
        for member in archive.infolist():
            _extract_entry(archive, member, root, budget)
    finally:
        os.close(root)
    return limit - budget.left


def open_archive(zip_bytes: bytes) -> zipfile.ZipFile:
    """The zip's central directory, or AWS's error for a corrupt or empty archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))  # shares the bytes, no copy
    except READ_ERRORS as exc:
        raise InvalidParameterValueException(BAD_ZIP) from exc
    if not archive.infolist():
        raise InvalidParameterValueException(EMPTY_ZIP)
    return archive


def entry_parts(name: str) -> list[str]:
    """The entry's path components; an absolute path or a `..` component is refused, naming the entry."""
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise refused(name, "leads outside the function's directory")
    return parts


def refused(name: str, why: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(f"{BAD_ZIP} Entry '{name}' {why}.")


def _extract_entry(archive: zipfile.ZipFile, member: zipfile.ZipInfo, root: int, budget: Budget) -> None:
    parts = entry_parts(member.filename)
    if not parts:
        return
    is_dir = member.is_dir()
    parent = _open_dirs(root, parts if is_dir else parts[:-1], member.filename)
    try:
        if not is_dir:
            _write_entry(archive, member, parent, parts[-1], budget)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise
        raise refused(member.filename, f"cannot be unpacked ({exc.strerror})") from exc
    finally:
        if parent != root:
            os.close(parent)


def _open_dirs(root: int, parts: list[str], name: str) -> int:
    """Walk (making as needed) the entry's directories; a symlink or file in the way refuses the entry."""
    fd = root
    for part in parts:
        try:
            os.mkdir(part, 0o755, dir_fd=fd)
        except FileExistsError:
            pass
        try:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW, dir_fd=fd)
        except OSError as exc:
            raise refused(name, "goes through a symlink or a file") from exc
        finally:
            if fd != root:
                os.close(fd)
        fd = next_fd
    return fd


def _write_entry(archive: zipfile.ZipFile, member: zipfile.ZipInfo, parent: int, leaf: str, budget: Budget) -> None:
    mode = (member.external_attr >> 16) & 0o177777
    if stat.S_ISLNK(mode):
        _write_link(archive, member, parent, leaf, budget)
    else:
        _write_file(archive, member, parent, leaf, budget, (mode & 0o777) | stat.S_IRUSR if mode else 0o644)


def _write_link(archive: zipfile.ZipFile, member: zipfile.ZipInfo, parent: int, leaf: str, budget: Budget) -> None:
    """A symlink stays one, whatever its target: it resolves inside the sandbox, never here."""
    target = _read(archive, member, MAX_LINK + 1)
    if not target or len(target) > MAX_LINK or b"\0" in target:
        raise refused(member.filename, "is a symlink without a usable target")
    budget.spend(len(target))
    _replace_existing(parent, leaf, lambda: os.symlink(os.fsdecode(target), leaf, dir_fd=parent))


def _write_file(archive: zipfile.ZipFile, member: zipfile.ZipInfo, parent: int, leaf: str, budget: Budget,
                mode: int) -> None:
    """Copy in chunks, charging each to the budget; `mode` has no setuid/setgid bits (a zip made without
    Unix modes gets 0644; the owner can always read)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW
    fd = _replace_existing(parent, leaf, lambda: os.open(leaf, flags, 0o600, dir_fd=parent))
    with os.fdopen(fd, "wb") as out:
        try:
            with archive.open(member) as source:
                while chunk := source.read(CHUNK):
                    budget.spend(len(chunk))
                    out.write(chunk)
        except READ_ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                raise
            raise InvalidParameterValueException(BAD_ZIP) from exc
        os.fchmod(out.fileno(), mode)


def _read(archive: zipfile.ZipFile, member: zipfile.ZipInfo, size: int) -> bytes:
    try:
        with archive.open(member) as source:
            return source.read(size)
    except READ_ERRORS as exc:
        raise InvalidParameterValueException(BAD_ZIP) from exc


def _replace_existing(parent: int, leaf: str, make: Callable[[], T]) -> T:
    """A later entry of the same name replaces the earlier one (as unzip does); a directory is kept."""
    try:
        return make()
    except FileExistsError:
        os.unlink(leaf, dir_fd=parent)  # removes a symlink itself, never its target
        return make()
