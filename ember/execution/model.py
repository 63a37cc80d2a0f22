"""Plain data passed between the invoker, pools and environments."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

# Lambda's error-type strings: the contract with clients, named once.
SANDBOX_TIMEDOUT = "Sandbox.Timedout"
RUNTIME_EXIT_ERROR = "Runtime.ExitError"
RUNTIME_OUT_OF_MEMORY = "Runtime.OutOfMemory"
RUNTIME_INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_RESPONSE_BYTES = MAX_PAYLOAD_BYTES + 100
MAX_STREAMED_BYTES = 200 * 1024 * 1024  # InvokeWithResponseStream's response limit (AWS, since July 2025)
INIT_TIMEOUT_S = 10.0
# AWS_LAMBDA_INITIALIZATION_TYPE: how an environment came to be.
ON_DEMAND = "on-demand"
PROVISIONED_CONCURRENCY = "provisioned-concurrency"


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything needed to start one execution environment of one function version."""

    function_name: str
    version: str
    runtime: str
    handler: str
    memory_mb: int
    timeout_s: int
    code_dir: Path
    variables: dict[str, str]
    region: str
    revision: str
    ephemeral_mb: int = 512
    initialization_type: str = ON_DEMAND  # PROVISIONED_CONCURRENCY for environments started ahead of calls
    role: str = ""  # the execution role the environment's credentials stand for
    credentials: dict[str, str] = field(default_factory=dict)  # this environment's own temporary keys
    opt_dir: Path | None = None  # the function's layers, merged in order: what the sandbox shows at /opt
    layers: tuple[str, ...] = ()  # those layers' code digests in order (a cluster node merges them itself)


@dataclass(frozen=True)
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    invoked_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None
    stream: asyncio.Queue[bytes] | None = None  # where a streamed response's chunks go as they arrive


@dataclass
class CallRecord:
    """How one call ended and what it used: the one record that REPORT, the invocation table and the
    metrics are made from. Plain data, so a backend on another machine can send it back as it is."""

    payload: bytes
    error_type: str | None = None  # None on success
    status: str = "success"  # "error", "timeout", "init_timeout" or "crash" otherwise
    duration_ms: float = 0.0
    init_ms: float | None = None  # Init Duration, on a cold start only
    cpu_ms: float | None = None  # CPU time of the whole environment during the call, where a cgroup counts it
    max_memory_mb: int = 0  # the environment's high-water mark so far
    log: str = ""  # the call's log lines, START through END (the last TAIL_BYTES: what Tail returns)
    thaw_ms: float = 0.0  # how long waking a frozen environment took (the freezer's write)
    init_wait_ms: float = 0.0  # how long the call waited for its environment's Init
    deliver_ms: float = 0.0  # from the event being ready to the runtime taking it (0: it never did)
    cold: bool = False
    streamed: bool = False  # the payload went out chunk by chunk through Invocation.stream
    node_id: str = ""  # the cluster node that ran it (a Ray node id; empty on one machine)

    @property
    def failed(self) -> bool:
        return self.error_type is not None
