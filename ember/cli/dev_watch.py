"""What `ember dev` watches, and the watching: the project file, and every function's and layer's code as it is
zipped (a serverless project's `package.patterns` and the packager's skipped folders honoured), each change
traced to the code sources it touches.

Code folders are watched recursively and the project file's folder (and a zip's) flat, so a project root full
of `.aws-sam`, `.git` or `.venv` costs no watches unless code lives there. watchfiles (Rust's notify: inotify
here) groups a save's events for `STEP_MS` after the last one, at most `DEBOUNCE_MS`.
"""

from __future__ import annotations

import queue
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import watch

from ember.apps.model import CodeSource, Stack
from ember.cli.packaging import SKIP_DIRS, included

DEBOUNCE_MS = 50
STEP_MS = 20  # an editor's save is a few events within microseconds; this is what waiting for the last costs
IGNORED_DIRS = frozenset({*SKIP_DIRS, ".aws-sam"})
IGNORED_PATHS = ("node_modules/.cache",)
# editors' swap, backup and lock files (watchfiles' defaults), and vim's probe file `4913`
EDITOR_FILES = re.compile(r"\.py[cod]$|\.___jb_...___$|\.sw.$|~$|^\.#|^\.DS_Store$|^flycheck_|^4913$")


@dataclass
class Change:
    """What one batch of file events touched."""

    project: bool = False  # the template or serverless.yml itself
    sources: set[CodeSource] = field(default_factory=set)
    paths: set[Path] = field(default_factory=set)  # the changed files under code folders


@dataclass
class WatchTargets:
    project: Path
    folders: dict[Path, tuple[CodeSource, ...]]  # a code folder -> the sources zipped from it
    files: dict[Path, tuple[CodeSource, ...]]  # a zip -> the sources that are it

    @classmethod
    def of(cls, stack: Stack) -> WatchTargets:
        folders: dict[Path, list[CodeSource]] = {}
        files: dict[Path, list[CodeSource]] = {}
        for code in [*(f.code for f in stack.functions), *(layer.code for layer in stack.layers)]:
            if code.path is not None:
                path = code.path.resolve()
                (folders if path.is_dir() else files).setdefault(path, []).append(code)
        return cls(stack.source.resolve(), {k: tuple(v) for k, v in folders.items()},
                   {k: tuple(v) for k, v in files.items()})

    def roots(self) -> tuple[list[Path], list[Path]]:
        """(folders watched recursively, folders watched flat), none inside another watched recursively."""
        deep = [folder for folder in self.folders if not any(_inside(folder, other) for other in self.folders
                                                              if other != folder)]
        flat = {self.project.parent, *(path.parent for path in self.files)}
        return sorted(deep), sorted(f for f in flat if not any(_inside(f, root) or f == root for root in deep))

    def classify(self, path: Path) -> Change:
        change = Change()
        if path == self.project:
            change.project = True
        change.sources.update(self.files.get(path, ()))
        for folder, sources in self.folders.items():
            if not _inside(path, folder) and path != folder:
                continue
            relative = path.relative_to(folder)
            if _ignored(relative):
                continue
            touched = [s for s in sources if not relative.parts or included(relative.as_posix(), s.patterns)]
            if touched:
                change.sources.update(touched)
                change.paths.add(path)
        return change

    def relevant(self, path: Path) -> bool:
        change = self.classify(path)
        return change.project or bool(change.sources)


class ProjectWatcher:
    """Watches the targets in background threads and puts each batch that matters on `changes`."""

    def __init__(self, targets: WatchTargets, changes: queue.Queue[Change]) -> None:
        self.targets = targets
        self.changes = changes
        self._stop = threading.Event()
        deep, flat = targets.roots()
        self._threads = [threading.Thread(target=self._watch, args=(roots, recursive), daemon=True,
                                          name="ember-dev-watch") for roots, recursive in ((deep, True), (flat, False))
                         if roots]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _watch(self, roots: list[Path], recursive: bool) -> None:
        for batch in watch(*roots, watch_filter=lambda _, path: self.targets.relevant(Path(path)),
                           debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self._stop, rust_timeout=1000,
                           raise_interrupt=False, recursive=recursive):
            merged = Change()
            for _, path in batch:
                found = self.targets.classify(Path(path))
                merged.project |= found.project
                merged.sources |= found.sources
                merged.paths |= found.paths
            self.changes.put(merged)


def _inside(path: Path, folder: Path) -> bool:
    return folder in path.parents


def _ignored(relative: Path) -> bool:
    parts = relative.parts
    if any(part in IGNORED_DIRS for part in parts) or (parts and EDITOR_FILES.search(parts[-1])):
        return True
    return any(f"/{ignored}/" in f"/{relative.as_posix()}/" for ignored in IGNORED_PATHS)
