"""An environment on another node, as the front door holds it: the EnvironmentHandle pools lease.

Its state mirrors the agent's Environment: each reply says where the environment is now, and a
death the agent reports (or the loss of its node) makes it DEAD. The log stream is the front
door's: the agent forwards every line (ember.execution.ray.service), so `ember logs`, Tail and the
logs API read one store whatever node a call ran on; REPORT is written here, after them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from ember.execution.backend import EnvironmentLost
from ember.execution.model import CallRecord, EnvironmentSpec, Invocation
from ember.execution.ray.link import AgentLink
from ember.execution.ray.wire import ChannelClosed, invocation_out, record_in
from ember.execution.states import EnvState
from ember.observe.log_stream import LogStream

RayCall = Callable[[str, list[Any]], Awaitable[list[Any]]]


class RemoteEnvironment:
    def __init__(self, env_id: str, spec: EnvironmentSpec, link: AgentLink, log: LogStream,
                 on_dead: Callable[[RemoteEnvironment], None], through_ray: RayCall | None = None) -> None:
        """`through_ray`: calls go as Ray actor calls (bench/cluster.py measures both ways)."""
        self._through_ray = through_ray
        self.env_id = env_id
        self.spec = spec
        self.link = link
        self.log = log
        self.state = EnvState.STARTING
        self.dead_reason: str | None = None
        self.last_used = time.monotonic()
        self._on_dead = on_dead
        self._report_due = False
        self._gone = False  # on_dead was called

    def __repr__(self) -> str:
        return f"<RemoteEnvironment {self.spec.function_name}:{self.spec.version} {self.state.value} " \
               f"node={self.node_id[:8]}>"

    @property
    def node_id(self) -> str:
        """The Ray node it runs on (X-Ember-Node-Id and the invocation record say so)."""
        return self.link.node_id

    async def wait_initialised(self) -> CallRecord | None:
        try:
            reply = await self.link.request("init", self.env_id)
        except ChannelClosed as exc:
            raise EnvironmentLost(f"the node of this environment was lost: {exc}", started=False) from exc
        self._mirror(reply[1], reply[2])
        return record_in(reply[0]) if reply[0] is not None else None

    async def invoke(self, invocation: Invocation) -> CallRecord:
        if self.link.closed is not None or self.state is EnvState.DEAD and self.dead_reason == "node lost":
            raise EnvironmentLost(f"the node of this environment was lost: {self.link.closed}", started=False)
        self._report_due = True
        self.state = EnvState.BUSY if self.state is EnvState.IDLE else self.state
        stream = invocation.stream
        try:
            if self._through_ray is not None and stream is None:
                reply = await self._through_ray(self.env_id, invocation_out(invocation))
            else:
                reply = await self.link.request("invoke", self.env_id, invocation_out(invocation),
                                                chunks=stream.put_nowait if stream is not None else None)
        except ChannelClosed as exc:
            self._report_due = False  # no REPORT comes for a call its node took along
            if self._gone:
                self.log.close()
            raise EnvironmentLost(f"the node running this call was lost: {exc}", started=True) from exc
        self._mirror(reply[1], reply[2])
        self.last_used = time.monotonic()
        return record_in(reply[0])

    def log_report(self, line: str) -> None:
        self.log.write(line, platform=True)
        self._report_due = False
        if self.state is EnvState.DEAD:
            self.log.close()

    def destroy(self, reason: str) -> None:
        if self.state is not EnvState.DEAD:
            self.dead_reason = reason
            self.state = EnvState.DEAD
            self.link.send("destroy", self.env_id, reason)

    def write_lines(self, events: list[list[Any]]) -> None:
        """Lines the agent forwarded, `[epoch ms, message, platform]` each, flushed together."""
        for index, (at_ms, message, platform) in enumerate(events):
            self.log.write(message, flush=index == len(events) - 1, platform=platform, at_ms=at_ms)

    def died(self, reason: str) -> None:
        """Every process of it is gone (the agent said so, or its node was lost): once."""
        if self._gone:
            return
        self._gone = True
        if self.state is not EnvState.DEAD:
            self.dead_reason = reason
            self.state = EnvState.DEAD
        if not self._report_due:
            self.log.close()
        self._on_dead(self)

    @property
    def gone(self) -> bool:
        return self._gone

    def _mirror(self, state: str, dead_reason: str | None) -> None:
        if self.state is EnvState.DEAD:
            return
        self.state = EnvState(state)
        if self.state is EnvState.DEAD:
            self.dead_reason = dead_reason
