"""The local backend: environments as sandboxed processes on this machine, forked by the zygote.

It keeps the contract of ember.execution.backend.Backend. Beyond it: an environment's cgroup
(memory = MemorySize, CPU = MemorySize/1769 vCPU after Init, pids) is gone by the time `on_dead`
runs, with every process that was in it; its /tmp slot goes to the next environment of the same
revision as soon as it is destroyed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ember.execution.backend import BackendStats, ListenerFactory, LogSink
from ember.execution.environment import Environment
from ember.execution.local.sandbox import Sandboxes
from ember.execution.model import EnvironmentSpec
from ember.observe.log_stream import DEFAULT_MAX_BYTES, LogStream, new_stream_name


class LocalBackend:
    """Environments on this machine, each in the sandbox `sandboxes` makes for it."""

    def __init__(self, logs_dir: Path, open_listener: ListenerFactory, sandboxes: Sandboxes,
                 max_log_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.logs_dir = logs_dir
        self.max_log_bytes = max_log_bytes
        self.open_listener = open_listener
        self.sandboxes = sandboxes
        self._live: set[Environment] = set()

    async def create(self, spec: EnvironmentSpec, on_dead: Callable[[Environment], None],
                     log: LogSink | None = None) -> Environment:
        """`log`: where the environment's lines go instead of a stream of this machine's logs dir (a node
        agent forwards them to the front door)."""
        if log is None:
            log = LogStream(self.logs_dir / spec.function_name, new_stream_name(spec.version), self.max_log_bytes)
        sandbox = self.sandboxes.prepare(spec)

        def died(env: Environment) -> None:
            self._live.discard(env)
            on_dead(env)

        env = Environment(spec, sandbox, log, self.open_listener, died)
        self._live.add(env)
        try:
            await env.start()
        except BaseException:
            self._live.discard(env)
            env.destroy("start failed")
            sandbox.release()
            log.close()
            raise
        return env

    def forget(self, function_name: str, version: str | None) -> None:
        self.sandboxes.forget(function_name, version)

    def reap(self, idle_s: float) -> None:
        self.sandboxes.expire(idle_s)

    def stats(self) -> BackendStats:
        return BackendStats(len(self._live), sum(env.spec.memory_mb for env in self._live))

    def close(self) -> None:
        """Stop the zygote (every environment dies with it), then remove the cgroup tree."""
        for env in list(self._live):
            env.destroy("server shutdown")
            env.log.close()  # its exit is not heard once the loop stops, and that is where a stream closes
        self.sandboxes.close()
