"""Invocation records, written to SQLite in batches.

One transaction per call cost ~10% of the server's CPU under load; rows are instead buffered and
written together at most FLUSH_S later (and at shutdown), by a worker thread on a connection of
its own, so the event loop never waits for SQLite on the invoke path. A crash of the server can
lose the last FLUSH_S of records (metering only: never a result, nor an accepted async event).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ember.core.database import open_database
from ember.observe.metered_call import MeteredCall

log = logging.getLogger("ember.records")
FLUSH_S = 0.2
COLUMNS = ("request_id", "function", "version", "source", "started_at", "duration_ms", "billed_ms", "memory_mb",
           "max_memory_mb", "init_ms", "cold", "status", "error_type", "cpu_ms", "cost_usd", "price_model", "arch")
# One row per call: an async event's retries (and a re-run after a crash) share a request id, and each ran.
_INSERT = f"INSERT INTO invocations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class InvocationRecords:
    def __init__(self, db_path: Path) -> None:
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ember-records")
        self._db: sqlite3.Connection = self._writer.submit(open_database, db_path).result()
        self._pending: list[tuple[object, ...]] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, call: MeteredCall) -> None:
        """Queue one call's row; it is in SQLite within FLUSH_S."""
        self._pending.append(tuple(getattr(call, column) for column in COLUMNS))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self._flush_soon)

    def close(self) -> None:
        """Write what is pending and wait for it; the last step of shutdown."""
        self._flush_soon()
        self._writer.submit(self._db.close)
        self._writer.shutdown(wait=True)

    def _flush_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._pending = self._pending, []
        if rows:
            self._writer.submit(self._write, rows)

    def _write(self, rows: list[tuple[object, ...]]) -> None:
        try:
            # The connection is in autocommit mode: without BEGIN each row would be its own transaction.
            self._db.execute("BEGIN")
            self._db.executemany(_INSERT, rows)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            log.exception("could not record %d invocations", len(rows))
