"""The seam between pools and wherever environments run: this machine (`local`) or a cluster.

A backend's contract (every implementation keeps it; tests/unit/fakes.py keeps it in memory):
- `create(spec, on_dead)` returns an environment whose runtime is initialising (STARTING);
- `EnvironmentHandle.invoke` runs one request and returns one CallRecord, whatever happened:
  a timeout, crash or out-of-memory kill ends that environment only and comes back as a record;
- `destroy(reason)` is idempotent and the first reason is kept;
- `on_dead` is called exactly once per environment, after it died or was destroyed, when every
  process it had is gone and its resources (cgroup, /tmp slot, listener) are released;
- nothing crosses the seam but plain data (EnvironmentSpec, Invocation, CallRecord) and these calls;
- a backend whose environments run elsewhere may lose one with the machine it ran on: `invoke` then
  raises EnvironmentLost instead of returning a record, saying whether the call had been handed over.

The sandbox protocol is one level down: what an Environment needs of the place its runtime runs.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ember.execution.model import CallRecord, EnvironmentSpec, Invocation
from ember.execution.states import EnvState


class EnvironmentHandle(Protocol):
    """One execution environment, wherever it runs."""

    spec: EnvironmentSpec
    state: EnvState
    dead_reason: str | None
    last_used: float  # time.monotonic() when it last finished a call

    async def wait_initialised(self) -> CallRecord | None:
        """None once Init succeeded; the failure (as a record) if it did not."""
        ...

    async def invoke(self, invocation: Invocation) -> CallRecord: ...

    def log_report(self, line: str) -> None:
        """Append the REPORT line the invoker priced to this environment's log stream."""
        ...

    def destroy(self, reason: str) -> None: ...


DeathListener = Callable[[EnvironmentHandle], None]


class EnvironmentLost(Exception):
    """The environment went with its node (or its node agent). `started` False: the call never reached
    it and may run elsewhere; True: it may have run, and only the caller may decide to try again."""

    def __init__(self, message: str, started: bool) -> None:
        super().__init__(message)
        self.started = started


@dataclass(frozen=True)
class BackendStats:
    """What a backend holds right now, for placement and for `/ember/info`."""

    environments: int
    memory_mb: int  # the MemorySize of every live environment, added up


class CredentialIssuer(Protocol):
    """Temporary keys standing for a function's execution role, one set per environment."""

    def issue(self, function_name: str, role_arn: str) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for a new environment."""
        ...

    def revoke(self, credentials: dict[str, str]) -> None:
        """The environment ended: its keys stop working at once."""
        ...

    def admit(self, function_name: str, role_arn: str, credentials: dict[str, str]) -> None:
        """Keys an earlier server issued to an environment this one adopted: they work again, until `revoke`."""
        ...


class Backend(Protocol):
    async def create(self, spec: EnvironmentSpec, on_dead: DeathListener) -> EnvironmentHandle: ...

    def forget(self, function_name: str, version: str | None) -> None:
        """A version changed (None: the function is gone): what it cached can go."""
        ...

    def stats(self) -> BackendStats: ...

    def reap(self, idle_s: float) -> None:
        """Give back what environments gone for `idle_s` left behind (their /tmp)."""
        ...

    def close(self) -> None:
        """Stop everything; every environment dies."""
        ...


@runtime_checkable
class Adopting(Protocol):
    """A backend whose environments may outlive the server that started them (a cluster's agents keep
    theirs for a grace period): a new server's pools take those of their exact spec, warm."""

    def adopt(self, spec: EnvironmentSpec, on_dead: DeathListener) -> list[EnvironmentHandle]:
        """Idle environments started with `spec` (but for their keys), now the caller's; `on_dead` as in `create`."""
        ...


class Sandbox(Protocol):
    """Where one environment's runtime process runs, as the Environment sees it."""

    task_root: str  # LAMBDA_TASK_ROOT inside the sandbox
    runtime_dir: str  # LAMBDA_RUNTIME_DIR inside the sandbox
    opt_dir: str  # where the function's layers are inside the sandbox: /opt, or their real path unisolated
    runtime_address: str | None  # the Runtime API inside a network of its own; None: a host listener
    api_url: str | None  # where the SDKs inside reach Ember's API for nested calls

    def take_runtime_socket(self) -> socket.socket | None:
        """The Runtime API's listening socket, opened inside the sandbox's network, once launched."""
        ...

    def entrypoint_problem(self) -> str | None:
        """Why the runtime can't even be started (Runtime.InvalidEntrypoint), if it can't."""
        ...

    async def launch(self, variables: dict[str, str], on_output: Callable[[str], None],
                     on_exit: Callable[[int], None]) -> None:
        """Start the runtime; `on_output` gets each line it prints, `on_exit` its exit code once."""
        ...

    def flush_output(self) -> None:
        """Hand on everything printed so far, a last line without newline included."""
        ...

    def end_init_burst(self) -> None:
        """Init is over: from now on the CPU quota applies."""
        ...

    def freeze(self) -> None:
        """The runtime asked for work and none waits: nothing inside runs until `thaw` (AWS's freeze)."""
        ...

    def thaw(self) -> None:
        """Run again (before the runtime gets its event); harmless when not frozen."""
        ...

    def peak_memory_bytes(self) -> int | None:
        """What the environment occupies at its peak over its whole life, shared pages included."""
        ...

    def cpu_usage_ns(self) -> int | None: ...

    def oom_killed(self) -> bool: ...

    def kill(self) -> None:
        """Kill every process of the sandbox, frozen or not; harmless if they are gone."""
        ...

    def release(self) -> None:
        """Give back what the sandbox holds (idempotent); called once the runtime is gone or never ran."""
        ...


class LogSink(Protocol):
    """An environment's log stream: CloudWatch-style events, one per line."""

    name: str  # AWS_LAMBDA_LOG_STREAM_NAME

    def write(self, message: str, flush: bool = True, platform: bool = False) -> None:
        """`platform`: Lambda's own lines (INIT_START, START, END, REPORT), kept past any cap."""
        ...

    def close(self) -> None: ...


class RuntimeListener(Protocol):
    address: str  # AWS_LAMBDA_RUNTIME_API

    def close(self) -> None: ...


# Serve the Runtime API of one environment: on the socket its sandbox opened, or (None) on a new
# loopback listener of the host.
ListenerFactory = Callable[["RuntimeEndpoint", socket.socket | None], Awaitable[RuntimeListener]]


class RuntimeEndpoint(Protocol):
    """What a Runtime API listener calls on the environment that owns it; each may raise a
    RuntimeApiViolation (ember.execution.violations), which the listener answers as AWS does."""

    async def runtime_next(self) -> Invocation: ...

    def runtime_response(self, request_id: str, body: bytes) -> None: ...

    def runtime_stream_chunk(self, request_id: str, chunk: bytes) -> None: ...

    def runtime_stream_end(self, request_id: str, error_type: str | None = None, error_body: bytes = b"") -> None: ...

    def runtime_error(self, request_id: str, body: bytes, error_type: str | None) -> None: ...

    def runtime_init_error(self, body: bytes, error_type: str | None) -> None: ...
