"""The local backend: starts environments as child processes on this machine.

The contract every backend keeps (the Ray node agent later implements the same):
- `create(spec)` returns a started Environment whose runtime is initialising;
- `Environment.destroy(reason)` is idempotent and the first reason is kept;
- `on_dead` is called exactly once per environment, after it died or was destroyed and reaped;
- an environment's cgroup (memory = MemorySize, CPU = MemorySize/1769 vCPU after Init, pids) is
  gone by then, and every process that was in it is dead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ember.execution.cgroups import CgroupTree
from ember.execution.environment import Environment, ListenerFactory
from ember.execution.model import EnvironmentSpec
from ember.observe.log_stream import LogStream, new_stream_name


class LocalBackend:
    """`cgroups` None: environments run without memory, CPU or pids limits (said once at start)."""

    def __init__(self, logs_dir: Path, open_listener: ListenerFactory, cgroups: CgroupTree | None) -> None:
        self.logs_dir = logs_dir
        self.open_listener = open_listener
        self.cgroups = cgroups

    async def create(self, spec: EnvironmentSpec, on_dead: Callable[[Environment], None]) -> Environment:
        log = LogStream(self.logs_dir / spec.function_name, new_stream_name(spec.version))
        group = self.cgroups.new_environment(spec.memory_mb) if self.cgroups else None
        env = Environment(spec, log, self.open_listener, on_dead, group)
        try:
            await env.start()
        except BaseException:
            env.destroy("start failed")
            log.close()
            if group is not None:
                group.remove()
            raise
        return env
