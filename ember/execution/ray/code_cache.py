"""Which code each node holds: a code hash reaches a node once, with the first environment of it there,
and leaves once none of that node's environments has had it for the keep-alive.

The front door decides both, from what it already knows (each node's environments and their specs), so
no node is asked what it holds: installing goes through Ray's object store (`Launcher.install_code`),
removing over the data channel (`collect`, with what to keep). An installation waits for a collection
under way, so a digest is never installed and removed at once; the agent keeps what its own environments
run whatever it is told (ember.execution.ray.service).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from ember.execution.ray.agents import Agent, Launcher

log = logging.getLogger("ember.cluster")


class NodeCode:
    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher

    async def ensure(self, agent: Agent, code_dir: Path) -> None:
        """Code (the function's or a layer's) on that node: sent once per code hash, through Ray's object store."""
        digest = code_dir.name
        if agent.collecting is not None:  # it may be removing this very digest
            await asyncio.shield(agent.collecting)
        task = agent.code.get(digest)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = agent.code[digest] = asyncio.create_task(self._install(agent, code_dir))
        await asyncio.shield(task)

    async def _install(self, agent: Agent, code_dir: Path) -> None:
        zip_bytes = await asyncio.to_thread((code_dir.parent / f"{code_dir.name}.zip").read_bytes)
        await self.launcher.install_code(agent.launched.handle, code_dir.name, zip_bytes)

    def collect(self, agent: Agent, idle_s: float) -> None:
        """Drop from the node the code hashes none of its environments has had for `idle_s` (and, the first
        time, whatever an earlier front door left there); a later environment of one installs it again."""
        if agent.collecting is not None:
            return
        stale = stale_code(agent, time.monotonic(), idle_s)
        if not stale and agent.swept:
            return
        for digest in stale:
            del agent.code[digest], agent.code_used[digest]
        agent.swept = True
        keep = sorted(set(agent.code) | agent.code_in_use())
        agent.collecting = asyncio.get_running_loop().create_task(self._collect(agent, keep))

    async def _collect(self, agent: Agent, keep: list[str]) -> None:
        try:
            (removed,) = await agent.link.request("collect", keep)
            if removed:
                log.info("removed %d code trees from node %s", len(removed), agent.node_id[:8])
        except Exception as exc:  # the node went (its cache with it), or refused: the next reap tries again
            log.warning("collecting code on node %s failed: %s", agent.node_id[:8], exc)
            agent.swept = False
        finally:
            agent.collecting = None


def stale_code(agent: Agent, now: float, idle_s: float) -> list[str]:
    """The digests installed on the node that none of its environments has had for `idle_s`; when each
    was last seen in use is kept (from the first time it was seen at all) for the next look."""
    in_use = agent.code_in_use()
    agent.code_used = {digest: now if digest in in_use else agent.code_used.get(digest, now) for digest in agent.code}
    return [digest for digest, used in agent.code_used.items() if now - used > idle_s]
