"""`ember serve --cluster ray`: join (or start) a Ray cluster and put the Ray backend behind the seam.

The front door stays here: the Lambda API, SigV4, the registry and the account's concurrency are
decided in this process; the nodes run environments. Two listeners face the nodes, on
`--cluster-host`: node agents' data channels are dialled from here (ember.execution.ray.link), and
nested calls from sandboxes on any node arrive at a listener serving the signed public app, where
an environment's session keys are checked as on one machine. Imported only in cluster mode, so a
single machine never loads Ray.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import os
import socket
from collections.abc import Coroutine
from dataclasses import asdict
from typing import Any

import ray

from ember.api.nested_api import NestedApi
from ember.api.node_agent import NodeAgent
from ember.api.server import ClusterUnavailable, bind
from ember.config import ServerConfig, only_default_credentials
from ember.execution.local.isolation import SandboxSettings
from ember.execution.ray.backend import RayBackend
from ember.execution.ray.launcher import NAMESPACE, RayLauncher

log = logging.getLogger("ember.cluster")
MB = 1024 * 1024
HEAD_WAIT = "gcs_rpc_server_reconnect_timeout_s"  # Ray's: how long a node (or driver) waits for a lost head


class Cluster:
    def __init__(self, backend: RayBackend, nested: socket.socket, started_ray: bool) -> None:
        self.backend = backend
        self.nested_socket = nested
        self.started_ray = started_ray
        self._nested: asyncio.AbstractServer | None = None

    @classmethod
    async def start(cls, config: ServerConfig) -> Cluster:
        """Connect to Ray, open the nested-call listener, and start an agent on every node."""
        settings = config.cluster
        try:
            started = await asyncio.to_thread(connect, settings.ray_address, settings.object_store_mb, settings.grace_s)
        except Exception as exc:
            raise ClusterUnavailable(f"cannot reach the Ray cluster: {exc}") from exc
        head: str = "127.0.0.1" if started else ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        host = settings.host or head
        if not _loopback(host) and only_default_credentials(config.credentials):
            _disconnect()
            raise ClusterUnavailable(f"refusing to serve nested calls on {host} with only the default test/test "
                                     f"credentials; add keys to {config.data_dir / 'credentials'}")
        nested = bind(host, 0)
        launcher = RayLauncher(ray.remote(NodeAgent), agent_config(config, host, nested.getsockname()[1]))
        backend = RayBackend(config.logs_dir, launcher, config.logs.cap_bytes,
                             calls_through_ray=settings.data_path == "ray")
        try:
            await backend.start()
        except Exception as exc:
            backend.close()
            nested.close()
            _disconnect()
            raise ClusterUnavailable(str(exc)) from exc
        log.info("cluster of %d nodes; agents reach this server at %s", len(backend.agents), host)
        return cls(backend, nested, started)

    @property
    def info(self) -> dict[str, object]:
        agent = self.backend.info
        keys = ("namespaces", "network", "cgroups", "cpu_quota")
        enforced: dict[str, object] = {key: agent[key] for key in keys if key in agent}
        return {**enforced, "cluster": "ray", "nodes": len(self.backend.agents), "agent_pid": agent.get("pid")}

    async def serve_nested(self, api: NestedApi, sock: socket.socket) -> None:
        """Nested calls from every node arrive at the listener on the cluster's side (`sock`, the public
        one, is not used: nodes may not reach it)."""
        self._nested = await api.open(self.nested_socket)

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return [self.backend.watch()]

    def close(self) -> None:
        """After the pools: agents stop (every environment with them), then Ray, if Ember started it."""
        self.backend.close()
        if self._nested is not None:
            self._nested.close()
        else:
            self.nested_socket.close()
        _disconnect()


def agent_config(config: ServerConfig, host: str, nested_port: int) -> dict[str, Any]:
    """What every node agent starts with: the server's sandbox settings and where to reach it."""
    sandbox = SandboxSettings(config.isolation, config.preload if config.zygote else None, config.init_burst,
                              spares=config.spares, network=config.network, freeze=config.freeze)
    fields = {k: v for k, v in asdict(sandbox).items() if k != "mounts"}
    return {"sandbox": fields, "grace_s": config.cluster.grace_s, "api": (host, nested_port),
            "listen_host": "127.0.0.1" if _loopback(host) else None}


def connect(address: str | None, object_store_mb: int, grace_s: float) -> bool:
    """Join the cluster at `address`, or start a lean one on this machine; True if Ember started it. One
    Ember starts waits for a lost head as long as agents wait for a lost front door: its nodes' raylets,
    and with them the agents and their environments, end once they could not reach it for `grace_s`
    (a joined cluster's head is told so by `ray start --system-config`, README)."""
    if address:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
        return False
    ray.init(include_dashboard=False, object_store_memory=object_store_mb * MB, num_cpus=os.cpu_count(),
             namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING,
             _system_config={HEAD_WAIT: max(1, math.ceil(grace_s))})
    return True


def _disconnect() -> None:
    """Leave the cluster; one Ember started goes with it."""
    if ray.is_initialized():
        ray.shutdown()


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
