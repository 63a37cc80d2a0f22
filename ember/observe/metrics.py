"""Prometheus metrics of every call and every throttle, for `GET /metrics`.

Names follow OpenTelemetry's FaaS semantic conventions (`faas_*`) where they exist; Ember's own
(`ember_*`) add throttles and what a call is billed. Each server owns one `Metrics` and so one
`CollectorRegistry`, never the process-wide default, so several servers in one process don't clash.
Values come in plain (this is the bottom layer): the invoker and the limiter fill them in.
"""

from __future__ import annotations

from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from ember.observe.metered_call import MeteredCall

MIB = 1024 * 1024
# Lambda's range: a warm no-op takes ~1 ms, the longest allowed call 15 minutes.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                    120.0, 300.0, 600.0, 900.0)
# A warm no-op's environment uses ~0.2 ms of CPU.
CPU_BUCKETS = (0.0001, 0.00025, 0.0005, *DURATION_BUCKETS)
# Max Memory Used, from a hello world (~4 MB) to the largest MemorySize (10,240 MB).
MEMORY_BUCKETS = tuple(mb * MIB for mb in (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10240))
CALL_LABELS = ("faas_name", "faas_version", "faas_trigger")
BILLING_LABELS = (*CALL_LABELS, "price_model")
# OpenTelemetry's faas.trigger for Ember's invocation sources: a request over HTTP to the function
# (function URLs, API Gateway) is "http", a schedule "timer"; the Invoke API (an SDK calling Lambda,
# not the function's own HTTP endpoint), async events and anything else are "other".
TRIGGERS = {"url": "http", "apigateway": "http", "schedule": "timer", "scheduler": "timer"}


def trigger_of(source: str) -> str:
    return TRIGGERS.get(source, "other")


class _Children(NamedTuple):
    """Each metric's child for one label set, in the order `observe_call` unpacks them."""

    invocations: Counter
    errors: Counter
    timeouts: Counter
    coldstarts: Counter
    duration: Histogram
    init: Histogram
    memory: Histogram
    cpu: Histogram
    billed: Histogram
    gb_seconds: Counter
    cost: Counter


class Metrics:
    """One server's metrics and the registry that exposes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, ...], _Children] = {}
        self._define()

    def _define(self) -> None:
        def counter(name: str, doc: str, labels: tuple[str, ...] = CALL_LABELS) -> Counter:
            return Counter(name, doc, labels, registry=self.registry)

        def histogram(name: str, doc: str, buckets: tuple[float, ...],
                      labels: tuple[str, ...] = CALL_LABELS) -> Histogram:
            return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

        self.invocations = counter("faas_invocations_total", "Calls that ran, whatever their outcome.")
        self.errors = counter("faas_errors_total", "Calls that ended in an error (timeouts and crashes included).")
        self.timeouts = counter("faas_timeouts_total", "Calls that timed out (REPORT's Status: timeout).")
        self.coldstarts = counter("faas_coldstarts_total", "Calls that started a new environment.")
        self.duration = histogram("faas_invoke_duration_seconds", "REPORT's Duration.", DURATION_BUCKETS)
        self.init = histogram("faas_init_duration_seconds", "REPORT's Init Duration (cold starts).",
                              DURATION_BUCKETS)
        self.memory = histogram("faas_mem_usage_bytes", "REPORT's Max Memory Used.", MEMORY_BUCKETS)
        self.cpu = histogram("faas_cpu_usage_seconds", "CPU time of the environment during the call.", CPU_BUCKETS)
        self.throttles = counter("ember_throttles_total", "Calls refused a concurrency slot (429), by Reason.",
                                 ("faas_name", "reason"))
        self.billed = histogram("ember_billed_duration_seconds", "REPORT's Billed Duration.", DURATION_BUCKETS,
                                BILLING_LABELS)
        self.gb_seconds = counter("ember_gb_seconds_total", "Memory GB times billed seconds.", BILLING_LABELS)
        self.cost = counter("ember_cost_usd_total", "What calls cost before any free tier, in USD.", BILLING_LABELS)
        self.scheduled = counter("ember_scheduled_invocations_total",
                                 "Runs of rules' and schedules' targets: sent to the async queue, or failed (no "
                                 "permission, no such function), as AWS's Invocations and FailedInvocations.",
                                 ("kind", "name", "outcome"))

    def observe_call(self, call: MeteredCall) -> None:
        """Count one finished call; the invoker calls this exactly once per call."""
        invocations, errors, timeouts, coldstarts, duration, init, memory, cpu, billed, gb_seconds, cost = \
            self._labelled(call)
        invocations.inc()
        if call.failed:
            errors.inc()
        if call.timed_out:
            timeouts.inc()
        duration.observe(call.duration_ms / 1000)
        memory.observe(call.max_memory_mb * MIB)
        if call.cold:
            coldstarts.inc()
            if call.init_ms is not None:
                init.observe(call.init_ms / 1000)
        if call.cpu_ms is not None:
            cpu.observe(call.cpu_ms / 1000)
        billed.observe(call.billed_ms / 1000)
        gb_seconds.inc(call.gb_seconds)
        cost.inc(call.cost_usd)

    def observe_scheduled(self, kind: str, name: str, sent: bool) -> None:
        """One target of a rule (`kind` rule) or schedule (`schedule`, named group/name) run, or refused."""
        self.scheduled.labels(kind, name, "sent" if sent else "failed").inc()

    def observe_throttle(self, function: str, reason: str) -> None:
        self.throttles.labels(function, reason).inc()

    def exposition(self) -> bytes:
        """The text exposition format of everything observed so far."""
        return generate_latest(self.registry)

    def _labelled(self, call: MeteredCall) -> _Children:
        """Each metric's child for the call's labels, looked up once per label set (a warm call is ~1 ms)."""
        key = (call.function, call.version, trigger_of(call.source), call.price_model)
        children = self._children.get(key)
        if children is None:
            labels, billing = key[:3], key
            children = self._children[key] = _Children(
                self.invocations.labels(*labels), self.errors.labels(*labels), self.timeouts.labels(*labels),
                self.coldstarts.labels(*labels), self.duration.labels(*labels), self.init.labels(*labels),
                self.memory.labels(*labels), self.cpu.labels(*labels),
                self.billed.labels(*billing), self.gb_seconds.labels(*billing), self.cost.labels(*billing))
        return children
