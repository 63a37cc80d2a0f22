"""Every function of a stack, followed in one stream: one thread polls each function's log group through the
CloudWatch Logs API (a cursor per group, as `ember logs -f` reads one), quickly while lines come and slower
while they don't, and hands each new event to the stream with its function's name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ember.cli.dev_stream import DevStream
from ember.cli.log_follow import LogCursor

FAST_POLL_S = 0.2  # just after lines came: a call is often followed by more
SLOW_POLL_S = 1.0  # idle: each round costs every group a request


class LogTail:
    def __init__(self, client: Any, stream: DevStream) -> None:
        self.client = client
        self.stream = stream
        self._cursors: dict[str, LogCursor] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ember-dev-logs", daemon=True)

    def follow(self, functions: Iterable[str]) -> None:
        """Follow exactly these functions from now on (a new one from its first line after now)."""
        now_ms = int(time.time() * 1000)
        wanted = set(functions)
        with self._lock:
            self._cursors = {name: self._cursors.get(name) or LogCursor(name, now_ms) for name in sorted(wanted)}
        self.stream.name(wanted)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = FAST_POLL_S
        while not self._stop.wait(delay):
            delay = FAST_POLL_S if self._poll() else min(delay * 2, SLOW_POLL_S)

    def _poll(self) -> bool:
        """One round over every group, events printed in time order; whether any came."""
        with self._lock:
            cursors = list(self._cursors.items())
        found = []
        for name, cursor in cursors:
            try:
                found += [(event["timestamp"], name, event["message"]) for event in cursor.new_events(self.client)]
            except (ClientError, BotoCoreError):  # a group before its first line, or the server restarting
                continue
        for _, name, message in sorted(found, key=lambda item: item[0]):
            self.stream.log(name, message)
        return bool(found)
