"""One finished call as the invoker metered it: the one shape REPORT, the invocations table and
`/metrics` read. The execution layer's CallRecord says what happened; this adds who asked and what
it cost. Field names are the invocations table's columns (ember.core.records)."""

from __future__ import annotations

from dataclasses import dataclass

TIMED_OUT = ("timeout", "init_timeout")


@dataclass(frozen=True)
class MeteredCall:
    request_id: str
    function: str
    version: str
    source: str  # "invoke" (synchronous), "event" (async queue), "tune", ...
    started_at: float  # epoch seconds when the request arrived
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None  # a cold start's Init Duration
    cold: bool
    status: str  # "success", "error", "timeout", "init_timeout", "crash"
    error_type: str | None
    cpu_ms: float | None  # None where no cgroup measured it
    cost_usd: float  # the request plus its billed GB-seconds, before any free tier
    price_model: str
    arch: str
    gb_seconds: float

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    @property
    def timed_out(self) -> bool:
        return self.status in TIMED_OUT
