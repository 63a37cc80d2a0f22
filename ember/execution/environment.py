"""One execution environment: a runtime in a sandbox, and the Runtime API state it moves through.

The moves are ember.execution.states.ENVIRONMENT_MOVES. A runtime that breaks the Runtime API's
rules gets a RuntimeApiViolation: InvalidStateTransition for a move not allowed from where it is,
InvalidRequestID for a request id that is not the one in flight, as AWS's emulator answers.
Nothing here depends on where the sandbox is or on the runtime being Ember's own: any client of
the Runtime API (awslambdaric, a `bootstrap`) fits, and any Sandbox (a local one, a fake).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from ember.execution.backend import ListenerFactory, LogSink, RuntimeListener, Sandbox
from ember.execution.model import (
    INIT_TIMEOUT_S,
    MAX_RESPONSE_BYTES,
    MAX_STREAMED_BYTES,
    ON_DEMAND,
    RESPONSE_TOO_LARGE,
    RUNTIME_EXIT_ERROR,
    RUNTIME_INVALID_ENTRYPOINT,
    RUNTIME_OUT_OF_MEMORY,
    SANDBOX_TIMEDOUT,
    CallRecord,
    EnvironmentSpec,
    Invocation,
)
from ember.execution.outcomes import error_type_of, exit_reason, failure, outcome_with_request_id
from ember.execution.states import ENVIRONMENT_MOVES, EnvState, moved
from ember.execution.variables import lambda_environment
from ember.execution.violations import (
    EnvironmentDestroyed,
    InvalidRequestID,
    InvalidStateTransition,
    PayloadTooLarge,
)
from ember.observe.log_stream import TailBuffer
from ember.observe.platform_lines import end_line, init_start_line, start_line, timeout_line
from ember.runtimes import runtime_version

# An environment idle this long after its runtime asked for work is frozen (see _idle_until_invoked).
FREEZE_AFTER_S = 0.002
InitResult = CallRecord | str | None  # None: initialised; a record: the runtime's init error; str: it exited


class Environment:
    """Fields set in `start` are frozen afterwards; the rest change only on the event loop."""

    def __init__(self, spec: EnvironmentSpec, sandbox: Sandbox, log: LogSink, open_listener: ListenerFactory,
                 on_dead: Callable[[Environment], None]) -> None:
        self.spec = spec
        self.sandbox = sandbox
        self.log = log
        self.state = EnvState.STARTING
        self.dead_reason: str | None = None
        self.init_ms: float | None = None
        self.last_used = time.monotonic()
        self._open_listener = open_listener
        self._on_dead = on_dead
        self._listener: RuntimeListener | None = None
        self._started = 0.0
        self._served = False
        self._report_due = False  # a call ended and its REPORT line is still to come
        self._peak_mb = 0
        self._init_done: asyncio.Future[InitResult] = asyncio.get_running_loop().create_future()
        self._init_error_type: str | None = None
        self._next_waiter: asyncio.Future[Invocation] | None = None
        self._freezing: asyncio.TimerHandle | None = None  # a freeze scheduled at `next`, not yet done
        self._request: Invocation | None = None
        self._result: asyncio.Future[CallRecord] | None = None
        self._delivered_ns: int | None = None  # set while the runtime holds the event
        self._taken_ns = 0
        self._cpu_at_delivery: int | None = None
        self._streamed = bytearray()
        self._stream_size = 0
        self._capture: TailBuffer | None = None

    def __repr__(self) -> str:
        return f"<Environment {self.spec.function_name}:{self.spec.version} {self.state.value}>"

    async def start(self) -> None:
        """Start the runtime in its sandbox and serve its Runtime API: inside the sandbox's own
        network when it has one, else on a loopback listener of the host opened first."""
        address = self.sandbox.runtime_address
        if address is None:
            self._listener = await self._open_listener(self, None)
            address = self._listener.address
        variables = lambda_environment(self.spec, address, self.log.name, self.sandbox.task_root,
                                       self.sandbox.runtime_dir, self.sandbox.api_url, self.sandbox.opt_dir)
        self.log.write(init_start_line(runtime_version(self.spec.runtime), self.spec.region), platform=True)
        self._started = time.perf_counter()
        problem = self.sandbox.entrypoint_problem()
        if problem is not None:
            self._refuse_to_start(problem)
            return
        await self.sandbox.launch(variables, self._write_output, self._on_exit)
        sock = self.sandbox.take_runtime_socket()
        if sock is not None:
            self._listener = await self._open_listener(self, sock)
            if self.state is EnvState.DEAD:  # it exited while the listener opened
                self._listener.close()
                self._listener = None

    async def wait_initialised(self, request_id: str = "") -> CallRecord | None:
        """None once the runtime asks for work; the error to return for `request_id` if Init failed."""
        if self._init_done.done():
            result = self._init_done.result()
        else:
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

    async def invoke(self, invocation: Invocation) -> CallRecord:
        """Run one request, Init first on a cold start; whatever happens, one record comes back."""
        begun = time.perf_counter_ns()
        self._wake()  # first: the runtime wakes while the call is set up, before it is handed the event
        thawed = time.perf_counter_ns()
        cold = not self._served and self.spec.initialization_type == ON_DEMAND
        self._served = self._report_due = True
        init_failure = await self.wait_initialised(invocation.request_id)
        ready = time.perf_counter_ns()
        self._taken_ns = 0
        self._capture = TailBuffer()
        self._write_log(start_line(invocation.request_id, self.spec.version), platform=True)
        record = init_failure or await self._run(invocation)
        self.sandbox.flush_output()
        if record.status == "timeout":
            self._write_log(timeout_line(invocation.request_id, record.duration_ms), platform=True)
        self._write_log(end_line(invocation.request_id), platform=True)
        record.log, self._capture = self._capture.text(), None
        record.cold, record.init_ms = cold, self.init_ms if cold else None
        record.thaw_ms, record.init_wait_ms = (thawed - begun) / 1e6, (ready - thawed) / 1e6
        record.deliver_ms = (self._taken_ns - ready) / 1e6 if self._taken_ns else 0.0
        record.max_memory_mb = self.peak_memory_mb()
        self.last_used = time.monotonic()
        return record

    def log_report(self, line: str) -> None:
        """The call's last line; the stream of a dead environment closes after it."""
        self.log.write(line, platform=True)
        self._report_due = False
        if self.state is EnvState.DEAD:
            self.log.close()

    def peak_memory_mb(self) -> int:
        """The sandbox's high-water mark over its whole life in MB, at most MemorySize (AWS never
        reports more); the last reading once it is gone."""
        peak_bytes = self.sandbox.peak_memory_bytes()
        if peak_bytes is not None:
            peak_mb = min(round(peak_bytes / (1024 * 1024)), self.spec.memory_mb)
            self._peak_mb = max(self._peak_mb, peak_mb)
        return self._peak_mb

    def destroy(self, reason: str) -> None:
        """Kill the runtime and close the listener; idempotent, first reason wins."""
        if self.state is not EnvState.DEAD:
            self.dead_reason = reason
            self._move(EnvState.DEAD)
        self.sandbox.kill()
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.set_exception(EnvironmentDestroyed(reason))
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    async def _run(self, invocation: Invocation) -> CallRecord:
        """Hand the event to the runtime and wait for its answer; a timeout destroys this environment only."""
        if self.state is EnvState.DEAD:  # it died between its Init and this call
            return failure(self._exit_error_type(), f"RequestId: {invocation.request_id} Error: "
                           f"{self.dead_reason}", "crash")
        self._move(EnvState.BUSY)
        self._request = invocation
        self._result = asyncio.get_running_loop().create_future()
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.set_result(invocation)
        try:
            async with asyncio.timeout(self.spec.timeout_s):
                record = await self._result  # resolved only while not done: a timeout's cancel is safe
        except TimeoutError:
            record = failure(SANDBOX_TIMEDOUT, f"RequestId: {invocation.request_id} Error: Task timed out "
                             f"after {self.spec.timeout_s:.2f} seconds", "timeout")
            record.duration_ms = self.spec.timeout_s * 1000.0
            self.destroy("timeout")
        finally:
            self._request, self._result = None, None
        if self.state is EnvState.BUSY:
            self._move(EnvState.IDLE)
        return record

    # The Runtime API, called by the listener of this environment.

    async def runtime_next(self) -> Invocation:
        waiting = self._next_waiter is not None and not self._next_waiter.done()
        if waiting or self.state is EnvState.DEAD or self._delivered_ns is not None:
            raise InvalidStateTransition()
        if self.state is EnvState.STARTING:
            self._finish_init()
        if self._request is not None:
            invocation = self._request
        else:
            invocation = await self._idle_until_invoked()
        self._delivered_ns = self._taken_ns = time.perf_counter_ns()
        self._cpu_at_delivery = self.sandbox.cpu_usage_ns()
        return invocation

    async def _idle_until_invoked(self) -> Invocation:
        """Frozen while no event waits, as AWS freezes an environment whose runtime called `next`;
        thawed before the runtime hears of its event (or of its death: a killed sandbox is thawed too).
        The freeze comes FREEZE_AFTER_S later and is dropped if an event comes first: back-to-back calls
        pay neither the freeze nor the thaw (~0.2 ms together), and background work runs at most that
        long after a call."""
        loop = asyncio.get_running_loop()
        self._next_waiter = loop.create_future()
        self._freezing = loop.call_later(FREEZE_AFTER_S, self.sandbox.freeze)
        try:
            return await self._next_waiter
        finally:
            self._next_waiter = None
            self._wake()

    def _wake(self) -> None:
        """Thaw (and drop a freeze not yet done); harmless when not frozen."""
        if self._freezing is not None:
            self._freezing.cancel()
            self._freezing = None
        self.sandbox.thaw()

    def runtime_response(self, request_id: str, body: bytes) -> None:
        self._check_request(request_id)
        if len(body) > MAX_RESPONSE_BYTES:
            self._too_large(MAX_RESPONSE_BYTES)
        self._resolve(CallRecord(body))

    def runtime_stream_chunk(self, request_id: str, chunk: bytes) -> None:
        """A piece of a streamed response (`Lambda-Runtime-Function-Response-Mode: streaming`): to the
        caller at once when it invoked with a response stream, else kept for one whole payload."""
        self._check_request(request_id)
        assert self._request is not None
        self._stream_size += len(chunk)
        limit = MAX_STREAMED_BYTES if self._request.stream is not None else MAX_RESPONSE_BYTES
        if self._stream_size > limit:
            self._streamed, self._stream_size = bytearray(), 0
            self._too_large(limit)
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
            self._resolve(CallRecord(body, error_type, "error", streamed=streamed))
        else:
            self._resolve(CallRecord(b"" if streamed else payload, streamed=streamed))

    def runtime_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        self._check_request(request_id)
        if len(body) > MAX_RESPONSE_BYTES:
            self._too_large(MAX_RESPONSE_BYTES)
        self._resolve(CallRecord(body, error_type or error_type_of(body), "error"))

    def runtime_init_error(self, body: bytes, error_type: str | None) -> None:
        if self.state is not EnvState.STARTING or self._init_done.done():
            raise InvalidStateTransition()
        self._finish_init(outcome_with_request_id(body, error_type, ""))

    def _move(self, new: EnvState) -> None:
        self.state = moved(ENVIRONMENT_MOVES, self.state, new, self)

    def _write_output(self, line: str) -> None:
        self._write_log(line, platform=False)

    def _write_log(self, message: str, platform: bool) -> None:
        """One log line: written at once between calls; during one, kept for its Tail and written
        unflushed, then flushed with the REPORT line that follows END (one write per call)."""
        if self._capture is None:
            self.log.write(message, platform=platform)
            return
        self._capture.append(message)
        self.log.write(message, flush=False, platform=platform)

    def _too_large(self, limit: int) -> None:
        message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        self._resolve(failure(RESPONSE_TOO_LARGE, message, "error"))
        raise PayloadTooLarge(limit)

    def _refuse_to_start(self, reason: str) -> None:
        """The runtime can't even be started: Init fails with Runtime.InvalidEntrypoint, as on AWS."""
        self.init_ms = 0.0
        self._init_error_type = RUNTIME_INVALID_ENTRYPOINT
        self._init_done.set_result(reason)
        self.destroy(reason)
        self.sandbox.release()
        asyncio.get_running_loop().call_soon(self._on_dead, self)  # after the caller holds the environment

    def _finish_init(self, init_failure: CallRecord | None = None) -> None:
        self.init_ms = (time.perf_counter() - self._started) * 1000.0
        self.peak_memory_mb()  # a first reading, in case the runtime dies before the call ends
        if init_failure is None:
            self._move(EnvState.IDLE)
            self.sandbox.end_init_burst()
        self._init_done.set_result(init_failure)

    def _check_request(self, request_id: str) -> None:
        if self._request is None or self._delivered_ns is None or request_id != self._request.request_id:
            raise InvalidRequestID()

    def _resolve(self, record: CallRecord) -> None:
        assert self._delivered_ns is not None
        record.duration_ms = (time.perf_counter_ns() - self._delivered_ns) / 1e6
        record.cpu_ms = self._cpu_since_delivery()
        self._delivered_ns, self._request = None, None  # a `next` from here on waits for the next event
        if self._result is not None and not self._result.done():
            self._result.set_result(record)

    def _cpu_since_delivery(self) -> float | None:
        now = self.sandbox.cpu_usage_ns()
        if now is None or self._cpu_at_delivery is None:
            return None
        return (now - self._cpu_at_delivery) / 1e6

    def _on_exit(self, returncode: int) -> None:
        reason = exit_reason(returncode)
        if not self._init_done.done():
            if self.init_ms is None:
                self.init_ms = (time.perf_counter() - self._started) * 1000.0
            self._init_error_type = self._init_error_type or self._exit_error_type()
            self._init_done.set_result(reason)
        if self._result is not None and not self._result.done():
            request_id = self._request.request_id if self._request else ""
            record = failure(self._exit_error_type(), f"RequestId: {request_id} Error: {reason}", "crash")
            if self._delivered_ns is not None:
                record.duration_ms = (time.perf_counter_ns() - self._delivered_ns) / 1e6
            self._result.set_result(record)
        self.destroy(reason)
        self.peak_memory_mb()  # the last reading, before the sandbox goes
        self.sandbox.release()
        if not self._report_due:
            self.log.close()
        self._on_dead(self)

    def _exit_error_type(self) -> str:
        """Lambda's error for a runtime that died: out of memory when the kernel's OOM killer did it."""
        return RUNTIME_OUT_OF_MEMORY if self.sandbox.oom_killed() else RUNTIME_EXIT_ERROR
