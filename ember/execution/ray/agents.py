"""The front door's view of the cluster's node agents, and where a new environment goes.

Placement is Ember's own accounting, not a Ray resource (ARCHITECTURE.md, "Placement"): the front
door creates every environment, so it knows each node's committed MemorySize exactly and at once.
A node's capacity is its Ray resource `ember_memory_mb` when the operator set one
(`ray start --resources '{"ember_memory_mb": 8192}'`), else Ray's `memory` resource.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from ember.execution.backend import EnvironmentLost
from ember.execution.ray.link import AgentLink
from ember.execution.ray.remote import RemoteEnvironment


@dataclass(frozen=True)
class LaunchedAgent:
    handle: Any  # the Ray actor
    host: str  # where its data channel listens
    port: int
    info: dict[str, Any]  # what its sandboxes enforce (GET /ember/info), its pid


class Launcher(Protocol):
    """Ray's part: which nodes are alive, an agent pinned to a node, code through the object store."""

    token: str  # what agents ask of a front door before they take its requests

    async def alive_nodes(self) -> dict[str, int]:
        """Node id → the memory (MB) Ember may give environments there."""
        ...

    async def launch(self, node_id: str) -> LaunchedAgent: ...

    async def install_code(self, handle: Any, digest: str, zip_bytes: bytes) -> None: ...

    async def invoke(self, handle: Any, env_id: str, values: list[Any]) -> list[Any]:
        """One call as a Ray actor call (the measured alternative to the data channel)."""
        ...

    def stop(self, handle: Any) -> None: ...


@dataclass(eq=False)
class Agent:
    node_id: str
    capacity_mb: int
    launched: LaunchedAgent
    link: AgentLink
    envs: dict[str, RemoteEnvironment] = field(default_factory=dict)
    committed_mb: int = 0  # MemorySize of its live environments and those being created
    code: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # digest → its installation
    code_used: dict[str, float] = field(default_factory=dict)  # digest → when an environment last had it (monotonic)
    collecting: asyncio.Task[None] | None = None  # removing code from the node: installs wait for it
    swept: bool = False  # what an earlier front door left in its code cache was collected

    def code_in_use(self) -> set[str]:
        """The digests (code and layers) of its environments, starting ones included."""
        return {digest for env in self.envs.values() for digest in (env.spec.code_dir.name, *env.spec.layers)}

    @property
    def alive(self) -> bool:
        return self.link.closed is None

    @property
    def free_mb(self) -> int:
        return self.capacity_mb - self.committed_mb


class NoNodes(EnvironmentLost):
    """No node agent is up: nowhere to run an environment (yet: the caller may try again)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, started=False)


def choose(agents: list[Agent], memory_mb: int) -> Agent:
    """The node with the most memory free; ties go to the one with fewer environments. Memory is
    committed before the environment starts, so a burst of cold starts spreads across nodes. A full
    cluster still places (on the least full node): each environment's cgroup holds it to its size."""
    alive = [agent for agent in agents if agent.alive]
    if not alive:
        raise NoNodes("no node agent is running")
    return max(alive, key=lambda agent: (agent.free_mb, -len(agent.envs)))
