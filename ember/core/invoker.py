"""The invoker: the one way a function runs, whatever triggered it.

resolve the function → pick its pool → take an environment → run the request there (the
environment initialises first on a cold start, and logs START…END) → meter its CallRecord once
into a MeteredCall → REPORT from it → hand the environment back → answer the caller, and on the loop's
next turn the invocation record and the metrics from that same call. The invoker knows environments only
through ember.execution.backend.
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
from ember.errors import ServiceException
from ember.execution.backend import EnvironmentLost
from ember.execution.model import CallRecord, EnvironmentSpec, Invocation
from ember.execution.pool import Pool
from ember.execution.pools import PoolManager
from ember.observe.log_stream import TAIL_BYTES
from ember.observe.metered_call import MeteredCall
from ember.observe.metrics import Metrics
from ember.observe.platform_lines import Report, report_line
from ember.observe.spans import Spans

LOST_ATTEMPTS = 3  # a call whose environment went with its node before the call reached it runs elsewhere
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
    node_id: str = ""  # the cluster node that ran it (empty on one machine)


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
            call, report, metered = await self._run(request, record, started_at)
        # On the loop's next turn, after this call's caller is answered and before any later request is read.
        asyncio.get_running_loop().call_soon(self._account, metered)
        tail = (call.log + report).encode()[-TAIL_BYTES:].decode(errors="ignore") if request.tail else None
        return InvokeResult(
            request.request_id, call.payload, record.version, streamed=call.streamed, log_tail=tail,
            function_error="Unhandled" if call.failed else None, server_timing=self._finish_spans(request.spans, call),
            node_id=call.node_id,
        )

    def _account(self, metered: MeteredCall) -> None:
        """The call's row and metrics: off the caller's path, never skipped."""
        self.records.add(metered)
        self.metrics.observe_call(metered)

    async def _run(self, request: InvokeRequest, record: FunctionRecord,
                   started_at: float) -> tuple[CallRecord, str, MeteredCall]:
        """Take an environment and run the call there. One lost with its node before the call reached it
        is replaced (another attempt); one lost while running is AWS's retryable ServiceException."""
        for attempt in range(LOST_ATTEMPTS):
            pool = self.pool_of(record)
            request.spans.mark("acquiring")
            try:
                env = await pool.acquire()
            except EnvironmentLost as exc:
                if attempt + 1 < LOST_ATTEMPTS:
                    continue
                raise ServiceException(f"No node could run the function: {exc}") from exc
            request.spans.mark("acquired")
            try:
                call = await env.invoke(self._invocation(request, record))
                metered = self._meter(request, record, started_at, call)
                report = report_line(Report(request.request_id, metered.duration_ms, metered.billed_ms,
                                            metered.memory_mb, metered.max_memory_mb, metered.init_ms,
                                            REPORT_STATUS.get(call.status)))
                env.log_report(report)
                return call, report, metered
            except EnvironmentLost as exc:
                if exc.started or attempt + 1 == LOST_ATTEMPTS:
                    raise ServiceException(f"The node running the function was lost: {exc}") from exc
            finally:
                pool.release(env)
        raise AssertionError("unreachable")

    def pool_of(self, record: FunctionRecord) -> Pool:
        """The pool of this function version's current revision."""
        return self.pools.pool_for(self._spec(record))

    def _meter(self, request: InvokeRequest, record: FunctionRecord, started_at: float,
               call: CallRecord) -> MeteredCall:
        """The call as AWS bills it under the server's price model (2025: a cold start's Init too)."""
        memory = int(record.config["MemorySize"])
        billed = self.prices.billed_ms(call.duration_ms, call.init_ms)
        arch = arch_of(record)
        return MeteredCall(
            request_id=request.request_id, function=record.name, version=record.version, source=request.source,
            started_at=started_at, duration_ms=call.duration_ms, billed_ms=billed, memory_mb=memory,
            max_memory_mb=min(memory, call.max_memory_mb), init_ms=call.init_ms, cold=call.cold,
            status=call.status, error_type=call.error_type, cpu_ms=call.cpu_ms,
            cost_usd=float(self.prices.call_cost(memory, billed, arch)), price_model=self.prices.name, arch=arch,
            gb_seconds=float(self.prices.gb_seconds(memory, billed)))

    @staticmethod
    def _finish_spans(spans: Spans, call: CallRecord) -> str:
        """The environment's own phase lengths placed after `acquired`: they travel as durations."""
        thawed = spans.marks["acquired"] + int(call.thaw_ms * 1e6)
        spans.mark("thawed", thawed)
        initialised = thawed + int(call.init_wait_ms * 1e6)
        spans.mark("initialised", initialised)
        if call.deliver_ms:
            taken = initialised + int(call.deliver_ms * 1e6)
            spans.mark("taken", taken)
            spans.mark("responded", taken + int(call.duration_ms * 1e6))
        else:
            spans.mark("responded", initialised)
        spans.mark("done")
        return spans.server_timing()

    def _invocation(self, request: InvokeRequest, record: FunctionRecord) -> Invocation:
        deadline_ms = int(time.time() * 1000) + int(record.config["Timeout"]) * 1000
        ids = secrets.token_hex(20)  # one read of the system's randomness for both ids
        trace = f"Root=1-{int(time.time()):08x}-{ids[:24]};Parent={ids[24:]};Sampled=0"
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
        layers = self.registry.layers if config.get("Layers") else None
        return EnvironmentSpec(
            function_name=record.name, version=record.version, runtime=config["Runtime"], handler=config["Handler"],
            memory_mb=int(config["MemorySize"]), timeout_s=int(config["Timeout"]),
            code_dir=self.registry.code.tree(record.code_sha_hex),
            variables=dict(config["Environment"]["Variables"]), region=self.region,
            revision=config["RevisionId"], ephemeral_mb=int(config["EphemeralStorage"]["Size"]),
            role=str(config.get("Role", "")),
            opt_dir=layers.opt_dir(config) if layers else None, layers=layers.digests(config) if layers else (),
        )


def arch_of(record: FunctionRecord) -> str:
    return str((record.config.get("Architectures") or ["x86_64"])[0])
