"""A function's layers as the one tree its sandbox shows at /opt, later layers' files over earlier ones'.

One layer is its own unpacked tree in the code store. Several are merged, once per ordered list of
layers, into `code/.opt/<key>/` (the key hashes the ordered digests): directories are made, files
hard-linked (so a merge costs one link per file and no space) and symlinks recreated, each layer in
turn replacing what an earlier one put at the same path, as unzipping them into /opt one after the
other would. Symlinks are never followed on the host: one in the way of a later layer's directory
is replaced by a real directory. Building happens in a staging directory published by rename, so a
merge running twice (a request and a cold start) is harmless.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ember.core.code_store import STAGING, TRASH, CodeStore, remove_paths

log = logging.getLogger("ember.layers")
OPT_DIR = ".opt"


def tree_key(digests: list[str]) -> str:
    """The merged tree's name for these layers in this order."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


class LayerTrees:
    def __init__(self, code: CodeStore) -> None:
        self.code = code
        self.root = code.root / OPT_DIR  # made by the first merge: a data dir without layers has none
        if self.root.is_dir():
            remove_paths([p for p in self.root.iterdir() if p.name.startswith((STAGING, TRASH))])  # a crash's

    def path(self, digests: list[str]) -> Path | None:
        """Where the layers' merged tree is (none for no layers); its name is a digest or a tree key."""
        if not digests:
            return None
        if len(digests) == 1:
            return self.code.tree(digests[0])
        return self.root / tree_key(digests)

    def ensure(self, digests: list[str]) -> Path | None:
        """The merged tree, built now if it is missing (blocking: run it in a worker thread where it can be)."""
        path = self.path(digests)
        if path is None or path.is_dir():
            return path
        self.root.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.root))
        try:
            os.chmod(staging, 0o755)
            for digest in digests:
                merge_into(self.code.tree(digest), staging)
            try:
                os.rename(staging, path)
            except OSError:  # another merge published the same tree first
                pass
        finally:
            remove_paths([staging] if staging.exists() else [])
        log.info("merged %d layers into %s", len(digests), path.name)
        return path

    def collect(self, keep: set[str]) -> list[str]:
        """Remove merged trees whose key is not in `keep`; the files go in a background thread."""
        if not self.root.is_dir():
            return []
        doomed = sorted(p.name for p in self.root.iterdir()
                        if not p.name.startswith((STAGING, TRASH)) and p.name not in keep)
        trash = []
        for name in doomed:
            target = self.root / f"{TRASH}{name}-{os.urandom(4).hex()}"
            os.replace(self.root / name, target)
            trash.append(target)
        if trash:
            threading.Thread(target=remove_paths, args=(trash,), name="opt-gc", daemon=True).start()
        return doomed


def merge_into(source: Path, dest: Path) -> None:
    """Lay `source`'s tree over `dest`'s: what `source` has at a path replaces what `dest` had there."""
    for root, dirs, files in os.walk(source):  # top-down: a directory is made real before anything goes in it
        target = dest / os.path.relpath(root, source)
        for name in dirs:
            src, dst = os.path.join(root, name), target / name
            if os.path.islink(src):  # os.walk does not descend into it
                _place(src, dst)
            elif not (dst.is_dir() and not dst.is_symlink()):
                _clear(dst)
                dst.mkdir(mode=0o755)
        for name in files:
            _place(os.path.join(root, name), target / name)


def _place(src: str, dst: Path) -> None:
    """A file (hard-linked, copied across filesystems) or a symlink (recreated as it is) at `dst`."""
    _clear(dst)
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another filesystem, or protected_hardlinks for a server that is not root
        shutil.copy2(src, dst, follow_symlinks=False)


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
