"""Read deadlines for many connections, checked by one sweep instead of a timer per request.

A timer armed and cancelled at each step of every request (head begun, head done, each piece of
body) put three or four TimerHandles on the event loop's heap per call. Here a step only writes
the connection's `deadline` (time.monotonic(), None: no deadline), and a sweep every SWEEP_S closes
the connections past theirs: a deadline is kept to within SWEEP_S, and an idle server sweeps nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

SWEEP_S = 0.5


class Expiring(Protocol):
    deadline: float | None

    def expire(self) -> None:
        """The deadline passed: close the connection."""
        ...


class Deadlines:
    """The open connections of one server; swept while there are any."""

    def __init__(self) -> None:
        self.open: set[Expiring] = set()
        self._sweep: asyncio.TimerHandle | None = None

    def add(self, connection: Expiring) -> None:
        self.open.add(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self.sweep)

    def discard(self, connection: Expiring) -> None:
        self.open.discard(connection)

    def sweep(self) -> None:
        """Close every connection past its deadline."""
        now = time.monotonic()
        for connection in [c for c in self.open if c.deadline is not None and c.deadline <= now]:
            connection.deadline = None
            connection.expire()
        self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self.sweep) if self.open else None
