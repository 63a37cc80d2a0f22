"""How long and how much log a function keeps: streams older than the retention go, and a function's
streams past its cap go oldest first (`ember serve --log-retention-days`, `--log-cap-mb`).

A stream still being written may be removed too: its environment goes on writing to the unlinked
file, whose own size is capped by LogStream, and the space comes back when the environment ends.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SWEEP_INTERVAL_S = 60.0


def sweep(logs_dir: Path, max_age_s: float, max_function_bytes: int, now: float | None = None) -> int:
    """Remove what the rules say must go; returns how many stream files were removed."""
    if not logs_dir.is_dir():
        return 0
    cutoff = (now or time.time()) - max_age_s
    return sum(_sweep_function(Path(entry.path), cutoff, max_function_bytes)
               for entry in os.scandir(logs_dir) if entry.is_dir(follow_symlinks=False))


def _sweep_function(directory: Path, cutoff: float, max_bytes: int) -> int:
    streams = sorted(_streams(directory), key=lambda item: item[1])  # oldest first
    removed, total = 0, sum(size for _, _, size in streams)
    for path, modified, size in streams:
        if modified >= cutoff and total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        removed, total = removed + 1, total - size
    return removed


def _streams(directory: Path) -> list[tuple[Path, float, int]]:
    found = []
    for entry in os.scandir(directory):
        if entry.name.endswith(".jsonl") and entry.is_file(follow_symlinks=False):
            stat = entry.stat(follow_symlinks=False)
            found.append((Path(entry.path), stat.st_mtime, stat.st_size))
    return found
