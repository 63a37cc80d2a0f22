"""One execution environment: a runtime process and the Runtime API state it moves through.

    STARTING ──first `next`──▶ IDLE ──invoke──▶ BUSY ──response/error──▶ IDLE …
        │ init/error, exit, init timeout         │ timeout, exit
        ▼                                        ▼
       DEAD ◀────────────── destroy(reason) ── DEAD

Every move not drawn is illegal and answered 403 InvalidStateTransition (or 400 InvalidRequestID
for a request id that is not the one in flight), as AWS's emulator does. Nothing here depends on
the runtime being Ember's own: any client of the Runtime API (awslambdaric, a `bootstrap`) fits.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from ember.errors import RuntimeApiError
from ember.execution.cgroups import EnvironmentCgroup
from ember.execution.model import (
    INIT_TIMEOUT_S,
    MAX_RESPONSE_BYTES,
    MAX_STREAMED_BYTES,
    RESPONSE_TOO_LARGE,
    RUNTIME_EXIT_ERROR,
    RUNTIME_INVALID_ENTRYPOINT,
    RUNTIME_OUT_OF_MEMORY,
    SANDBOX_TIMEDOUT,
    EnvironmentSpec,
    Invocation,
    Outcome,
)
from ember.execution.outcomes import (
    error_type_of,
    exit_reason,
    failure,
    outcome_with_request_id,
)
from ember.execution.process import SandboxProcess
from ember.execution.sandbox import Sandbox
from ember.execution.variables import lambda_environment
from ember.observe.log_stream import LogStream
from ember.observe.platform_lines import init_start_line


class EnvState(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


class RuntimeListener(Protocol):
    address: str

    def close(self) -> None: ...


ListenerFactory = Callable[["Environment"], Awaitable[RuntimeListener]]


class Environment:
    """Fields set in `start` are frozen afterwards; the rest change only on the event loop."""

    def __init__(self, spec: EnvironmentSpec, log: LogStream, open_listener: ListenerFactory,
                 on_dead: Callable[[Environment], None], sandbox: Sandbox) -> None:
        self.spec = spec
        self.sandbox = sandbox
        self.log = log
        self._open_listener = open_listener
        self._on_dead = on_dead
        self.state = EnvState.STARTING
        self.dead_reason: str | None = None
        self.init_ms: float | None = None
        self.last_used = time.monotonic()
        self._started = 0.0
        self._peak_mb = 0
        self._process: SandboxProcess | None = None
        self._listener: RuntimeListener | None = None
        # None: initialised; Outcome: the runtime reported an init error; str: it exited (the reason).
        self._init_done: asyncio.Future[Outcome | str | None] = asyncio.get_running_loop().create_future()
        self._next_waiter: asyncio.Future[Invocation] | None = None
        self._request: Invocation | None = None
        self._delivered_ns: int | None = None
        self._cpu_at_delivery: int | None = None
        self._init_error_type: str | None = None
        self._streamed = bytearray()
        self._stream_size = 0
        self._result: asyncio.Future[Outcome] | None = None

    @property
    def cgroup(self) -> EnvironmentCgroup | None:
        return self.sandbox.cgroup

    def __repr__(self) -> str:
        pid = self._process.pid if self._process else None
        return f"<Environment {self.spec.function_name}:{self.spec.version} pid={pid} {self.state.value}>"

    async def start(self) -> None:
        """Open this environment's Runtime API listener, then start the runtime in its sandbox."""
        self._listener = await self._open_listener(self)
        variables = lambda_environment(self.spec, self._listener.address, self.log.name,
                                       self.sandbox.task_root, self.sandbox.runtime_dir)
        self.log.write(init_start_line(self.spec.runtime, self.spec.region))
        self._started = time.perf_counter()
        problem = self.sandbox.entrypoint_problem()
        if problem is not None:
            self._refuse_to_start(problem)
            return
        self._process = await self.sandbox.launch(variables, self.log.write, self._on_exit)

    async def wait_initialised(self, request_id: str) -> Outcome | None:
        """None once the runtime asks for work; the error to return for `request_id` if Init failed."""
        try:
            async with asyncio.timeout(INIT_TIMEOUT_S):
                result = await asyncio.shield(self._init_done)
        except TimeoutError:
            self.init_ms = INIT_TIMEOUT_S * 1000.0
            self.destroy("init timeout")
            message = f"RequestId: {request_id} Error: Init timed out after {INIT_TIMEOUT_S:.2f} seconds"
            return failure(SANDBOX_TIMEDOUT, message, "init_timeout")
        if isinstance(result, str):
            error_type = self._init_error_type or self._exit_error_type()
            return failure(error_type, f"RequestId: {request_id} Error: {result}", "crash")
        return result

    async def invoke(self, invocation: Invocation) -> Outcome:
        """Run one request; a timeout destroys this environment (and only this one)."""
        if self._request is not None or self.state is not EnvState.IDLE:
            raise RuntimeError(f"{self!r} is not idle: one request per environment")
        self.state = EnvState.BUSY
        self._request, self._delivered_ns = invocation, None
        self._result = asyncio.get_running_loop().create_future()
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.set_result(invocation)
        try:
            async with asyncio.timeout(self.spec.timeout_s):
                outcome = await asyncio.shield(self._result)
        except TimeoutError:
            outcome = failure(SANDBOX_TIMEDOUT, f"RequestId: {invocation.request_id} Error: Task timed out "
                               f"after {self.spec.timeout_s:.2f} seconds", "timeout")
            outcome.duration_ms = self.spec.timeout_s * 1000.0
            self.destroy("timeout")
        finally:
            self._request, self._result = None, None
        if self.state is EnvState.BUSY:
            self.state = EnvState.IDLE
        self.last_used = time.monotonic()
        return outcome

    def flush_output(self) -> None:
        """Pull in what the runtime printed before it answered, so it lands before END."""
        if self._process is not None:
            self._process.drain_output()
            self._process.flush_partial()

    def peak_memory_mb(self) -> int:
        """Peak memory of the environment in MB: the cgroup's high-water mark (every process, page cache
        included, as Lambda counts it), else the runtime process's VmHWM; the last reading once gone."""
        peak_bytes = self.cgroup.peak_memory_bytes() if self.cgroup is not None else None
        if peak_bytes is None and self._process is not None:
            peak_kb = self._process.peak_rss_kb()
            peak_bytes = peak_kb * 1024 if peak_kb is not None else None
        if peak_bytes is not None:
            self._peak_mb = max(self._peak_mb, round(peak_bytes / (1024 * 1024)))
        return self._peak_mb

    def destroy(self, reason: str) -> None:
        """Kill the runtime and close the listener; idempotent, first reason wins."""
        if self.dead_reason is None:
            self.dead_reason = reason
        self.state = EnvState.DEAD
        if self._process is not None:
            self._process.kill()
        self.sandbox.release()
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.set_exception(RuntimeApiError(500, "Runtime.Destroyed", reason))
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    # The Runtime API, called by ember.api.runtime_api for this environment's listener.

    async def runtime_next(self) -> Invocation:
        if self._next_waiter is not None and not self._next_waiter.done():
            raise RuntimeApiError(403, "InvalidStateTransition", "State transition is not allowed")
        if self.state is EnvState.DEAD:
            raise RuntimeApiError(403, "InvalidStateTransition", "State transition is not allowed")
        if self._delivered_ns is not None:
            raise RuntimeApiError(403, "InvalidStateTransition", "State transition is not allowed")
        if self.state is EnvState.STARTING:
            self._finish_init()
        if self._request is not None:
            invocation = self._request
        else:
            self._next_waiter = asyncio.get_running_loop().create_future()
            invocation = await self._next_waiter
            self._next_waiter = None
        self._delivered_ns = time.perf_counter_ns()
        self._cpu_at_delivery = self.cgroup.cpu_usage_ns() if self.cgroup is not None else None
        return invocation

    def runtime_response(self, request_id: str, body: bytes) -> None:
        self._check_request(request_id)
        if len(body) > MAX_RESPONSE_BYTES:
            message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            self._resolve(failure(RESPONSE_TOO_LARGE, message, "error"))
            raise RuntimeApiError(413, "RequestEntityTooLarge",
                                  f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).")
        self._resolve(Outcome(body))

    def runtime_stream_chunk(self, request_id: str, chunk: bytes) -> None:
        """A piece of a streamed response (`Lambda-Runtime-Function-Response-Mode: streaming`): to the
        caller at once when it invoked with a response stream, else kept for one whole payload."""
        self._check_request(request_id)
        assert self._request is not None
        self._stream_size += len(chunk)
        limit = MAX_STREAMED_BYTES if self._request.stream is not None else MAX_RESPONSE_BYTES
        if self._stream_size > limit:
            self._streamed, self._stream_size = bytearray(), 0
            message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
            self._resolve(failure(RESPONSE_TOO_LARGE, message, "error"))
            raise RuntimeApiError(413, "RequestEntityTooLarge", f"Exceeded maximum allowed payload size ({limit} bytes).")
        if self._request.stream is not None:
            self._request.stream.put_nowait(chunk)
        else:
            self._streamed.extend(chunk)

    def runtime_stream_end(self, request_id: str, error_type: str | None = None, error_body: bytes = b"") -> None:
        """The streamed response is complete; with `error_type` (from its trailers) the call failed."""
        self._check_request(request_id)
        assert self._request is not None
        streamed = self._request.stream is not None
        payload, self._streamed, self._stream_size = bytes(self._streamed), bytearray(), 0
        if error_type is not None:
            body = error_body or json.dumps({"errorType": error_type, "errorMessage": ""}).encode()
            self._resolve(Outcome(body, error_type, "error", streamed=streamed))
        else:
            self._resolve(Outcome(b"" if streamed else payload, streamed=streamed))

    def runtime_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        self._check_request(request_id)
        self._resolve(Outcome(body, error_type or error_type_of(body), "error"))

    def runtime_init_error(self, body: bytes, error_type: str | None) -> None:
        if self.state is not EnvState.STARTING or self._init_done.done():
            raise RuntimeApiError(403, "InvalidStateTransition", "State transition is not allowed")
        self._finish_init(outcome_with_request_id(body, error_type, ""))

    def _refuse_to_start(self, reason: str) -> None:
        """The runtime can't even be started: Init fails with Runtime.InvalidEntrypoint, as on AWS."""
        self.init_ms = 0.0
        self._init_error_type = RUNTIME_INVALID_ENTRYPOINT
        self._init_done.set_result(reason)
        self.destroy(reason)
        asyncio.get_running_loop().call_soon(self._on_dead, self)

    def _finish_init(self, init_failure: Outcome | None = None) -> None:
        self.init_ms = (time.perf_counter() - self._started) * 1000.0
        self.peak_memory_mb()  # a first reading, in case the runtime dies before the call ends
        if init_failure is None:
            self.state = EnvState.IDLE
            if self.cgroup is not None:
                self.cgroup.throttle()  # Init ran unthrottled, like AWS's init burst
        self._init_done.set_result(init_failure)

    def _cpu_since_delivery(self) -> float | None:
        now = self.cgroup.cpu_usage_ns() if self.cgroup is not None else None
        if now is None or self._cpu_at_delivery is None:
            return None
        return (now - self._cpu_at_delivery) / 1e6

    def _check_request(self, request_id: str) -> None:
        if self._request is None or self._delivered_ns is None or request_id != self._request.request_id:
            raise RuntimeApiError(400, "InvalidRequestID", "Invalid request ID")

    def _resolve(self, outcome: Outcome) -> None:
        assert self._delivered_ns is not None
        outcome.delivered_ns = self._delivered_ns
        outcome.duration_ms = (time.perf_counter_ns() - self._delivered_ns) / 1e6
        outcome.cpu_ms = self._cpu_since_delivery()
        self._delivered_ns = None
        if self._result is not None and not self._result.done():
            self._result.set_result(outcome)

    def _on_exit(self, returncode: int) -> None:
        reason = exit_reason(returncode)
        if not self._init_done.done():
            if self.init_ms is None:
                self.init_ms = (time.perf_counter() - self._started) * 1000.0
            self._init_done.set_result(reason)
        if self._result is not None and not self._result.done():
            request_id = self._request.request_id if self._request else ""
            outcome = failure(self._exit_error_type(), f"RequestId: {request_id} Error: {reason}", "crash")
            if self._delivered_ns is not None:
                outcome.duration_ms = (time.perf_counter_ns() - self._delivered_ns) / 1e6
            self._result.set_result(outcome)
        self.destroy(reason)
        if self._process is not None:
            self._process.close()
        if self.cgroup is not None:
            self.peak_memory_mb()  # the last reading, before the cgroup goes
            self.cgroup.remove()
        self._on_dead(self)

    def _exit_error_type(self) -> str:
        """Lambda's error for a runtime that died: out of memory when the kernel's OOM killer did it."""
        return RUNTIME_OUT_OF_MEMORY if self.cgroup is not None and self.cgroup.oom_killed() else RUNTIME_EXIT_ERROR
