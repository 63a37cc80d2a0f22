"""Reading log events back: a function's streams merged in time order, filtered like CloudWatch's."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ember.arns import NAME_RE
from ember.paths import PathEscape, child

STREAM_FILE_RE = re.compile(r"[^/\0]+\.jsonl")
# A stream file last written more than this before a read's startTime holds no event from then on (an event is
# stamped before it is written; the margin covers the kernel's coarse file clock), so a follower polling with a
# recent startTime reads only the streams written lately.
MTIME_SLACK_MS = 1000


@dataclass(frozen=True)
class LogEvent:
    stream: str
    timestamp: int
    message: str
    line: int

    @property
    def event_id(self) -> str:
        return f"{self.stream}:{self.line}"


def function_log_dir(logs_root: Path, function_name: str) -> Path | None:
    """`<logs>/<function>`, or None for a name no function can have: never a directory outside the root."""
    try:
        return child(logs_root, function_name, NAME_RE)
    except PathEscape:
        return None


def read_events(function_dir: Path, start_ms: int | None = None, end_ms: int | None = None,
                pattern: str = "") -> list[LogEvent]:
    """Every event of a function's log group in [start, end], oldest first; `pattern` is a plain substring."""
    events: list[LogEvent] = []
    for fd in _stream_files(function_dir, None if start_ms is None else start_ms - MTIME_SLACK_MS):
        with os.fdopen(fd, encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                event = _parse(line, number)
                if event and _wanted(event, start_ms, end_ms, pattern):
                    events.append(event)
    events.sort(key=lambda e: (e.timestamp, e.stream, e.line))
    return events


def _stream_files(function_dir: Path, modified_since_ms: int | None = None) -> Iterator[int]:
    """Open fds of the directory's `*.jsonl` regular files (written since `modified_since_ms`, if given), in
    name order; no symlink is followed."""
    try:
        directory = os.open(function_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # missing (no call yet), or not a real directory
        return
    try:
        with os.scandir(directory) as entries:
            names = sorted(entry.name for entry in entries
                           if STREAM_FILE_RE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
                           and _modified_since(entry, modified_since_ms))
        for name in names:
            fd = _open_regular(name, directory)
            if fd is not None:
                yield fd
    finally:
        os.close(directory)


def _modified_since(entry: os.DirEntry[str], since_ms: int | None) -> bool:
    if since_ms is None:
        return True
    try:
        return entry.stat(follow_symlinks=False).st_mtime_ns // 1_000_000 >= since_ms
    except OSError:  # removed since the listing (retention)
        return False


def _open_regular(name: str, directory: int) -> int | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=directory)
    except OSError:  # gone, or swapped for a symlink since the listing
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _parse(line: str, number: int) -> LogEvent | None:
    try:
        data = json.loads(line)
    except ValueError:  # a line cut short by a crash mid-write
        return None
    return LogEvent(data["s"], int(data["t"]), data["m"], number)


def _wanted(event: LogEvent, start_ms: int | None, end_ms: int | None, pattern: str) -> bool:
    if start_ms is not None and event.timestamp < start_ms:
        return False
    if end_ms is not None and event.timestamp > end_ms:
        return False
    return pattern.strip('"') in event.message if pattern else True
