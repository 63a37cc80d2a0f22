"""The durable queue behind `InvocationType=Event`.

An event is committed to SQLite before Invoke answers 202, run through the same invoker as any
call, and deleted only once its run finished. Rows still marked `running` when the server stops
(or dies) are queued again at the next start, so no accepted event is lost.

A throttled event goes back to the queue and backs off, as on AWS, from 1 s up to 5 minutes (with
jitter, so a function's events don't all come back at once). Unlike AWS, Ember does not make it
wait that long when it needn't: whenever a call of that function gives its concurrency slot back,
its oldest throttled event is released at once, so a queue behind a small reservation drains as
fast as the reservation allows.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time

from ember.core.invoker import Invoker, InvokeRequest
from ember.errors import AwsError, TooManyRequestsException

log = logging.getLogger("ember.events")
MAX_IN_FLIGHT = 64
BACKOFF_S, MAX_BACKOFF_S = 1.0, 300.0


class EventQueue:
    def __init__(self, db: sqlite3.Connection, invoker: Invoker) -> None:
        self.db = db
        self.invoker = invoker
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._throttled: set[str] = set()  # functions with throttled events waiting for a slot
        invoker.limiter.on_release(self._slot_freed)

    def enqueue(self, request_id: str, function: str, qualifier: str | None, payload: bytes, *,
                source: str = "event") -> None:
        """Durable on return: the row is committed (WAL) before the caller is told 202. `source` is the
        invocation's (`event` for Invoke's Event type, `schedule` for rules and schedules)."""
        self.db.execute(
            "INSERT INTO event_queue (request_id, function, qualifier, payload, enqueued_at, source) "
            "VALUES (?,?,?,?,?,?)",
            (request_id, function, qualifier, payload, time.time(), source),
        )
        self._wake.set()

    def requeue_unfinished(self) -> int:
        """Events that were running when the last server stopped run again."""
        return self.db.execute("UPDATE event_queue SET state = 'queued' WHERE state = 'running'").rowcount

    async def run(self) -> None:
        """Start queued events as they arrive (or their backoff ends), at most MAX_IN_FLIGHT at a time."""
        while True:
            self._wake.clear()
            for row in self._claim(MAX_IN_FLIGHT - len(self._tasks)):
                task = asyncio.create_task(self._run_one(row), name=f"event-{row['request_id']}")
                self._tasks.add(task)
                task.add_done_callback(self._finished)
            try:
                async with asyncio.timeout(self._until_next_due()):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Cancel running events; their rows stay `running`, so the next start runs them again."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _claim(self, limit: int) -> list[sqlite3.Row]:
        if limit <= 0:
            return []
        rows = self.db.execute(
            "SELECT seq, request_id, function, qualifier, payload, throttles, source FROM event_queue "
            "WHERE state = 'queued' AND not_before <= ? ORDER BY seq LIMIT ?", (time.time(), limit)).fetchall()
        if rows:  # one transaction for the batch (the connection is in autocommit mode)
            self.db.execute("BEGIN")
            self.db.executemany("UPDATE event_queue SET state = 'running' WHERE seq = ?", [(r["seq"],) for r in rows])
            self.db.execute("COMMIT")
        return rows

    async def _run_one(self, row: sqlite3.Row) -> None:
        request = InvokeRequest(row["function"], bytes(row["payload"]), row["qualifier"], source=row["source"],
                                request_id=row["request_id"])
        try:
            await self.invoker.invoke(request)
        except TooManyRequestsException:
            delay = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** row["throttles"]) * random.uniform(0.5, 1.0)
            self.db.execute("UPDATE event_queue SET state = 'queued', not_before = ?, throttles = throttles + 1 "
                            "WHERE seq = ?", (time.time() + delay, row["seq"]))
            self._throttled.add(row["function"])
            return
        except AwsError as error:
            log.warning("dropping event %s for %s: %s", row["request_id"], row["function"], error.message)
        self.db.execute("DELETE FROM event_queue WHERE seq = ?", (row["seq"],))

    def _slot_freed(self, function: str) -> None:
        """A call of `function` ended: its oldest throttled event may run now, not after its back-off."""
        if function not in self._throttled:
            return
        released = self.db.execute(
            "UPDATE event_queue SET not_before = 0 WHERE seq = (SELECT seq FROM event_queue WHERE function = ? "
            "AND state = 'queued' AND not_before > 0 ORDER BY seq LIMIT 1)", (function,)).rowcount
        if released:
            self._wake.set()
        else:
            self._throttled.discard(function)

    def _until_next_due(self) -> float | None:
        """Seconds until the earliest backed-off event is due; None if none is waiting (or no room)."""
        if len(self._tasks) >= MAX_IN_FLIGHT:
            return None  # a finishing task sets the wake event
        row = self.db.execute("SELECT min(not_before) FROM event_queue WHERE state = 'queued'").fetchone()
        if row[0] is None:
            return None
        return max(0.01, row[0] - time.time())

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("event task failed", exc_info=task.exception())
