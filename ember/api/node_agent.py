"""The node agent: one Ray actor per node, running that node's LocalBackend for the front door.

It is assembled like `ember serve`'s own backend (sandboxes with their zygote, spares, cgroups and
namespaces; a Runtime API listener per environment) but runs it in a thread of its own with its
own event loop, started in `__init__` and alive as long as the actor: the zygote is that thread's
child, and PR_SET_PDEATHSIG follows the parent *thread*, so it must never be one of the actor's
call threads (Ray may end those). If the actor's process dies, the zygote and every environment
die with it; a front door that is lost leaves them frozen for the grace period
(ember.execution.ray.service). Ray calls it only to start, attach, receive code and stop; calls
to functions come over the data channel.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ember.api.runtime_listener import RuntimeApiServer
from ember.api.server import raise_fd_limit
from ember.core.code_store import CodeStore
from ember.core.layer_trees import LayerTrees, tree_key
from ember.execution.local.backend import LocalBackend
from ember.execution.local.isolation import SandboxSettings, open_sandboxes
from ember.execution.ray.forward import Forwarder
from ember.execution.ray.service import AgentService

log = logging.getLogger("ember.agent")
START_TIMEOUT_S = 120.0


AGENT_DIR = re.compile(r"ember-agent-(\d+)-")


def sweep_dead_agents(tmp: Path) -> None:
    """Remove what agents killed without their `shutdown` left (a node removed, Ray stopped): no mount is
    ever made in the host's namespace, so their dirs are plain files."""
    for entry in tmp.glob("ember-agent-*"):
        match = AGENT_DIR.match(entry.name)
        if match and entry.is_dir() and not Path(f"/proc/{match[1]}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def collect_code(code: CodeStore, layer_trees: LayerTrees, keep: set[str], layer_sets: list[list[str]]) -> list[str]:
    """Code trees not in `keep` go, and merged /opt trees of no layer set in `layer_sets` (blocking)."""
    layer_trees.collect({tree_key(layers) for layers in layer_sets if len(layers) > 1})
    return code.collect(keep)


class NodeAgent:
    """Made a Ray actor at launch (ember.api.cluster); `config` is RayLauncher's."""

    def __init__(self, config: dict[str, Any], token: str) -> None:
        import ray

        self.node_id: str = ray.get_runtime_context().get_node_id()
        self.host: str = config.get("listen_host") or ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        self.config = config
        self.token = token
        sweep_dead_agents(Path(tempfile.gettempdir()))
        self.root = Path(tempfile.mkdtemp(prefix=f"ember-agent-{os.getpid()}-"))
        self._code = CodeStore(self.root / "code")  # the front door's layout: <digest>/ trees, layers in .opt/
        self.info: dict[str, Any] = {}
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._service: AgentService | None = None
        self._forwarder: Forwarder | None = None
        self._expired_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="ember-node-agent", daemon=True)
        self._thread.start()

    def start(self) -> dict[str, Any]:
        """Once the sandboxes are ready: where the data channel listens, and what the node enforces."""
        if not self._ready.wait(START_TIMEOUT_S):
            raise TimeoutError("the node agent did not start")
        if self._error is not None:
            raise RuntimeError(f"the node agent could not start: {self._error}") from self._error
        return self.info

    def attach(self, token: str, config: dict[str, Any]) -> dict[str, Any]:
        """A new front door takes over (the last one was lost): its token and API address from now on."""
        info = self.start()
        assert self._loop is not None

        def switch() -> None:
            assert self._service is not None and self._forwarder is not None
            self._service.token = token
            self._forwarder.host, self._forwarder.port = config["api"]

        self._loop.call_soon_threadsafe(switch)
        return info

    def install_code(self, digest: str, zip_bytes: bytes) -> None:
        """A function's code, unpacked once per code hash into this node's cache (run on a Ray thread)."""
        if hashlib.sha256(zip_bytes).hexdigest() != digest:
            raise ValueError(f"the code sent for {digest} has another hash")
        self._code.put(zip_bytes)  # checked, unpacked once, kept with its zip as the front door keeps it

    def invoke(self, env_id: str, values: list[Any]) -> list[Any]:
        """A call as a Ray actor call: measured against the data channel (bench/cluster.py), not used otherwise."""
        assert self._loop is not None and self._service is not None
        return asyncio.run_coroutine_threadsafe(self._service.invoke_direct(env_id, values), self._loop).result()

    def environments(self) -> int:
        return self._service.environments if self._service is not None else 0

    def shutdown(self) -> None:
        """Every environment dies, the zygote stops, the cgroup tree and the node's files go."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            log.exception("the node agent stopped")
            self._error = exc
            self._ready.set()
        if self._expired_at is not None:  # the actor ends with its environments: nothing waits for it
            shutil.rmtree(self.root, ignore_errors=True)
            os._exit(0)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        raise_fd_limit()
        sandboxes = await open_sandboxes(self.root / "sandbox", SandboxSettings(**self.config["sandbox"]))
        api_host, api_port = self.config["api"]
        self._forwarder = Forwarder(api_host, api_port)
        sandboxes.serve_api = self._forwarder.open
        sandboxes.host_api_url = f"http://{api_host}:{api_port}"
        backend = LocalBackend(self.root / "logs", RuntimeApiServer().open, sandboxes)
        layer_trees = LayerTrees(self._code)
        self._service = AgentService(backend, self.root / "code", self.token, float(self.config["grace_s"]),
                                     self._expired, self.node_id, layer_trees.ensure,
                                     lambda keep, layer_sets: collect_code(self._code, layer_trees, keep, layer_sets))
        try:
            port = await self._service.listen(self.host)
            self.info = {"host": self.host, "port": port, "node_id": self.node_id, "pid": os.getpid(),
                         "namespaces": sandboxes.isolate, "network": sandboxes.network,
                         "cgroups": sandboxes.cgroups is not None,
                         "cpu_quota": sandboxes.cgroups is not None and "cpu" in sandboxes.cgroups.hierarchies}
            self._ready.set()
            await self._stop.wait()
        finally:
            self._service.close()
            backend.close()

    def _expired(self) -> None:
        """No front door came back within the grace period: nothing left to keep; the actor ends."""
        assert self._stop is not None
        self._expired_at = time.monotonic()
        self._stop.set()
