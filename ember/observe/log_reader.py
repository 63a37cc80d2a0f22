"""Reading log events back: a function's streams merged in time order, filtered like CloudWatch's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LogEvent:
    stream: str
    timestamp: int
    message: str
    line: int

    @property
    def event_id(self) -> str:
        return f"{self.stream}:{self.line}"


def read_events(function_dir: Path, start_ms: int | None = None, end_ms: int | None = None,
                pattern: str = "") -> list[LogEvent]:
    """Every event of a function's log group in [start, end], oldest first; `pattern` is a plain substring."""
    events: list[LogEvent] = []
    if not function_dir.is_dir():
        return events
    for path in sorted(function_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                event = _parse(line, number)
                if event and _wanted(event, start_ms, end_ms, pattern):
                    events.append(event)
    events.sort(key=lambda e: (e.timestamp, e.stream, e.line))
    return events


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
