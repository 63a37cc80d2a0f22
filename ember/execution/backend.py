"""The local backend: starts environments as child processes on this machine.

The contract every backend keeps (the Ray node agent later implements the same):
- `create(spec)` returns a started Environment whose runtime is initialising;
- `Environment.destroy(reason)` is idempotent and the first reason is kept;
- `on_dead` is called exactly once per environment, after it died or was destroyed and reaped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ember.execution.environment import Environment, ListenerFactory
from ember.execution.model import EnvironmentSpec
from ember.observe.log_stream import LogStream, new_stream_name


class LocalBackend:
    def __init__(self, logs_dir: Path, open_listener: ListenerFactory) -> None:
        self.logs_dir = logs_dir
        self.open_listener = open_listener

    async def create(self, spec: EnvironmentSpec, on_dead: Callable[[Environment], None]) -> Environment:
        log = LogStream(self.logs_dir / spec.function_name, new_stream_name(spec.version))
        env = Environment(spec, log, self.open_listener, on_dead)
        try:
            await env.start()
        except BaseException:
            env.destroy("start failed")
            log.close()
            raise
        return env
