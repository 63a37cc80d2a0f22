"""`ember logs`: read a function's log group through the CloudWatch Logs API, once or following."""

from __future__ import annotations

import re
import time
from typing import IO, Any

POLL_S = 1.0
_SINCE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> int | None:
    match = _SINCE_RE.match(text.strip())
    return int(match[1]) * _UNITS[match[2]] if match else None


def print_events(client: Any, name: str, start_ms: int | None, follow: bool, out: IO[str]) -> None:
    """Print every event once, oldest first; with `follow`, poll for new ones until interrupted."""
    seen: set[str] = set()
    group = f"/aws/lambda/{name}"
    while True:
        for event in _fetch(client, group, start_ms):
            if event["eventId"] not in seen:
                seen.add(event["eventId"])
                out.write(event["message"])
                start_ms = max(start_ms or 0, event["timestamp"])
        out.flush()
        if not follow:
            return
        time.sleep(POLL_S)


def _fetch(client: Any, group: str, start_ms: int | None) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"logGroupName": group}
    if start_ms is not None:
        args["startTime"] = start_ms
    events = []
    for page in client.get_paginator("filter_log_events").paginate(**args):
        events.extend(page["events"])
    return events
