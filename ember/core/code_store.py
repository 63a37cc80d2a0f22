"""Content-addressed function code: each zip stored once under its sha256, unpacked once, modes kept.

Unpacking runs in a worker thread (`storing`), never on the event loop. Code nothing references any
more is removed (`collect`); a digest being stored is held until its caller has recorded it, so a
collection running meanwhile cannot take it away.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ember.core.zip_extract import BAD_ZIP, UNZIPPED_LIMIT, extract
from ember.errors import ResourceNotFoundException
from ember.paths import PathEscape, child

__all__ = ["BAD_ZIP", "CodeStore", "StoredCode", "remove_paths", "tree_size"]

DIGEST_RE = re.compile(r"[0-9a-f]{64}")
ENTRY_RE = re.compile(r"(?P<digest>[0-9a-f]{64})(\.zip)?")
STAGING, TRASH = ".staging-", ".trash-"


@dataclass(frozen=True)
class StoredCode:
    sha256_hex: str
    size: int
    unzipped: int = 0  # bytes its tree holds, counted as zip_extract counts them (files and link targets)

    @property
    def code_sha256(self) -> str:
        """AWS's CodeSha256: base64 of the raw digest."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


class CodeStore:
    """Zips live at `<root>/<sha>.zip`; their unpacked trees at `<root>/<sha>/` (read-only)."""

    def __init__(self, root: Path, unzipped_limit: int = UNZIPPED_LIMIT) -> None:
        self.root = root
        self.unzipped_limit = unzipped_limit
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()
        self._unzipped: dict[str, int] = {}  # a digest's tree never changes, so its size is measured once
        root.mkdir(parents=True, exist_ok=True)
        self._remove([p for p in root.iterdir() if p.name.startswith((STAGING, TRASH))])  # a crash's leftovers

    def put(self, zip_bytes: bytes) -> StoredCode:
        """Check, store and unpack a zip (blocking); the same bytes twice cost nothing the second time."""
        stored = self._put_held(zip_bytes)
        self.release(stored.sha256_hex)
        return stored

    @asynccontextmanager
    async def storing(self, zip_bytes: bytes) -> AsyncIterator[StoredCode]:
        """`put` in a worker thread; the code is held from collection until the block ends."""
        stored = await asyncio.to_thread(self._put_held, zip_bytes)
        try:
            yield stored
        finally:
            self.release(stored.sha256_hex)

    def release(self, digest: str) -> None:
        with self._lock:
            self._held -= Counter({digest: 1})

    def tree(self, sha256_hex: str) -> Path:
        return self.root / sha256_hex

    def unzipped_size(self, sha256_hex: str) -> int:
        """What the digest's tree holds (blocking: walks it the first time): the 250 MB that code and layers share."""
        size = self._unzipped.get(sha256_hex)
        if size is None:
            size = self._unzipped[sha256_hex] = tree_size(self.tree(sha256_hex))
        return size

    def zip_path(self, sha256_hex: str) -> Path:
        """The stored zip of a digest, refusing anything that is not one (the download route's input)."""
        try:
            return child(self.root, f"{sha256_hex}.zip", re.compile(rf"{DIGEST_RE.pattern}\.zip"))
        except PathEscape as exc:
            raise ResourceNotFoundException("Code not found") from exc

    def digests(self) -> set[str]:
        """Every digest with a zip or a tree in the store."""
        return {m["digest"] for p in self.root.iterdir() if (m := ENTRY_RE.fullmatch(p.name))}

    def collect(self, keep: set[str]) -> list[str]:
        """Remove every digest not in `keep` and not being stored; the files go in a background thread."""
        with self._lock:
            doomed = sorted(d for d in self.digests() - keep if not self._held[d])
            trash = [t for d in doomed for p in (self.tree(d), self.root / f"{d}.zip") if (t := self._to_trash(p))]
        if trash:
            threading.Thread(target=self._remove, args=(trash,), name="code-gc", daemon=True).start()
        return doomed

    def _put_held(self, zip_bytes: bytes) -> StoredCode:
        digest = hashlib.sha256(zip_bytes).hexdigest()
        with self._lock:
            self._held[digest] += 1
            done = self.tree(digest).is_dir()
        try:
            if not done:
                self._unzipped[digest] = self._unpack(zip_bytes, digest)
            return StoredCode(digest, len(zip_bytes), self.unzipped_size(digest))
        except BaseException:
            self.release(digest)
            raise

    def _unpack(self, zip_bytes: bytes, digest: str) -> int:
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.root))
        try:
            os.chmod(staging, 0o755)
            unzipped = extract(zip_bytes, staging, self.unzipped_limit)
            _zip_beside(staging).write_bytes(zip_bytes)
            self._publish(digest, staging)
            return unzipped
        finally:
            self._remove([staging, _zip_beside(staging)])

    def _publish(self, digest: str, staging: Path) -> None:
        """The zip first, then the tree: a tree that exists always has its zip."""
        with self._lock:
            if not self.tree(digest).is_dir():
                os.replace(_zip_beside(staging), self.root / f"{digest}.zip")
                os.replace(staging, self.tree(digest))

    def _to_trash(self, path: Path) -> Path | None:
        if not os.path.lexists(path):
            return None
        trash = self.root / f"{TRASH}{path.name}-{os.urandom(4).hex()}"
        os.replace(path, trash)
        return trash

    @staticmethod
    def _remove(paths: list[Path]) -> None:
        remove_paths(paths)


def remove_paths(paths: list[Path]) -> None:
    """Delete files and trees without following any symlink in them (rmtree unlinks links)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            path.unlink(missing_ok=True)


def _zip_beside(staging: Path) -> Path:
    return staging.parent / f"{staging.name}.zip"


def tree_size(tree: Path) -> int:
    """Regular files' sizes and symlinks' target lengths, never following a link."""
    total = 0
    for root, dirs, files in os.walk(tree):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            total += os.lstat(os.path.join(root, name)).st_size  # a link's st_size is its target's length
    return total
