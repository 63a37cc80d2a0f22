"""A pool of environments for one function version and revision.

Each environment of the pool is a member in one MemberState (ember.execution.states), on demand
or provisioned. Idle members are reused most recently used first, provisioned ones before
on-demand ones, so a burst that is over lets the least recently used go idle long enough to be
reaped. A leased member is never reaped.

Provisioned members (provisioned concurrency) are started ahead of any call, `target` of them:
STARTING until their Init succeeded, then IDLE between calls. They are never reaped, and one that
dies is replaced. Lowering `target` destroys those still starting and demotes the others to on
demand (subject to the keep-alive from then on).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass

from ember.execution.backend import Adopting, Backend, CredentialIssuer, EnvironmentHandle
from ember.execution.model import PROVISIONED_CONCURRENCY, EnvironmentSpec
from ember.execution.states import MEMBER_MOVES, POOL_MOVES, EnvState, MemberState, PoolState, moved

log = logging.getLogger("ember.pools")
INIT_FAILURE = "FUNCTION_ERROR_INIT_FAILURE"  # AWS's StatusReason when a provisioned Init fails
RELEASED = "provisioned concurrency released"


@dataclass(eq=False)
class Member:
    env: EnvironmentHandle
    state: MemberState
    provisioned: bool


class Pool:
    def __init__(self, spec: EnvironmentSpec, backend: Backend, credentials: CredentialIssuer | None = None) -> None:
        self.spec = spec
        self.backend = backend
        self.credentials = credentials
        self.state = PoolState.ACTIVE
        self.target = 0
        self.failure: str | None = None  # why provisioning stopped (an Init failed)
        self._members: dict[EnvironmentHandle, Member] = {}
        # Stacks of idle members, most recent last; an entry whose member moved on is skipped.
        self._warm: list[Member] = []
        self._idle: list[Member] = []
        self._creating = 0  # on-demand environments being created for a call
        self._launching = 0  # provisioned ones being created
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (f"<Pool {self.spec.function_name}:{self.spec.version} {self.state.value} "
                f"members={len(self._members)} provisioned={self.provisioned_ready}/{self.target}>")

    @property
    def retired(self) -> bool:
        return self.state is PoolState.RETIRED

    @property
    def size(self) -> int:
        return len(self._members) + self._creating + self._launching

    @property
    def provisioned_ready(self) -> int:
        return sum(m.provisioned and m.state is not MemberState.STARTING for m in self._members.values())

    def count(self, state: MemberState) -> int:
        return sum(member.state is state for member in self._members.values())

    async def acquire(self) -> EnvironmentHandle:
        """An idle environment, provisioned first; else a new one, which the caller's invoke initialises."""
        for stack, provisioned in ((self._warm, True), (self._idle, False)):
            while stack:
                member = stack.pop()
                if self._is_idle(member, provisioned):
                    self._move(member, MemberState.LEASED)
                    return member.env
        self._creating += 1
        try:
            env = await self._create(self.spec)
        finally:
            self._creating -= 1
        self._members[env] = Member(env, MemberState.LEASED, provisioned=False)
        return env

    async def _create(self, spec: EnvironmentSpec) -> EnvironmentHandle:
        """A new environment with keys of its own, which die with it."""
        if self.credentials is not None:
            spec = dataclasses.replace(spec, credentials=self.credentials.issue(spec.function_name, spec.role))
        try:
            return await self.backend.create(spec, self._died)
        except BaseException:
            self._revoke(spec)
            raise

    def _end(self, env: EnvironmentHandle, reason: str) -> None:
        """Destroy an environment; its keys stop working now, not when its death is heard (which, for an
        environment on another node, takes a round trip)."""
        env.destroy(reason)
        self._revoke(env.spec)

    def _revoke(self, spec: EnvironmentSpec) -> None:
        if self.credentials is not None and spec.credentials:
            self.credentials.revoke(spec.credentials)

    def adopt(self, backend: Adopting) -> int:
        """Take warm the idle environments of this spec an earlier server left (a cluster's agents keep
        them for a grace period), as on-demand members, their keys admitted again; how many."""
        envs = backend.adopt(self.spec, self._died)
        for env in envs:
            if self.credentials is not None and env.spec.credentials:
                self.credentials.admit(env.spec.function_name, env.spec.role, env.spec.credentials)
            member = self._members[env] = Member(env, MemberState.IDLE, provisioned=False)
            self._idle.append(member)
        self._idle.sort(key=lambda member: member.env.last_used)  # the most recently used is reused first
        return len(envs)

    def release(self, env: EnvironmentHandle) -> None:
        """Hand an environment back after a request; a dead one, or one of a retired pool, goes."""
        member = self._members.get(env)
        if member is None:
            self._end(env, env.dead_reason or "retired")
            return
        if env.state is EnvState.IDLE and not self.retired:
            self._move(member, MemberState.IDLE)
            (self._warm if member.provisioned else self._idle).append(member)
            return
        self._end(env, env.dead_reason or "retired")
        self._drop(member)

    def reap_idle(self, keep_alive_s: float) -> int:
        """Destroy on-demand environments idle for longer than the keep-alive; returns how many."""
        cutoff = time.monotonic() - keep_alive_s
        live = [member for member in self._idle if self._is_idle(member, False)]
        stale = [member for member in live if member.env.last_used < cutoff]
        for member in stale:
            self._end(member.env, "keep-alive expired")
            self._drop(member)
        self._idle = [member for member in live if member not in stale]
        return len(stale)

    def provision(self, target: int) -> None:
        """Keep `target` provisioned environments: start the missing ones in the background, release extras.
        Each call is a new attempt after a failed Init."""
        self.failure = None
        self.target = target
        self._release_extra()
        self._fill()

    def retire(self, reason: str) -> None:
        """Stop reusing this pool: idle and starting environments go now, leased ones after their request."""
        if not self.retired:
            self.state = moved(POOL_MOVES, self.state, PoolState.RETIRED, self)
        self.target = 0
        for member in list(self._members.values()):
            if member.state is not MemberState.LEASED:
                self._end(member.env, reason)
                self._drop(member)
        self._warm.clear()
        self._idle.clear()

    def destroy_all(self, reason: str) -> None:
        self.retire(reason)
        for task in self._tasks:
            task.cancel()
        for member in list(self._members.values()):
            self._end(member.env, reason)

    def _is_idle(self, member: Member, provisioned: bool) -> bool:
        return (member.state is MemberState.IDLE and member.provisioned == provisioned
                and member.env.state is EnvState.IDLE)

    def _move(self, member: Member, new: MemberState) -> None:
        member.state = moved(MEMBER_MOVES, member.state, new, member.env)

    def _drop(self, member: Member) -> None:
        if member.state is not MemberState.GONE:
            self._move(member, MemberState.GONE)
        self._members.pop(member.env, None)

    def _provisioned(self) -> list[Member]:
        return [member for member in self._members.values() if member.provisioned]

    def _release_extra(self) -> None:
        """Starting ones first (destroyed), then idle ones, then leased ones (both demoted to on demand)."""
        extra = len(self._provisioned()) - self.target
        if extra <= 0:
            return
        order = {MemberState.STARTING: 0, MemberState.IDLE: 1, MemberState.LEASED: 2}
        for member in sorted(self._provisioned(), key=lambda m: order[m.state])[:extra]:
            member.provisioned = False
            if member.state is MemberState.STARTING:
                self._end(member.env, RELEASED)
                self._drop(member)
            elif member.state is MemberState.IDLE:
                self._idle.append(member)

    def _fill(self) -> None:
        if self.retired or self.failure is not None:
            return
        for _ in range(self.target - len(self._provisioned()) - self._launching):
            self._launching += 1
            task = asyncio.get_running_loop().create_task(self._launch(), name=f"provision {self.spec.function_name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _launch(self) -> None:
        """Start one provisioned environment and wait for its Init; a failed Init stops provisioning."""
        spec = dataclasses.replace(self.spec, initialization_type=PROVISIONED_CONCURRENCY)
        try:
            env = await self._create(spec)
        except Exception as exc:
            log.warning("provisioned environment of %r failed to start: %s", self, exc)
            self._fail(f"{INIT_FAILURE}: {exc}")
            return
        finally:
            self._launching -= 1
        if self.retired or len(self._provisioned()) >= self.target:
            self._end(env, RELEASED)
            return
        member = self._members[env] = Member(env, MemberState.STARTING, provisioned=True)
        failure = await env.wait_initialised()
        if member.state is MemberState.GONE:  # released while it started
            return
        if failure is not None or env.state is not EnvState.IDLE:
            reason = f"{INIT_FAILURE}: {failure.error_type if failure else env.dead_reason}"
            self._end(env, reason)
            self._drop(member)
            self._fail(reason)
            return
        self._move(member, MemberState.IDLE)
        self._warm.append(member)

    def _fail(self, reason: str) -> None:
        if self.target and self.failure is None:
            self.failure = reason

    def _died(self, env: EnvironmentHandle) -> None:
        """An environment died. A leased one stays until `release`; a starting one is `_launch`'s to
        judge; a provisioned one that had started is replaced. Its keys stop working either way."""
        self._revoke(env.spec)
        member = self._members.get(env)
        if member is None or member.state is MemberState.STARTING:
            return
        if member.state is MemberState.IDLE:
            self._drop(member)
        if member.provisioned:
            member.provisioned = False
            self._fill()
