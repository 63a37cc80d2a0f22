"""The Ray backend: the Backend protocol for the front door, environments on the cluster's nodes.

Each Ray node runs one node agent (a LocalBackend there: zygote, spares, cgroups, namespaces).
This backend keeps one data channel per agent, places each new environment (ember.execution.ray.
agents.choose), ships a function's code to a node once per code hash, and watches membership:
a node that joins gets an agent, and one that leaves takes its environments with it — each of
them dies (pools replace provisioned ones elsewhere) and a call on its way there raises
EnvironmentLost. Log lines come back over the channel into the front door's logs dir.

Agents outlive a front door for their grace period: attaching to one, this backend takes the idle
environments it kept as survivors, and a pool of exactly their spec adopts them (`adopt`); the
rest end when their function changes, is forgotten, or stays idle past the keep-alive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ember.execution.backend import BackendStats, DeathListener, EnvironmentHandle, EnvironmentLost
from ember.execution.model import ON_DEMAND, EnvironmentSpec
from ember.execution.ray.agents import Agent, Launcher, choose
from ember.execution.ray.code_cache import NodeCode
from ember.execution.ray.link import AgentLink
from ember.execution.ray.remote import RemoteEnvironment
from ember.execution.ray.service import new_env_id
from ember.execution.ray.wire import ChannelClosed, Frame, spec_back, spec_out
from ember.execution.states import EnvState
from ember.observe.log_stream import DEFAULT_MAX_BYTES, LogStream, new_stream_name

log = logging.getLogger("ember.cluster")
POLL_S = 1.0  # how often membership is read from Ray
RETRY_AGENT_S = 5.0  # a node whose agent failed to start is tried again after this long
CREATE_ATTEMPTS = 3  # a node lost while an environment starts there: the next one is tried
HandOver = Callable[[DeathListener], None]  # gives an environment to its pool: its death is the pool's from then on


class RayBackend:
    def __init__(self, logs_dir: Path, launcher: Launcher, max_log_bytes: int = DEFAULT_MAX_BYTES,
                 poll_s: float = POLL_S, calls_through_ray: bool = False) -> None:
        """`calls_through_ray`: payloads as Ray actor calls instead of the data channel (measured
        against it in bench/cluster.py; BENCHMARKS.md says why the channel is the default)."""
        self.calls_through_ray = calls_through_ray
        self.logs_dir = logs_dir
        self.launcher = launcher
        self.max_log_bytes = max_log_bytes
        self.poll_s = poll_s
        self.agents: dict[str, Agent] = {}
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._failed: dict[str, float] = {}  # node id → when its agent last failed to start (monotonic)
        self._survivors: dict[str, tuple[RemoteEnvironment, HandOver]] = {}  # left by an earlier front door
        self.code = NodeCode(launcher)
        self._closed = False

    async def start(self) -> None:
        """Start an agent on every node alive now; at least one must come up."""
        await self.sync_nodes()
        if not self.agents:
            raise RuntimeError("no node agent could start on the Ray cluster")

    async def watch(self) -> None:
        """Follow membership: agents for nodes that join, and nodes that leave are let go."""
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.sync_nodes()
            except Exception as exc:  # Ray's control plane hiccuped: the next poll tries again
                log.warning("reading the cluster's nodes failed: %s", exc)

    async def sync_nodes(self) -> None:
        alive = await self.launcher.alive_nodes()
        for node_id, agent in list(self.agents.items()):
            if node_id not in alive:
                agent.link.close("its node left the cluster")
        retry_before = time.monotonic() - RETRY_AGENT_S
        for node_id, capacity in alive.items():
            if node_id not in self.agents and node_id not in self._starting and \
                    self._failed.get(node_id, retry_before) <= retry_before:
                task = asyncio.create_task(self._start_agent(node_id, capacity), name=f"agent {node_id[:8]}")
                self._starting[node_id] = task
        if self._starting:
            await asyncio.gather(*self._starting.values(), return_exceptions=True)

    @property
    def info(self) -> dict[str, object]:
        """What the first agent's sandboxes enforce (every node runs the same settings)."""
        first = next(iter(self.agents.values()), None)
        return dict(first.launched.info) if first is not None else {}

    async def _start_agent(self, node_id: str, capacity_mb: int) -> None:
        try:
            launched = await self.launcher.launch(node_id)
            holder: list[Agent] = []
            link = await AgentLink.connect(node_id, launched.host, launched.port, self.launcher.token,
                                           lambda frame: self._pushed(holder[0], frame),
                                           lambda reason: self._lost(holder[0], reason))
            agent = Agent(node_id, capacity_mb, launched, link)
            holder.append(agent)
            if self._closed:
                link.close("shutting down")
                self.launcher.stop(launched.handle)
                return
            self.agents[node_id] = agent
            kept = await self._take_survivors(agent)
            log.info("node agent up on %s (%d MB for environments, %d left by an earlier front door)",
                     node_id[:8], capacity_mb, kept)
            _warn_if_not_isolated(node_id, launched.info)
        except Exception as exc:
            self._failed[node_id] = time.monotonic()
            log.warning("no node agent on %s (tried again in %.0f s): %s", node_id[:8], RETRY_AGENT_S, exc)
            if node_id in self.agents:
                self.agents[node_id].link.close("its agent could not be attached")
        finally:
            self._starting.pop(node_id, None)

    def _pushed(self, agent: Agent, frame: Frame) -> None:
        if frame[0] == "log":
            by_env: dict[str, list[list[object]]] = {}
            for env_id, at_ms, message, platform in frame[1]:
                by_env.setdefault(env_id, []).append([at_ms, message, platform])
            for env_id, events in by_env.items():
                env = agent.envs.get(env_id)
                if env is not None:
                    env.write_lines(events)
        elif frame[0] == "dead":
            env = agent.envs.get(frame[1])
            if env is not None:
                env.died(frame[2])

    def _lost(self, agent: Agent, reason: str) -> None:
        """Its node (or the agent) is gone: so is every environment it ran."""
        if self.agents.get(agent.node_id) is agent:
            del self.agents[agent.node_id]
        if not self._closed:
            log.warning("node %s lost: %s (%d environments with it)", agent.node_id[:8], reason, len(agent.envs))
        for env in list(agent.envs.values()):
            env.died("node lost")

    async def _take_survivors(self, agent: Agent) -> int:
        """The idle environments an earlier front door left on this agent, held until a pool adopts them."""
        (survivors,) = await agent.link.request("survivors")
        now = time.monotonic()
        for env_id, spec_values, stream_name, idle_s in survivors:
            env, hand_over = self._track(agent, spec_back(spec_values), env_id, stream_name)
            env.state, env.last_used = EnvState.IDLE, now - idle_s
            self._survivors[env_id] = (env, hand_over)
        return len(survivors)

    def adopt(self, spec: EnvironmentSpec, on_dead: DeathListener) -> list[EnvironmentHandle]:
        """Survivors of exactly this spec (function, version, revision, code, layers, settings; not their
        keys), handed to the pool that asks; others of the same version never will be, and end."""
        adopted: list[EnvironmentHandle] = []
        for env_id, (env, hand_over) in list(self._survivors.items()):
            if (env.spec.function_name, env.spec.version) != (spec.function_name, spec.version):
                continue
            del self._survivors[env_id]
            if _same_environment(env.spec, spec) and env.state is EnvState.IDLE and env.link.closed is None:
                hand_over(on_dead)
                adopted.append(env)
            else:
                env.destroy("its function changed while no front door held it")
        return adopted

    def _end_survivors(self, keep: Callable[[RemoteEnvironment], bool], reason: str) -> None:
        for env_id, (env, _) in list(self._survivors.items()):
            if not keep(env):
                del self._survivors[env_id]
                env.destroy(reason)

    async def create(self, spec: EnvironmentSpec, on_dead: DeathListener) -> RemoteEnvironment:
        lost: Exception | None = None
        for _ in range(CREATE_ATTEMPTS):
            agent = choose(list(self.agents.values()), spec.memory_mb)
            env, hand_over = self._track(agent, spec)
            try:
                for code_dir in (spec.code_dir, *(spec.code_dir.parent / digest for digest in spec.layers)):
                    await self.code.ensure(agent, code_dir)
                await agent.link.request("create", env.env_id, spec_out(spec), spec.code_dir.name, env.log.name)
            except ChannelClosed as exc:  # the node went while the environment started: try another
                lost = exc
                env.died("node lost")
                continue
            except BaseException:
                env.died("start failed")
                raise
            hand_over(on_dead)
            return env
        raise EnvironmentLost(f"nodes were lost while an environment started: {lost}", started=False)

    def _track(self, agent: Agent, spec: EnvironmentSpec, env_id: str | None = None,
               stream_name: str | None = None) -> tuple[RemoteEnvironment, HandOver]:
        """A handle for an environment on `agent` (about to start, or a survivor), its memory committed
        there until it dies; a pool's `on_dead` is called only once it was handed over (a failed start
        is not a death)."""
        env_id = env_id or new_env_id()
        stream = LogStream(self.logs_dir / spec.function_name, stream_name or new_stream_name(spec.version),
                           self.max_log_bytes)
        owner: list[DeathListener] = []

        def released(env: RemoteEnvironment) -> None:
            agent.envs.pop(env_id, None)
            self._survivors.pop(env_id, None)
            agent.committed_mb -= spec.memory_mb
            if owner:
                owner[0](env)

        def hand_over(on_dead: DeathListener) -> None:
            owner.append(on_dead)
            if env.dead_reason is not None and env.gone:  # it died before the caller held it
                asyncio.get_running_loop().call_soon(on_dead, env)

        through_ray = None
        if self.calls_through_ray:
            handle = agent.launched.handle

            async def through_ray(env_id: str, values: list[Any]) -> list[Any]:
                return await self.launcher.invoke(handle, env_id, values)

        env = agent.envs[env_id] = RemoteEnvironment(env_id, spec, agent.link, stream, released, through_ray)
        agent.committed_mb += spec.memory_mb
        return env, hand_over

    def forget(self, function_name: str, version: str | None) -> None:
        self._end_survivors(lambda env: env.spec.function_name != function_name or version not in
                            (None, env.spec.version), "function updated")
        for agent in self.agents.values():
            agent.link.send("forget", function_name, version)

    def reap(self, idle_s: float) -> None:
        """Survivors no pool adopted are reaped like any idle environment; agents give back what the dead left,
        and code no environment of a node has used for `idle_s` leaves that node."""
        cutoff = time.monotonic() - idle_s
        self._end_survivors(lambda env: env.last_used >= cutoff, "keep-alive expired")
        for agent in self.agents.values():
            agent.link.send("reap", idle_s)
            self.code.collect(agent, idle_s)

    def stats(self) -> BackendStats:
        agents = list(self.agents.values())
        return BackendStats(sum(len(a.envs) for a in agents), sum(a.committed_mb for a in agents))

    def node_stats(self) -> dict[str, BackendStats]:
        """Per node, for placement decisions and `/ember/info`."""
        return {a.node_id: BackendStats(len(a.envs), a.committed_mb) for a in self.agents.values()}

    def close(self) -> None:
        """Every agent stops, and with it every environment of the cluster."""
        self._closed = True
        for task in self._starting.values():
            task.cancel()
        envs = [env for agent in self.agents.values() for env in agent.envs.values()]
        for agent in list(self.agents.values()):
            agent.link.close("front door shutting down")
            self.launcher.stop(agent.launched.handle)
        for env in envs:  # no REPORT comes after this
            env.log.close()


def _same_environment(survivor: EnvironmentSpec, wanted: EnvironmentSpec) -> bool:
    """The spec the pool would start now, but for what each environment has of its own: its keys, and
    whether it was started ahead of calls."""
    def plain(spec: EnvironmentSpec) -> EnvironmentSpec:
        return dataclasses.replace(spec, credentials={}, initialization_type=ON_DEMAND)

    return plain(survivor) == plain(wanted)


def _warn_if_not_isolated(node_id: str, info: dict[str, Any]) -> None:
    """Said here, where the operator reads, not only in the agent's own log on its node."""
    missing = [name for name in ("namespaces", "cgroups") if info.get(name) is False]
    if missing:
        log.warning("node %s runs environments without %s: limited by rlimits only (memory approximately, CPU "
                    "not at all); `ember doctor` on that node explains", node_id[:8], " or ".join(missing))
