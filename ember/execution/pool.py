"""A pool of environments for one function version and revision.

Warm environments are reused most recently used first (a stack), so a burst that is over lets
the least recently used ones go idle long enough to be reaped. An on-demand environment is in
exactly one of `idle` (a stack) or `busy` (a set) until it dies; a busy one is never reaped.

Provisioned environments (provisioned concurrency) are started ahead of any call, `target` of
them, and live in `provisioned` from spawn to death: while initialising only there, then also in
`ready`, and between calls on the `warm` stack, which `acquire` serves before `idle`. They are
never reaped, and one that dies is replaced. Lowering `target` destroys those still initialising
and demotes ready ones to on-demand (idle ones move to `idle`, subject to the keep-alive).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from ember.execution.backend import LocalBackend
from ember.execution.environment import Environment, EnvState
from ember.execution.model import PROVISIONED_CONCURRENCY, EnvironmentSpec

log = logging.getLogger("ember.pools")
INIT_FAILURE = "FUNCTION_ERROR_INIT_FAILURE"  # AWS's StatusReason when a provisioned Init fails
RELEASED = "provisioned concurrency released"


class Pool:
    def __init__(self, spec: EnvironmentSpec, backend: LocalBackend) -> None:
        self.spec = spec
        self.backend = backend
        self.idle: list[Environment] = []
        self.busy: set[Environment] = set()
        self.retired = False
        self.target = 0
        self.failure: str | None = None  # why provisioning stopped (an Init failed)
        self.provisioned: set[Environment] = set()
        self.ready: set[Environment] = set()
        self.warm: list[Environment] = []
        self._creating = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (f"<Pool {self.spec.function_name}:{self.spec.version} idle={len(self.idle)} busy={len(self.busy)} "
                f"provisioned={len(self.ready)}/{self.target}>")

    async def acquire(self) -> tuple[Environment, bool]:
        """A warm environment if one is idle (cold=False), provisioned first, else a new one (cold=True)."""
        for stack in (self.warm, self.idle):
            while stack:
                env = stack.pop()
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
            (self.warm if env in self.ready else self.idle).append(env)
            return
        env.destroy(env.dead_reason or "retired")
        env.log.close()

    def reap_idle(self, keep_alive_s: float) -> int:
        """Destroy on-demand environments idle for longer than the keep-alive; returns how many."""
        cutoff = time.monotonic() - keep_alive_s
        stale = [env for env in self.idle if env.last_used < cutoff]
        for env in stale:
            self.idle.remove(env)
            env.destroy("keep-alive expired")
        return len(stale)

    def provision(self, target: int) -> None:
        """Keep `target` provisioned environments: start the missing ones in the background, release extras.
        Each call is a new attempt after a failed Init."""
        self.failure = None
        self.target = target
        self._release_extra()
        self._fill()

    @property
    def provisioned_ready(self) -> int:
        return len(self.ready)

    def retire(self, reason: str) -> None:
        """Stop reusing this pool: idle and initialising environments go now, busy ones after their request."""
        self.retired = True
        self.target = 0
        for env in [*self.idle, *self.warm, *(self.provisioned - self.busy)]:
            env.destroy(reason)
        self.idle.clear()
        self.warm.clear()
        self.provisioned &= self.busy
        self.ready &= self.busy

    def destroy_all(self, reason: str) -> None:
        self.retire(reason)
        for task in self._tasks:
            task.cancel()
        for env in list(self.busy):
            env.destroy(reason)

    @property
    def size(self) -> int:
        return len(self.idle) + len(self.warm) + len(self.busy | self.provisioned) + self._creating

    def _release_extra(self) -> None:
        """Initialising ones first (destroyed), then idle ready ones, then busy ones (both demoted)."""
        extra = len(self.provisioned) - self.target
        if extra <= 0:
            return
        for env in sorted(self.provisioned, key=lambda e: (e in self.ready, e in self.busy))[:extra]:
            self.provisioned.discard(env)
            if env not in self.ready:
                env.destroy(RELEASED)
                continue
            self.ready.discard(env)
            if env in self.warm:
                self.warm.remove(env)
                self.idle.append(env)

    def _fill(self) -> None:
        if self.retired or self.failure is not None:
            return
        for _ in range(self.target - len(self.provisioned) - self._creating):
            self._creating += 1
            task = asyncio.get_running_loop().create_task(self._launch(), name=f"provision {self.spec.function_name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _launch(self) -> None:
        """Start one provisioned environment and wait for its Init; a failed Init stops provisioning."""
        try:
            env = await self.backend.create(dataclasses.replace(self.spec, initialization_type=PROVISIONED_CONCURRENCY),
                                            self._forget)
        except Exception as exc:
            log.warning("provisioned environment of %r failed to start: %s", self, exc)
            self._fail(f"{INIT_FAILURE}: {exc}")
            return
        finally:
            self._creating -= 1
        if self.retired or len(self.provisioned) >= self.target:
            env.destroy(RELEASED)
            return
        self.provisioned.add(env)
        failure = await env.wait_initialised("")
        if env not in self.provisioned:  # released while initialising
            return
        if failure is not None or env.state is not EnvState.IDLE:
            reason = f"{INIT_FAILURE}: {failure.error_type if failure else env.dead_reason}"
            env.destroy(reason)
            self.provisioned.discard(env)
            self._fail(reason)
            return
        self.ready.add(env)
        self.warm.append(env)

    def _fail(self, reason: str) -> None:
        if self.target and self.failure is None:
            self.failure = reason

    def _forget(self, env: Environment) -> None:
        """An environment died; a busy one is closed by `release` once its request is logged; a
        provisioned one is replaced."""
        if env in self.idle:
            self.idle.remove(env)
        if env in self.warm:
            self.warm.remove(env)
        if env not in self.busy:
            env.log.close()
        if env in self.ready:  # one still initialising is `_launch`'s to judge
            self.ready.discard(env)
            self.provisioned.discard(env)
            self._fill()
