"""A pool of environments for one function version and revision.

Warm environments are reused most recently used first (a stack), so a burst that is over lets
the least recently used ones go idle long enough to be reaped. An environment is in exactly one
of `idle` (a stack) or `busy` (a set) until it dies; a busy one is never reaped.
"""

from __future__ import annotations

import time

from ember.execution.backend import LocalBackend
from ember.execution.environment import Environment, EnvState
from ember.execution.model import EnvironmentSpec


class Pool:
    def __init__(self, spec: EnvironmentSpec, backend: LocalBackend) -> None:
        self.spec = spec
        self.backend = backend
        self.idle: list[Environment] = []
        self.busy: set[Environment] = set()
        self.retired = False

    def __repr__(self) -> str:
        return f"<Pool {self.spec.function_name}:{self.spec.version} idle={len(self.idle)} busy={len(self.busy)}>"

    async def acquire(self) -> tuple[Environment, bool]:
        """A warm environment if one is idle (cold=False), else a new one (cold=True)."""
        while self.idle:
            env = self.idle.pop()
            if env.state is EnvState.IDLE:
                self.busy.add(env)
                return env, False
        env = await self.backend.create(self.spec, self._forget)
        self.busy.add(env)
        return env, True

    def release(self, env: Environment) -> None:
        """Hand an environment back after a request; a dead or retired one is dropped."""
        self.busy.discard(env)
        if env.state is EnvState.IDLE and not self.retired:
            self.idle.append(env)
            return
        env.destroy(env.dead_reason or "retired")
        env.log.close()

    def reap_idle(self, keep_alive_s: float) -> int:
        """Destroy environments idle for longer than the keep-alive; returns how many."""
        cutoff = time.monotonic() - keep_alive_s
        stale = [env for env in self.idle if env.last_used < cutoff]
        for env in stale:
            self.idle.remove(env)
            env.destroy("keep-alive expired")
        return len(stale)

    def retire(self, reason: str) -> None:
        """Stop reusing this pool: idle environments go now, busy ones after their request."""
        self.retired = True
        for env in self.idle:
            env.destroy(reason)
        self.idle.clear()

    def destroy_all(self, reason: str) -> None:
        self.retire(reason)
        for env in list(self.busy):
            env.destroy(reason)

    @property
    def size(self) -> int:
        return len(self.idle) + len(self.busy)

    def _forget(self, env: Environment) -> None:
        """An environment died; a busy one is closed by `release` once its request is logged."""
        if env in self.idle:
            self.idle.remove(env)
        if env not in self.busy:
            env.log.close()
