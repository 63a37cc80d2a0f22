"""One Ember server: assemble the parts, serve, and shut down in order.

Shutdown order (SIGINT/SIGTERM): stop accepting and let in-flight HTTP calls finish (bounded) →
stop the scheduler (a run is one transaction: it happened or it did not) → cancel running async events
(they stay queued for the next start) → kill every environment → close the database. Environments also die
on their own if this process is killed (-9).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol

import uvicorn

from ember.api.app import build_app
from ember.api.guarded_protocol import guarded_protocol
from ember.api.nested_api import NestedApi
from ember.api.runtime_listener import RuntimeApiServer
from ember.api.services import Services
from ember.billing.prices import get_model
from ember.config import ServerConfig
from ember.core.aliases import AliasStore
from ember.core.code_gc import CodeCollector
from ember.core.code_store import CodeStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.function_layers import FunctionLayers
from ember.core.function_urls import FunctionUrls
from ember.core.functions import FunctionRegistry
from ember.core.invoker import Invoker
from ember.core.layers import LayerStore
from ember.core.provisioned import ProvisionedConcurrency
from ember.core.records import InvocationRecords
from ember.core.resource_policy import ResourcePolicies
from ember.core.roles import RoleStore
from ember.core.versions import VersionStore
from ember.events.async_queue import EventQueue
from ember.events.clock import SchedulerClock
from ember.events.gate import DeliveryGate
from ember.events.rules import RuleStore
from ember.events.scheduler import Scheduler
from ember.events.schedules import ScheduleStore
from ember.execution.backend import Backend
from ember.execution.local.backend import LocalBackend
from ember.execution.local.isolation import SandboxSettings, open_sandboxes
from ember.execution.local.sandbox import Sandboxes
from ember.execution.pools import PoolManager
from ember.observe import log_retention
from ember.observe.metrics import Metrics
from ember.triggers.api_store import ApiStore
from ember.triggers.http_apis import HttpApis
from ember.triggers.rest_apis import RestApis

log = logging.getLogger("ember.server")
GRACEFUL_SHUTDOWN_S = 10


class ClusterUnavailable(Exception):
    """`--cluster ray` could not join or start its cluster; the message says why."""


class _Uvicorn(uvicorn.Server):
    """uvicorn, told when it is listening, and leaving signals to be handled exactly once here."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after shutdown, which would kill us before our own cleanup.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def bind(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(False)
    return sock


def host_url(sock: socket.socket) -> str:
    """Ember's API as a process of this host reaches it (a wildcard bind is reached on loopback)."""
    host, port = sock.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def execute_api_endpoint(sock: socket.socket, region: str) -> Callable[[str], str]:
    """An HTTP API's ApiEndpoint: AWS's host name under `.localhost`, which curl and browsers resolve to loopback."""
    port = sock.getsockname()[1]
    return lambda api_id: f"http://{api_id}.execute-api.{region}.localhost:{port}"


def server_info(config: ServerConfig, enforced: dict[str, object]) -> dict[str, object]:
    """What clients like `ember tune` need to know before trusting durations and prices."""
    return {"price_model": config.price_model, "isolation": config.isolation, "zygote": config.zygote,
            **enforced,
            "data_dir": str(config.data_dir),  # where `ember cost` and `ember schedules` find what this server keeps
            "clock_speed": config.clock_speed}


def sandbox_info(sandboxes: Sandboxes) -> dict[str, object]:
    """What this machine's sandboxes enforce (a cluster's agents say the same of their nodes)."""
    cgroups = sandboxes.cgroups
    return {"namespaces": sandboxes.isolate, "network": sandboxes.network, "cgroups": cgroups is not None,
            "cpu_quota": cgroups is not None and "cpu" in cgroups.hierarchies}


class Machine(Protocol):
    """Where environments run: this machine (LocalMachine) or a cluster (ember.api.cluster.Cluster)."""

    @property
    def backend(self) -> Backend: ...

    @property
    def info(self) -> dict[str, object]:
        """What its sandboxes enforce, for GET /ember/info."""
        ...

    async def serve_nested(self, api: NestedApi, sock: socket.socket) -> None: ...

    def background(self) -> list[Coroutine[Any, Any, None]]: ...

    def close(self) -> None: ...


class LocalMachine:
    """The backend of one machine: this process's zygote, cgroups and Runtime API listeners."""

    def __init__(self, backend: LocalBackend, sandboxes: Sandboxes) -> None:
        self.backend = backend
        self.sandboxes = sandboxes
        self.info = sandbox_info(sandboxes)

    @classmethod
    async def start(cls, config: ServerConfig) -> LocalMachine:
        settings = SandboxSettings(config.isolation, config.preload if config.zygote else None, config.init_burst,
                                   spares=config.spares, network=config.network, freeze=config.freeze)
        sandboxes = await open_sandboxes(config.sandbox_dir, settings)
        return cls(LocalBackend(config.logs_dir, RuntimeApiServer().open, sandboxes, config.logs.cap_bytes), sandboxes)

    async def serve_nested(self, api: NestedApi, sock: socket.socket) -> None:
        """Functions reach Ember through the listener inside their namespace: always signed."""
        self.sandboxes.serve_api = api.open
        self.sandboxes.host_api_url = host_url(sock)

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return []

    def close(self) -> None:
        self.backend.close()


