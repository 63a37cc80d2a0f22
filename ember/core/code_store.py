"""Content-addressed function code: each zip stored once under its sha256, unpacked once, modes kept."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ember.errors import InvalidParameterValueException

BAD_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True)
class StoredCode:
    sha256_hex: str
    size: int

    @property
    def code_sha256(self) -> str:
        """AWS's CodeSha256: base64 of the raw digest."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


class CodeStore:
    """Zips live at `<root>/<sha>.zip`; their unpacked trees at `<root>/<sha>/` (read-only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, zip_bytes: bytes) -> StoredCode:
        """Check, store and unpack a zip; the same bytes twice cost nothing the second time."""
        digest = hashlib.sha256(zip_bytes).hexdigest()
        if not self.tree(digest).exists():
            _unpack(zip_bytes, self.root, digest)
        return StoredCode(digest, len(zip_bytes))

    def tree(self, sha256_hex: str) -> Path:
        return self.root / sha256_hex

    def zip_path(self, sha256_hex: str) -> Path:
        return self.root / f"{sha256_hex}.zip"


def _unpack(zip_bytes: bytes, root: Path, digest: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InvalidParameterValueException(BAD_ZIP) from exc
    staging = root / f".{digest}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for member in members:
            _extract_member(archive, member, staging)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InvalidParameterValueException(BAD_ZIP) from exc
    (root / f"{digest}.zip").write_bytes(zip_bytes)
    staging.mkdir(exist_ok=True)
    os.replace(staging, root / digest)


def _extract_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path) -> None:
    """Extract one entry, refusing paths that escape the tree, keeping the Unix mode bits."""
    target = (dest / member.filename).resolve()
    if not str(target).startswith(str(dest.resolve())):
        raise ValueError(f"unsafe path in zip: {member.filename}")
    archive.extract(member, dest)
    mode = (member.external_attr >> 16) & 0o7777
    if mode and not member.is_dir():
        os.chmod(target, mode | stat.S_IRUSR)
