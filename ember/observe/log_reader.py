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
    for fd in _stream_files(function_dir):
        with os.fdopen(fd, encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                event = _parse(line, number)
                if event and _wanted(event, start_ms, end_ms, pattern):
                    events.append(event)
    events.sort(key=lambda e: (e.timestamp, e.stream, e.line))
    return events


def _stream_files(function_dir: Path) -> Iterator[int]:
    """Open fds of the directory's `*.jsonl` regular files, in name order; no symlink is followed."""
    try:
        directory = os.open(function_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # missing (no call yet), or not a real directory
        return
    try:
        with os.scandir(directory) as entries:
            names = sorted(entry.name for entry in entries
                           if STREAM_FILE_RE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False))
        for name in names:
            fd = _open_regular(name, directory)
            if fd is not None:
                yield fd
    finally:
        os.close(directory)


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
