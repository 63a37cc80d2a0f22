"""A backend that keeps ember.execution.backend's contract in memory, for fast tests of the layers above.

The real Environment runs on it; only the sandbox is fake. Its runtime is a coroutine that speaks
the Runtime API's calls directly, and the event decides what it does:
    b"crash"  the runtime exits with status 1        b"hang"   it never answers
    b"error"  it reports a handled error              b"print"  it prints a line, then answers
    anything else is echoed back.
A spec whose handler is "init.error" reports an init error; "init.exit" exits during Init.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from ember.execution.backend import BackendStats, LogSink, RuntimeEndpoint
from ember.execution.environment import Environment
from ember.execution.model import EnvironmentSpec, Invocation


def spec(name: str = "f", version: str = "$LATEST", handler: str = "app.handler", timeout_s: int = 3,
         memory_mb: int = 128, revision: str = "r1") -> EnvironmentSpec:
    return EnvironmentSpec(name, version, "python3.11", handler, memory_mb, timeout_s, Path("/nonexistent"), {},
                           "us-east-1", revision)


class MemoryLog:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.closed = False

    def write(self, message: str, flush: bool = True, platform: bool = False) -> None:
        self.lines.append(message)

    def close(self) -> None:
        self.closed = True


class FakeListener:
    address = "127.0.0.1:9001"

    def close(self) -> None:
        pass


class FakeSandbox:
    task_root = "/var/task"
    runtime_dir = "/var/runtime"
    opt_dir = "/opt"
    runtime_address = None  # the environment opens its listener (the fake one below) first
    api_url = "http://127.0.0.1:9000"

    def __init__(self, spec: EnvironmentSpec) -> None:
        self.spec = spec
        self.endpoint: RuntimeEndpoint | None = None
        self.memory_bytes = 20 * 1024 * 1024
        self.released = 0
        self.frozen = False
        self.freezes: list[str] = []  # "freeze", "thaw", "kill" and "deliver", in order
        self._on_exit: Callable[[int], None] | None = None
        self._on_output: Callable[[str], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._exited = False

    def entrypoint_problem(self) -> str | None:
        return None

    async def launch(self, variables: dict[str, str], on_output: Callable[[str], None],
                     on_exit: Callable[[int], None]) -> None:
        self._on_output, self._on_exit = on_output, on_exit
        self._task = asyncio.get_running_loop().create_task(self._runtime())

    def take_runtime_socket(self) -> None:
        return None

    def flush_output(self) -> None:
        pass

    def end_init_burst(self) -> None:
        pass

    def freeze(self) -> None:
        self.frozen = True
        self.freezes.append("freeze")

    def thaw(self) -> None:
        if self.frozen:  # as a cgroup's: thawing what is not frozen does nothing
            self.frozen = False
            self.freezes.append("thaw")

    def peak_memory_bytes(self) -> int | None:
        return self.memory_bytes

    def cpu_usage_ns(self) -> int | None:
        return None

    def oom_killed(self) -> bool:
        return False

    def kill(self) -> None:
        self.freezes.append("kill")
        if self._task is not None and not self._task.done():
            self._task.cancel()
            asyncio.get_running_loop().call_soon(self._exit, -9)
        self.thaw()

    def release(self) -> None:
        self.released += 1

    def _exit(self, code: int) -> None:
        if not self._exited and self._on_exit is not None:
            self._exited = True
            self._on_exit(code)

    async def _runtime(self) -> None:
        assert self.endpoint is not None
        await asyncio.sleep(0)
        if self.spec.handler == "init.error":
            self.endpoint.runtime_init_error(b'{"errorType": "Runtime.ImportModuleError"}', None)
            return self._exit(1)
        if self.spec.handler == "init.exit":
            return self._exit(2)
        while True:
            invocation = await self.endpoint.runtime_next()
            self.freezes.append("deliver to a frozen runtime" if self.frozen else "deliver")
            if not await self._handle(invocation):
                return

    async def _handle(self, invocation: Invocation) -> bool:
        assert self.endpoint is not None and self._on_output is not None
        event, request_id = invocation.payload, invocation.request_id
        if event == b"crash":
            self._exit(1)
            return False
        if event == b"hang":
            await asyncio.Event().wait()
        if event == b"error":
            self.endpoint.runtime_error(request_id, json.dumps({"errorType": "ValueError"}).encode(), None)
        else:
            if event == b"print":
                self._on_output("hello from the handler\n")
            self.endpoint.runtime_response(request_id, event)
        return True


class FakeBackend:
    """Real Environments around fake sandboxes; `created` in order, `dead` as on_dead saw them."""

    def __init__(self) -> None:
        self.created: list[Environment] = []
        self.dead: list[Environment] = []
        self.forgotten: list[tuple[str, str | None]] = []

    async def create(self, spec: EnvironmentSpec, on_dead: Callable[[Environment], None],
                     log: LogSink | None = None) -> Environment:
        sandbox = FakeSandbox(spec)

        async def open_listener(endpoint: RuntimeEndpoint, sock: object = None) -> FakeListener:
            sandbox.endpoint = endpoint
            return FakeListener()

        def died(env: Environment) -> None:
            self.dead.append(env)
            on_dead(env)

        env = Environment(spec, sandbox, log or MemoryLog(f"stream-{len(self.created)}"), open_listener, died)
        self.created.append(env)
        await env.start()
        return env

    def forget(self, function_name: str, version: str | None) -> None:
        self.forgotten.append((function_name, version))

    def reap(self, idle_s: float) -> None:
        pass

    def stats(self) -> BackendStats:
        live = [env for env in self.created if env not in self.dead]
        return BackendStats(len(live), sum(env.spec.memory_mb for env in live))

    def close(self) -> None:
        for env in self.created:
            env.destroy("closed")


def invocation(payload: bytes = b"{}", request_id: str = "req-1") -> Invocation:
    return Invocation(request_id, payload, 0, "arn:aws:lambda:us-east-1:000000000000:function:f", "Root=1-0-0")
