"""The failed-events store: async events Lambda gave up on that no function destination received.

AWS would put such an event in an SQS queue, an SNS topic, an EventBridge bus or an S3 bucket (an
on-failure destination or the function's dead-letter queue); Ember has none of those, so it keeps the
event here with the ARNs it was meant for, and an event with no destination at all lands here too, so
nothing is dropped silently. `ember events NAME` lists them, `--redrive` queues them again. They go with
their function.

Writes join the caller's transaction (the queue moves an event here and deletes its queue row at once).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FailedEvent:
    seq: int
    request_id: str
    function: str
    qualifier: str | None
    payload: bytes
    failed_at: float
    condition: str
    attempts: int
    error: str | None
    targets: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        """As Ember's API answers it (payload left out: it may be large, and redrive does not need it)."""
        body: dict[str, Any] = {"RequestId": self.request_id, "FailedAt": self.failed_at,
                                "Condition": self.condition, "ApproximateInvokeCount": self.attempts,
                                "Targets": list(self.targets)}
        if self.qualifier:
            body["Qualifier"] = self.qualifier
        if self.error:
            body["Error"] = self.error
        return body


COLUMNS = "seq, request_id, function, qualifier, payload, failed_at, condition, attempts, error, targets"


class FailedEvents:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(self, request_id: str, function: str, qualifier: str | None, payload: bytes, failed_at: float,
            condition: str, attempts: int, error: str | None, targets: list[str]) -> None:
        self.db.execute("INSERT INTO failed_events (request_id, function, qualifier, payload, failed_at, condition, "
                        "attempts, error, targets) VALUES (?,?,?,?,?,?,?,?,?)",
                        (request_id, function, qualifier, payload, failed_at, condition, attempts, error,
                         " ".join(targets)))

    def of(self, function: str) -> list[FailedEvent]:
        """Oldest first."""
        rows = self.db.execute(f"SELECT {COLUMNS} FROM failed_events WHERE function = ? ORDER BY seq", (function,))
        return [_event(row) for row in rows]

    def take(self, function: str) -> list[FailedEvent]:
        """Remove and return the function's failed events (within the caller's transaction)."""
        events = self.of(function)
        self.db.execute("DELETE FROM failed_events WHERE function = ? AND seq <= ?",
                        (function, events[-1].seq if events else -1))
        return events

    def forget(self, function: str) -> None:
        self.db.execute("DELETE FROM failed_events WHERE function = ?", (function,))


def _event(row: sqlite3.Row) -> FailedEvent:
    return FailedEvent(row["seq"], row["request_id"], row["function"], row["qualifier"], bytes(row["payload"]),
                       row["failed_at"], row["condition"], row["attempts"], row["error"],
                       tuple(row["targets"].split()))
