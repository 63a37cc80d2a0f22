"""Ray's part of the cluster backend: membership, one agent pinned to each node, code through the
object store. Nothing else goes through Ray (the data channel is ember.execution.ray.link).

Agents are detached, named actors (`ember-agent-<node id>` in namespace `ember`): they outlive a
front door that dies, keep their environments frozen for the grace period, and a front door that
starts within it finds them by name and attaches instead of starting new ones.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ember.execution.ray.agents import LaunchedAgent

log = logging.getLogger("ember.cluster")
NAMESPACE = "ember"
MEMORY_RESOURCE = "ember_memory_mb"  # `ray start --resources '{"ember_memory_mb": N}'`: Ember's share of a node
STOP_TIMEOUT_S = 10.0


def capacity_mb(resources: dict[str, float]) -> int:
    """The memory Ember may commit on a node: what the operator said, else what Ray counts as free."""
    if MEMORY_RESOURCE in resources:
        return int(resources[MEMORY_RESOURCE])
    return int(resources.get("memory", 0) // (1024 * 1024))


class RayLauncher:
    def __init__(self, agent_class: Any, config: dict[str, Any]) -> None:
        """`agent_class`: the node agent, a ray.remote class (ember.api.node_agent); `config`: what
        every agent is started with (sandbox settings, grace period, the front door's API address)."""
        self.agent_class = agent_class
        self.config = config
        self.token = secrets.token_hex(32)

    async def alive_nodes(self) -> dict[str, int]:
        nodes = await asyncio.to_thread(ray.nodes)
        return {node["NodeID"]: capacity_mb(node.get("Resources", {})) for node in nodes if node.get("Alive")}

    async def launch(self, node_id: str) -> LaunchedAgent:
        """The agent of this node: one a front door before us left running, or a new one."""
        name = f"ember-agent-{node_id}"
        handle = await asyncio.to_thread(_existing, name)
        if handle is not None:
            try:
                info = await handle.attach.remote(self.token, self.config)
                log.info("attached to the running agent of node %s", node_id[:8])
                return LaunchedAgent(handle, info["host"], info["port"], info)
            except Exception as exc:  # it died meanwhile: a new one takes its name
                log.warning("the agent of node %s could not be attached (%s): starting a new one", node_id[:8], exc)
        handle = self.agent_class.options(
            name=name, namespace=NAMESPACE, lifetime="detached", num_cpus=0, max_concurrency=4,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(self.config, self.token)
        try:
            info = await handle.start.remote()
        except BaseException:
            ray.kill(handle, no_restart=True)  # detached: it would outlive us, holding the node's name
            raise
        return LaunchedAgent(handle, info["host"], info["port"], info)

    async def install_code(self, handle: Any, digest: str, zip_bytes: bytes) -> None:
        await handle.install_code.remote(digest, zip_bytes)

    async def invoke(self, handle: Any, env_id: str, values: list[Any]) -> list[Any]:
        reply: list[Any] = await handle.invoke.remote(env_id, values)
        return reply

    def stop(self, handle: Any) -> None:
        """Stop an agent in order (environments, zygote, cgroups, its files), then make sure it is gone."""
        try:
            ray.get(handle.shutdown.remote(), timeout=STOP_TIMEOUT_S)
        except Exception as exc:
            log.warning("a node agent did not stop cleanly: %s", exc)
        ray.kill(handle, no_restart=True)


def _existing(name: str) -> Any:
    try:
        return ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return None
