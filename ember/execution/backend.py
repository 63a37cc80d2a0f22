"""The local backend: starts environments as child processes on this machine.

The contract every backend keeps (the Ray node agent later implements the same):
- `create(spec)` returns a started Environment whose runtime is initialising;
- `Environment.destroy(reason)` is idempotent and the first reason is kept;
- `on_dead` is called exactly once per environment, after it died or was destroyed and reaped;
- an environment's cgroup (memory = MemorySize, CPU = MemorySize/1769 vCPU after Init, pids) is
  gone by then, and every process that was in it is dead;
- its /tmp slot is handed to the next environment of the same revision once it is destroyed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ember.execution.environment import Environment, ListenerFactory
from ember.execution.model import EnvironmentSpec
from ember.execution.sandbox import Sandboxes
from ember.observe.log_stream import LogStream, new_stream_name


class LocalBackend:
    """Environments on this machine, each in the sandbox `sandboxes` makes for it."""

    def __init__(self, logs_dir: Path, open_listener: ListenerFactory, sandboxes: Sandboxes) -> None:
        self.logs_dir = logs_dir
        self.open_listener = open_listener
        self.sandboxes = sandboxes

    async def create(self, spec: EnvironmentSpec, on_dead: Callable[[Environment], None]) -> Environment:
        log = LogStream(self.logs_dir / spec.function_name, new_stream_name(spec.version))
        sandbox = self.sandboxes.prepare(spec)
        env = Environment(spec, log, self.open_listener, on_dead, sandbox)
        try:
            await env.start()
        except BaseException:
            env.destroy("start failed")
            log.close()
            if sandbox.cgroup is not None:
                sandbox.cgroup.remove()
            raise
        return env

    def forget(self, function_name: str, version: str | None) -> None:
        """A version changed (None: the function is gone): its spare /tmp slots can go."""
        self.sandboxes.forget(function_name, version)
