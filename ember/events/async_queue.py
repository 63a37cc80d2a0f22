"""The durable queue behind `InvocationType=Event`, with AWS's retries and destinations.

An event is committed to SQLite before Invoke answers 202, and every attempt runs through the same
invoker as any call (source "event"; "schedule" for a rule's or schedule's run). What an attempt's
outcome leads to is ember.events.retry_policy's decision: run again later (the row goes back to
`queued` with the time it is due), or done. A finished event's row is deleted in the same transaction
that hands its record on — enqueued for a function destination, or kept in the failed-events store —
so a record is never lost nor sent twice. Rows still `running` when the server stops (or dies) are
queued again at the next start: an event runs at least once, and twice only if it was running then,
as AWS documents ("at least once").

Outcomes, from what `Invoker.invoke` did:
    returned, no function error  → SUCCESS
    returned with a function error (the handler's error, a crash, an out-of-memory kill, a timeout, a
                                    failed or timed-out Init: all the function's)  → FUNCTION_ERROR
    raised TooManyRequestsException (no concurrency slot)  → THROTTLED
    raised any other AwsError with a 5xx status, or anything that is not an AwsError (no environment
                                    could be made: the zygote, a cgroup, the network; a bug)  → SYSTEM_ERROR
    raised any other AwsError (ResourceNotFoundException: the version or alias was deleted)  → REJECTED
A runtime killed because the zygote died looks like a crash to Ember, so it counts as a function error.

A throttled event backs off as on AWS, but whenever a call of its function gives its concurrency slot
back, the oldest throttled event of that function is released at once (Ember's improvement), so a
queue behind a small reservation drains as fast as the reservation allows.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
import uuid

from ember.arns import function_arn
from ember.core.database import transaction
from ember.core.invoker import Invoker, InvokeRequest
from ember.errors import AwsError, TooManyRequestsException
from ember.events.destinations import Response, function_destination, invocation_record
from ember.events.failed_events import FailedEvents
from ember.events.invoke_configs import EventConfig, EventInvokeConfigs
from ember.events.retry_policy import (
    EVENT_AGE_EXCEEDED,
    JITTER,
    SUCCESS,
    Outcome,
    RetryPolicy,
    decide,
    due_at,
)
from ember.execution.outcomes import error_type_of

log = logging.getLogger("ember.events")
MAX_IN_FLIGHT = 64
COLUMNS = "seq, request_id, function, qualifier, payload, enqueued_at, throttles, attempts, error, response, " \
    "executed_version, source"
Attempt = tuple[Outcome, Response | None, str | None]  # how it ended, what the function answered, the error


class EventQueue:
    def __init__(self, db: sqlite3.Connection, invoker: Invoker, configs: EventInvokeConfigs | None = None,
                 failed: FailedEvents | None = None, *, retry_scale: float = 1.0) -> None:
        self.db = db
        self.invoker = invoker
        self.configs = configs or EventInvokeConfigs(db, invoker.registry, invoker.versions, invoker.aliases)
        self.failed = failed or FailedEvents(db)
        self.retry_scale = retry_scale
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._throttled: set[str] = set()  # functions with throttled events waiting for a slot
        invoker.limiter.on_release(self._slot_freed)
        invoker.registry.subscribe(self._on_function_change)

    def enqueue(self, request_id: str, function: str, qualifier: str | None, payload: bytes, *,
                accepted_at: float | None = None, source: str = "event") -> None:
        """Durable on return: the row is committed (WAL) before the caller is told 202 (or, inside a
        transaction, with it). `accepted_at` is when the event's age starts (default: now); `source` is the
        invocation's (`event` for Invoke's Event type, `schedule` for rules' and schedules' runs)."""
        self.db.execute(
            "INSERT INTO event_queue (request_id, function, qualifier, payload, enqueued_at, source) "
            "VALUES (?,?,?,?,?,?)",
            (request_id, function, qualifier, payload, time.time() if accepted_at is None else accepted_at, source),
        )
        self._wake.set()

    def requeue_unfinished(self) -> int:
        """Events that were running when the last server stopped run again."""
        return self.db.execute("UPDATE event_queue SET state = 'queued' WHERE state = 'running'").rowcount

    def redrive(self, function: str) -> list[tuple[str, str]]:
        """Send a function's failed events again, as new events; (old request id, new request id) each."""
        moved = []
        with transaction(self.db):
            for event in self.failed.take(function):
                new_id = str(uuid.uuid4())
                self.enqueue(new_id, function, event.qualifier, event.payload)
                moved.append((event.request_id, new_id))
        return moved

    async def run(self) -> None:
        """Start queued events as they arrive (or their wait ends), at most MAX_IN_FLIGHT at a time."""
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
            f"SELECT {COLUMNS} FROM event_queue WHERE state = 'queued' AND not_before <= ? ORDER BY seq LIMIT ?",
            (time.time(), limit)).fetchall()
        if rows:
            with transaction(self.db):  # one commit for the batch
                self.db.executemany("UPDATE event_queue SET state = 'running' WHERE seq = ?",
                                    [(r["seq"],) for r in rows])
        return rows

    async def _run_one(self, row: sqlite3.Row) -> None:
        config = self.configs.lookup(row["function"], row["qualifier"])
        policy = RetryPolicy(config.max_retries, config.max_age_s, self.retry_scale)
        if policy.expired(time.time() - row["enqueued_at"]):
            self._finish(row, EVENT_AGE_EXCEEDED, config, row["attempts"], _last_response(row), row["error"])
            return
        outcome, response, error = await self._attempt(row)
        attempts = row["attempts"] + (outcome in (Outcome.SUCCESS, Outcome.FUNCTION_ERROR))
        decision = decide(outcome, attempts, row["throttles"], policy, random.uniform(*JITTER))
        if decision.retry_in_s is None:
            self._finish(row, decision.condition or SUCCESS, config, attempts, response, error)
        else:
            self._again(row, outcome, due_at(time.time(), decision.retry_in_s, row["enqueued_at"], policy),
                        attempts, response, error)

    async def _attempt(self, row: sqlite3.Row) -> Attempt:
        request = InvokeRequest(row["function"], bytes(row["payload"]), row["qualifier"], source=row["source"],
                                request_id=row["request_id"])
        try:
            result = await self.invoker.invoke(request)
        except TooManyRequestsException as error:
            return Outcome.THROTTLED, None, f"{error.code}: {error.members.get('Reason', error.message)}"
        except AwsError as error:
            outcome = Outcome.SYSTEM_ERROR if error.status_code >= 500 else Outcome.REJECTED
            return outcome, None, f"{error.code}: {error.message}"
        except Exception as error:  # Ember's failure, not the function's: retried as AWS retries a 5xx
            log.warning("event %s for %s could not run: %r", row["request_id"], row["function"], error)
            return Outcome.SYSTEM_ERROR, None, f"{type(error).__name__}: {error}"
        response = Response(result.executed_version, result.payload, result.function_error)
        if result.function_error:
            return Outcome.FUNCTION_ERROR, response, error_type_of(result.payload)
        return Outcome.SUCCESS, response, None

    def _again(self, row: sqlite3.Row, outcome: Outcome, due: float, attempts: int, response: Response | None,
               error: str | None) -> None:
        """Back to the queue until `due`; the last response is kept for a record of expiry."""
        if self._gone(row):
            return
        backoff = outcome in (Outcome.THROTTLED, Outcome.SYSTEM_ERROR)
        self.db.execute(
            "UPDATE event_queue SET state = 'queued', not_before = ?, throttles = throttles + ?, attempts = ?, "
            "waiting = ?, error = ?, response = COALESCE(?, response), "
            "executed_version = COALESCE(?, executed_version) WHERE seq = ?",
            (due, int(backoff), attempts, outcome.value, error, response.payload if response else None,
             response.executed_version if response else None, row["seq"]))
        if outcome is Outcome.THROTTLED:
            self._throttled.add(row["function"])

    def _finish(self, row: sqlite3.Row, condition: str, config: EventConfig, attempts: int,
                response: Response | None, error: str | None) -> None:
        """Hand the record on (or keep the event) and delete the row, in one transaction."""
        if self._gone(row):
            return
        destination = config.on_success if condition == SUCCESS else config.on_failure
        if condition == SUCCESS and function_destination(destination or "") is None:
            self.db.execute("DELETE FROM event_queue WHERE seq = ?", (row["seq"],))  # the common case: one write
            return
        arn = function_arn(self.invoker.region, row["function"], row["qualifier"] or "$LATEST")
        record = invocation_record(row["request_id"], arn, condition, attempts, bytes(row["payload"]), response,
                                   time.time())
        with transaction(self.db):
            delivered = self._deliver(destination, record)
            if condition != SUCCESS:
                targets = [t for t in (destination, self._dead_letter(row)) if t and function_destination(t) is None]
                if targets or not delivered:
                    self.failed.add(row["request_id"], row["function"], row["qualifier"], bytes(row["payload"]),
                                    time.time(), condition, attempts, error, targets)
            self.db.execute("DELETE FROM event_queue WHERE seq = ?", (row["seq"],))

    def _gone(self, row: sqlite3.Row) -> bool:
        """The event's function was deleted while it ran: its queue went with it, and so does the event."""
        if self.invoker.registry.exists(row["function"]):
            return False
        self.db.execute("DELETE FROM event_queue WHERE seq = ?", (row["seq"],))
        return True

    def _deliver(self, destination: str | None, record: bytes) -> bool:
        """A record for a function destination is an async event of that function (if it still exists)."""
        ref = function_destination(destination or "")
        if ref is None or not self.invoker.registry.exists(ref.name):
            return False
        self.enqueue(str(uuid.uuid4()), ref.name, ref.qualifier, record)
        return True

    def _dead_letter(self, row: sqlite3.Row) -> str | None:
        """The DeadLetterConfig of the version the event was for (a version's is fixed when published)."""
        try:
            config = self.invoker.resolve(row["function"], row["qualifier"]).config
        except AwsError:
            return None
        return (config.get("DeadLetterConfig") or {}).get("TargetArn") or None

    def _slot_freed(self, function: str) -> None:
        """A call of `function` ended: its oldest throttled event may run now, not after its back-off."""
        if function not in self._throttled:
            return
        released = self.db.execute(
            "UPDATE event_queue SET not_before = 0 WHERE seq = (SELECT seq FROM event_queue WHERE function = ? "
            "AND state = 'queued' AND waiting = 'throttle' AND not_before > 0 ORDER BY seq LIMIT 1)",
            (function,)).rowcount
        if released:
            self._wake.set()
        else:
            self._throttled.discard(function)

    def _on_function_change(self, name: str, version: str | None) -> None:
        """A deleted function's queue and failed events go with it, as its configs do."""
        if version is None:
            self.db.execute("DELETE FROM event_queue WHERE function = ?", (name,))
            self.failed.forget(name)

    def _until_next_due(self) -> float | None:
        """Seconds until the earliest waiting event is due; None if none is waiting (or no room)."""
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


def _last_response(row: sqlite3.Row) -> Response | None:
    """The response of the event's last attempt that reached the function, if any did."""
    if row["response"] is None:
        return None
    return Response(row["executed_version"] or "$LATEST", bytes(row["response"]), "Unhandled")
