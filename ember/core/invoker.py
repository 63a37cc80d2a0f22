"""The invoker: the one way a function runs, whatever triggered it.

resolve the function → pick its pool → take an environment (cold: wait for Init) → run the
request → log START/END/REPORT → meter and record → hand the environment back.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass, field

from ember.arns import function_arn
from ember.billing.prices import PriceModel
from ember.core.aliases import AliasStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.functions import LATEST, FunctionRecord, FunctionRegistry
from ember.core.records import InvocationRecords
from ember.core.versions import VersionStore
from ember.execution.environment import Environment
from ember.execution.model import EnvironmentSpec, Invocation, Outcome
from ember.execution.pool import Pool
from ember.execution.pools import PoolManager
from ember.observe.metrics import CallSample, Metrics
from ember.observe.platform_lines import Report, end_line, report_line, start_line
from ember.observe.spans import Spans

# REPORT's Status field: absent for a success or an error the function reported itself.
REPORT_STATUS = {"timeout": "timeout", "init_timeout": "timeout", "crash": "error"}


@dataclass
class InvokeRequest:
    function: str
    payload: bytes
    qualifier: str | None = None
    source: str = "invoke"
    tail: bool = False
    client_context: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    stream: asyncio.Queue[bytes] | None = None  # InvokeWithResponseStream: chunks as the runtime streams them
    spans: Spans = field(default_factory=Spans)


@dataclass
class InvokeResult:
    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_tail: str | None = None
    server_timing: str = ""
    streamed: bool = False  # the payload already went out through InvokeRequest.stream


@dataclass
class Meter:
    """What one call cost, as REPORT prints it and the invocations table keeps it."""

    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None
    cost_usd: float  # the request plus its billed GB-seconds, before any free tier


class Invoker:
    def __init__(self, registry: FunctionRegistry, versions: VersionStore, aliases: AliasStore,
                 limiter: ConcurrencyLimiter, pools: PoolManager, records: InvocationRecords, region: str,
                 prices: PriceModel, metrics: Metrics) -> None:
        self.registry = registry
        self.limiter = limiter
        self.versions = versions
        self.aliases = aliases
        self.pools = pools
        self.records = records
        self._specs: dict[tuple[str, str, str], EnvironmentSpec] = {}
        self.region = region
        self.prices = prices
        self.metrics = metrics
        registry.subscribe(pools.retire)

    def resolve(self, name: str, qualifier: str | None, route: bool = False) -> FunctionRecord:
        """The version a qualifier points at: `$LATEST`, a number, or an alias (weighted only when `route`)."""
        record = self.registry.get(name)
        if qualifier is not None and not qualifier.isdigit() and qualifier != LATEST:
            if route:
                qualifier = self.aliases.route(name, qualifier)
            else:
                qualifier = self.aliases.get(name, qualifier)["FunctionVersion"]
        if qualifier in (None, LATEST):
            return record
        return self.versions.get(name, qualifier)

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        started_at = time.time()
        record = self.resolve(request.function, request.qualifier, route=True)
        with self.limiter.slot(record.name, record.version):
            pool = self.pool_of(record)
            request.spans.mark("acquiring")
            env, cold = await pool.acquire()
            request.spans.mark("acquired")
            try:
                outcome, meter = await self._run(env, cold, request, record)
                tail = self._log_close(env, request.request_id, outcome, meter)
            finally:
                pool.release(env)
        self._record(request, record, started_at, cold, outcome, meter)
        return InvokeResult(
            request.request_id, outcome.payload, record.version,
            function_error="Unhandled" if outcome.failed else None, streamed=outcome.streamed,
            log_tail=tail if request.tail else None, server_timing=self._finish_spans(request.spans, outcome),
        )

    def pool_of(self, record: FunctionRecord) -> Pool:
        """The pool of this function version's current revision."""
        return self.pools.pool_for(self._spec(record))

    async def _run(self, env: Environment, cold: bool, request: InvokeRequest,
                   record: FunctionRecord) -> tuple[Outcome, Meter]:
        failure = await env.wait_initialised(request.request_id) if cold else None
        request.spans.mark("initialised")
        env.log.start_capture()
        env.log.write(start_line(request.request_id, record.version))
        outcome = failure or await env.invoke(self._invocation(request, record))
        request.spans.mark("responded")
        env.flush_output()
        return outcome, self._meter(record, outcome, env, cold)

    def _meter(self, record: FunctionRecord, outcome: Outcome, env: Environment, cold: bool) -> Meter:
        """The call as AWS bills it under the server's price model (2025: a cold start's Init too)."""
        memory = int(record.config["MemorySize"])
        init_ms = env.init_ms if cold else None
        billed = self.prices.billed_ms(outcome.duration_ms, init_ms)
        cost = self.prices.call_cost(memory, billed, arch_of(record))
        return Meter(outcome.duration_ms, billed, memory, min(memory, env.peak_memory_mb()), init_ms, float(cost))

    @staticmethod
    def _finish_spans(spans: Spans, outcome: Outcome) -> str:
        if outcome.delivered_ns:
            spans.mark("taken", outcome.delivered_ns)
        spans.mark("done")
        return spans.server_timing()

    def _log_close(self, env: Environment, request_id: str, outcome: Outcome, meter: Meter) -> str:
        """END and REPORT, then the Tail: what this request logged, START through REPORT."""
        if outcome.status == "timeout":
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            env.log.write(f"{stamp}Z {request_id} Task timed out after {outcome.duration_ms / 1000:.2f} seconds\n")
        env.log.write(end_line(request_id))
        env.log.write(report_line(Report(request_id, meter.duration_ms, meter.billed_ms, meter.memory_mb,
                                         meter.max_memory_mb, meter.init_ms, REPORT_STATUS.get(outcome.status))))
        return env.log.stop_capture()

    def _invocation(self, request: InvokeRequest, record: FunctionRecord) -> Invocation:
        deadline_ms = int(time.time() * 1000) + int(record.config["Timeout"]) * 1000
        trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
        return Invocation(request.request_id, request.payload, deadline_ms,
                          function_arn(self.region, record.name, request.qualifier), trace,
                          client_context=request.client_context, stream=request.stream)

    def _spec(self, record: FunctionRecord) -> EnvironmentSpec:
        """The environment spec of a function revision, built once per revision."""
        key = (record.name, record.version, record.config["RevisionId"])
        spec = self._specs.get(key)
        if spec is None:
            if len(self._specs) > 4096:
                self._specs.clear()
            spec = self._specs[key] = self._build_spec(record)
        return spec

    def _build_spec(self, record: FunctionRecord) -> EnvironmentSpec:
        config = record.config
        return EnvironmentSpec(
            function_name=record.name, version=record.version, runtime=config["Runtime"], handler=config["Handler"],
            memory_mb=int(config["MemorySize"]), timeout_s=int(config["Timeout"]),
            code_dir=self.registry.code.tree(record.code_sha_hex),
            variables=dict(config["Environment"]["Variables"]), region=self.region,
            revision=config["RevisionId"], ephemeral_mb=int(config["EphemeralStorage"]["Size"]),
        )

    def _record(self, request: InvokeRequest, record: FunctionRecord, started_at: float, cold: bool,
                outcome: Outcome, meter: Meter) -> None:
        self.records.add((request.request_id, record.name, record.version, request.source, started_at,
                          meter.duration_ms, meter.billed_ms, meter.memory_mb, meter.max_memory_mb, meter.init_ms,
                          int(cold), outcome.status, outcome.error_type, outcome.cpu_ms, meter.cost_usd,
                          self.prices.name, arch_of(record)))
        self._observe(request, record, cold, outcome, meter)

    def _observe(self, request: InvokeRequest, record: FunctionRecord, cold: bool, outcome: Outcome,
                 meter: Meter) -> None:
        """The call in the server's metrics, once, beside its record: every trigger passes here."""
        self.metrics.observe_call(CallSample(
            function=record.name, version=record.version, source=request.source, failed=outcome.failed,
            timed_out=REPORT_STATUS.get(outcome.status) == "timeout", cold=cold, duration_ms=meter.duration_ms,
            init_ms=meter.init_ms, max_memory_mb=meter.max_memory_mb, cpu_ms=outcome.cpu_ms,
            billed_ms=meter.billed_ms, gb_seconds=float(self.prices.gb_seconds(meter.memory_mb, meter.billed_ms)),
            cost_usd=meter.cost_usd, price_model=self.prices.name))


def arch_of(record: FunctionRecord) -> str:
    return str((record.config.get("Architectures") or ["x86_64"])[0])
