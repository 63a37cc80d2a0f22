"""Invocation records, written to SQLite in batches.

One transaction per call cost ~10% of the server's CPU under load; rows are instead buffered and
written together at most FLUSH_S later (and at shutdown). A crash of the server can lose the
last FLUSH_S of records (metering only: never a result, and never an accepted async event).
"""

from __future__ import annotations

import asyncio
import sqlite3

FLUSH_S = 0.2
COLUMNS = ("request_id", "function", "version", "source", "started_at", "duration_ms", "billed_ms", "memory_mb",
           "max_memory_mb", "init_ms", "cold", "status", "error_type")
_INSERT = f"INSERT INTO invocations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class InvocationRecords:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._pending: list[tuple[object, ...]] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, row: tuple[object, ...]) -> None:
        """Queue one row (in COLUMNS order); it is in SQLite within FLUSH_S."""
        self._pending.append(row)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._pending = self._pending, []
        if rows:
            with self.db:
                self.db.executemany(_INSERT, rows)