async def open_backend(config: ServerConfig) -> Machine:
    """This machine's sandboxes, or a Ray cluster's nodes (Ray is imported only then)."""
    if not config.cluster.enabled:
        return await LocalMachine.start(config)
    from ember.api.cluster import Cluster

    return await Cluster.start(config)


async def sweep_logs(config: ServerConfig) -> None:
    """Apply the log retention and cap now and then, off the event loop (it walks the logs dir)."""
    max_age_s = config.logs.retention_days * 86400
    while True:
        removed = await asyncio.to_thread(log_retention.sweep, config.logs_dir, max_age_s, config.logs.cap_bytes)
        if removed:
            log.info("log retention removed %d streams", removed)
        await asyncio.sleep(log_retention.SWEEP_INTERVAL_S)


def open_scheduler(db: sqlite3.Connection, config: ServerConfig, services: Services) -> Scheduler:
    """Rules, schedules, their clock and the loop that runs them, its timers brought up to date with the stores."""
    clock = SchedulerClock.load(db, config.clock_speed)
    rules = RuleStore(db, config.region)
    schedules = ScheduleStore(db, config.region, clock)
    gate = DeliveryGate(services.policies, services.roles, services.invoker.resolve, config.strict_roles)
    scheduler = Scheduler(db, clock, rules, schedules, services.events, gate, services.metrics, config.region)
    rules.on_change = schedules.on_change = scheduler.changed
    scheduler.start()
    return scheduler


def raise_fd_limit(wanted: int = 1 << 20) -> None:
    """Each environment holds listeners, a pipe and a pidfd, and every client a socket: allow many,
    raising the hard limit too where the server may (root), and say so once where it can't."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        ceiling = min(wanted, int(Path("/proc/sys/fs/nr_open").read_text()))
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, max(hard, ceiling)))
    except (OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if hard < 65536:
            log.warning("open files are limited to %d (RLIMIT_NOFILE): the server refuses connections past it", hard)


async def serve(config: ServerConfig, sock: socket.socket, on_started: Callable[[], None]) -> None:
    """Run until SIGINT/SIGTERM; `on_started` is called once requests are being served."""
    raise_fd_limit()
    machine = await open_backend(config)
    backend = machine.backend
    db = open_database(config.db_path)
    sessions = SessionCredentials()  # environments' temporary keys: issue/revoke; the middleware checks them
    code = CodeStore(config.code_dir)
    layers = LayerStore(db, code, config.region)
    function_layers = FunctionLayers(layers, host_url(sock))
    registry = FunctionRegistry(db, code, config.region, function_layers)
    pools = PoolManager(backend, config.keep_alive, sessions)
    versions = VersionStore(db, registry)
    aliases = AliasStore(db, registry, versions)
    metrics = Metrics()  # this server's own registry, served at /metrics
    limiter = ConcurrencyLimiter(registry, config.account_concurrency, metrics)
    records = InvocationRecords(config.db_path)
    invoker = Invoker(registry, versions, aliases, limiter, pools, records, config.region,
                      get_model(config.price_model), metrics)
    events = EventQueue(db, invoker, retry_scale=config.async_retry_scale)
    requeued = events.requeue_unfinished()
    if requeued:
        log.info("re-queued %d unfinished events", requeued)
    # Provisioned concurrency: stored configs are provisioned again at every start.
    provisioned = ProvisionedConcurrency(db, registry, versions, aliases, limiter, invoker)
    provisioned.start()
    collector = CodeCollector(db, registry.code, pools.code_in_use, layers)
    registry.subscribe(collector.on_change)  # after the pools': a retired pool's busy code is kept
    collector.collect()  # code left unreferenced by an earlier run
    api_store, endpoint = ApiStore(db), execute_api_endpoint(sock, config.region)  # API Gateway's APIs, both types
    services = Services(registry, versions, aliases, limiter, invoker, events, config.region, config.logs_dir,
                        provisioned, metrics, server_info(config, machine.info), roles=RoleStore(db), sessions=sessions,
                        strict_roles=config.strict_roles,
                        policies=ResourcePolicies(db, registry, config.region),
                        http_apis=HttpApis(api_store, config.region, endpoint),
                        rest_apis=RestApis(api_store, config.region, endpoint),
                        urls=FunctionUrls(db, registry, aliases), port=sock.getsockname()[1], layers=layers)
    services.scheduler = open_scheduler(db, config, services)
    credentials = None if config.auth == "none" else config.credentials
    app = build_app(services, credentials, open_paths=config.open_paths)
    # Functions reach Ember through the listener inside their namespace: always signed, never open paths.
    protocol = guarded_protocol(config.read_timeouts)
    await machine.serve_nested(NestedApi(build_app(services, credentials, open_paths=False), protocol), sock)
    server = _Uvicorn(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", proxy_headers=False,
                                     http=protocol,
                                     timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S), on_started)
    background = [asyncio.create_task(pools.run_reaper(), name="reaper"),
                  asyncio.create_task(sweep_logs(config), name="log retention"),
                  asyncio.create_task(events.run(), name="events"),
                  asyncio.create_task(services.scheduler.run(), name="scheduler"),
                  asyncio.create_task(collector.run(), name="code-gc")]
    background += [asyncio.create_task(work, name="backend") for work in machine.background()]
    try:
        await server.serve(sockets=[sock])
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await events.stop()
        pools.destroy_all("server shutdown")
        machine.close()
        records.close()
        db.close()
