"""`ember logs`: read a function's log group through the CloudWatch Logs API, once or following."""

from __future__ import annotations

import re
import time
from typing import IO, Any

POLL_S = 1.0
# A call's lines reach the log together at its END, stamped when they were printed, so one environment's lines
# can arrive older than another's newest: each poll asks again from this far before the newest event seen.
LOOKBACK_MS = 10_000
_SINCE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> int | None:
    match = _SINCE_RE.match(text.strip())
    return int(match[1]) * _UNITS[match[2]] if match else None


class LogCursor:
    """How far one log group has been read: each event is handed out once, in bounded memory."""

    def __init__(self, name: str, start_ms: int | None = None) -> None:
        self.group = f"/aws/lambda/{name}"
        self.start_ms = start_ms
        self.newest: int | None = None
        self._seen: dict[str, int] = {}  # event id -> timestamp, for the look-back window only

    def new_events(self, client: Any) -> list[dict[str, Any]]:
        """Events not handed out before, oldest first."""
        since = self.start_ms if self.newest is None else max(self.newest - LOOKBACK_MS, self.start_ms or 0)
        events = fetch(client, self.group, since)
        fresh = [event for event in events if event["eventId"] not in self._seen]
        for event in fresh:
            self._seen[event["eventId"]] = event["timestamp"]
            self.newest = max(self.newest or 0, event["timestamp"])
        if fresh and self.newest is not None:
            floor = self.newest - LOOKBACK_MS
            self._seen = {key: stamp for key, stamp in self._seen.items() if stamp >= floor}
        return fresh


def print_events(client: Any, name: str, start_ms: int | None, follow: bool, out: IO[str]) -> None:
    """Print every event once, oldest first; with `follow`, poll for new ones until interrupted."""
    cursor = LogCursor(name, start_ms)
    while True:
        for event in cursor.new_events(client):
            out.write(event["message"])
        out.flush()
        if not follow:
            return
        time.sleep(POLL_S)


def fetch(client: Any, group: str, start_ms: int | None) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"logGroupName": group}
    if start_ms is not None:
        args["startTime"] = start_ms
    events = []
    for page in client.get_paginator("filter_log_events").paginate(**args):
        events.extend(page["events"])
    return events
