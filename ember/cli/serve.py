"""`ember serve`: bind, start, optionally deploy a folder, then announce the endpoint."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from ember.api.server import ClusterUnavailable, bind, serve
from ember.billing.prices import PriceModelError, get_model
from ember.cli.client import DEFAULT_ENDPOINT
from ember.cli.deploy import DeploySpec, deploy, function_name
from ember.config import (
    ClusterSettings,
    LogLimits,
    ReadTimeouts,
    ServerConfig,
    load_credentials,
    only_default_credentials,
    resolve_data_dir,
)
from ember.execution.local.isolation import LEVELS, IsolationUnavailable
from ember.execution.local.network import MODES as NETWORK_MODES
from ember.runtimes import SUPPORTED_RUNTIMES, runtime_version
from ember.runtimes.jvm import JAVA_RUNTIMES, java_problem


class StartupError(Exception):
    """The server cannot start; the message is the one line the user sees."""


@dataclass(frozen=True)
class SandboxOptions:
    isolation: str = "auto"
    zygote: bool = True
    preload: tuple[str, ...] = ("boto3",)
    init_burst: bool = True
    spares: int = 2
    network: str = "egress"
    freeze: bool = True

    @classmethod
    def parse(cls, isolation: str, zygote: str, preload: str, init_burst: str = "on",
              spares: int = 2, network: str = "egress", freeze: str = "on") -> SandboxOptions:
        if isolation not in LEVELS:
            raise StartupError(f"--isolation must be one of {', '.join(LEVELS)}, not {isolation!r}")
        if network not in NETWORK_MODES:
            raise StartupError(f"--network must be one of {', '.join(NETWORK_MODES)}, not {network!r}")
        for flag, value in (("--zygote", zygote), ("--init-burst", init_burst), ("--freeze", freeze)):
            if value not in ("on", "off"):
                raise StartupError(f"{flag} must be on or off, not {value!r}")
        if not 0 <= spares <= 64:
            raise StartupError(f"--spares must be between 0 and 64, not {spares}")
        modules = tuple(name.strip() for name in preload.split(",") if name.strip())
        return cls(isolation, zygote == "on", modules, init_burst == "on", spares, network, freeze == "on")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_config(host: str, port: int, data_dir: str | None, region: str, keep_alive: float,
                 auth: str, account_concurrency: int = 1000,
                 sandbox: SandboxOptions = SandboxOptions(), price_model: str | None = None,
                 strict_roles: bool = False, unsigned_metrics: bool = False,
                 logs: LogLimits = LogLimits(), async_retry_scale: float = 1.0, clock_speed: float = 1.0,
                 cluster: ClusterSettings = ClusterSettings(),
                 read_timeouts: ReadTimeouts = ReadTimeouts()) -> ServerConfig:
    if auth not in ("sigv4", "none"):
        raise StartupError(f"--auth must be sigv4 or none, not {auth!r}")
    if logs.retention_days <= 0 or logs.cap_mb < 1:
        raise StartupError("--log-retention-days must be above 0 and --log-cap-mb at least 1")
    if not 0 < clock_speed <= 100_000:
        raise StartupError(f"--clock-speed must be above 0 and at most 100000, not {clock_speed}")
    if not 0 < async_retry_scale <= 1:
        raise StartupError(f"--async-retry-scale must be above 0 and at most 1, not {async_retry_scale}")
    if min(read_timeouts.head_s, read_timeouts.body_idle_s) <= 0:
        raise StartupError("--header-timeout and --body-timeout must be above 0")
    if account_concurrency < 1:
        raise StartupError(f"--account-concurrency must be at least 1, not {account_concurrency}")
    try:
        model = get_model(price_model).name
    except PriceModelError as exc:
        raise StartupError(f"--price-model: {exc}") from exc
    check_cluster(cluster)
    directory = resolve_data_dir(data_dir)
    directory.chmod(0o700)  # the database, code and logs are the server's user's alone
    credentials = load_credentials(directory)
    if not is_loopback(host) and (auth == "none" or only_default_credentials(credentials)):
        raise StartupError(f"refusing to listen on {host} with only the default test/test credentials; "
                           f"add keys to {directory / 'credentials'} (and keep --auth sigv4)")
    return ServerConfig(data_dir=directory, host=host, port=port, region=region, keep_alive=keep_alive,
                        auth=auth, credentials=credentials, account_concurrency=account_concurrency,
                        isolation=sandbox.isolation, zygote=sandbox.zygote, preload=sandbox.preload,
                        init_burst=sandbox.init_burst, spares=sandbox.spares, network=sandbox.network,
                        freeze=sandbox.freeze,
                        price_model=model, strict_roles=strict_roles, logs=logs, clock_speed=clock_speed,
                        open_paths=is_loopback(host) or unsigned_metrics, async_retry_scale=async_retry_scale,
                        cluster=cluster, read_timeouts=read_timeouts)


def check_cluster(cluster: ClusterSettings) -> None:
    """A cluster needs Ray installed (`pip install 'ember[cluster]'`); one machine never imports it."""
    if cluster.mode not in ("none", "ray"):
        raise StartupError(f"--cluster must be none or ray, not {cluster.mode!r}")
    if not cluster.enabled:
        if cluster.ray_address:
            raise StartupError("--ray-address needs --cluster ray")
        return
    if cluster.data_path not in ("socket", "ray"):
        raise StartupError(f"--cluster-data-path must be socket or ray, not {cluster.data_path!r}")
    if cluster.grace_s < 0:
        raise StartupError(f"--cluster-grace must be 0 or more seconds, not {cluster.grace_s}")
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise StartupError("--cluster ray needs Ray: pip install 'ember[cluster]'") from exc


def run_server(config: ServerConfig, deploy_path: Path | None) -> None:
    logging.basicConfig(level=logging.WARNING, format="ember: %(levelname)s %(name)s: %(message)s")
    if config.auth == "none":
        print("ember: warning: --auth none: requests are not authenticated (for benchmarks only)",
              file=sys.stderr, flush=True)
    if config.clock_speed != 1:
        print(f"ember: note: --clock-speed {config.clock_speed:g}: rules and schedules run on a clock "
              f"{config.clock_speed:g} times faster than the wall clock", file=sys.stderr, flush=True)
    try:
        sock = bind(config.host, config.port)
    except OSError as exc:
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from exc
    port = sock.getsockname()[1]
    _prepare_runtimes()
    endpoint = f"http://{_url_host(config.host)}:{port}"
    announcing: set[asyncio.Task[None]] = set()  # keeps the task referenced until it is done
    try:
        asyncio.run(serve(config, sock, lambda: announcing.add(asyncio.create_task(_announce(endpoint, deploy_path)))))
    except (IsolationUnavailable, ClusterUnavailable) as exc:
        raise StartupError(str(exc)) from exc


def _prepare_runtimes() -> None:
    """Builds the Java runtime (once) before any sandbox is prepared, as sandboxes show its build folder."""
    for runtime in SUPPORTED_RUNTIMES:  # INIT_START's labels, worked out before the event loop runs
        runtime_version(runtime)
    problem = java_problem()
    if problem:
        print(f"ember: note: {', '.join(JAVA_RUNTIMES)} can't run here: {problem}", file=sys.stderr, flush=True)


async def _announce(endpoint: str, deploy_path: Path | None) -> None:
    """Deploy through the real API (as `ember deploy` does), then print the endpoint line."""
    name = None
    if deploy_path is not None:
        spec = DeploySpec(deploy_path)
        name = function_name(spec)
        try:
            await asyncio.to_thread(deploy, spec, endpoint)
        except Exception as exc:  # the server keeps running; the user sees why the deploy failed
            print(f"ember: deploy of {deploy_path} failed: {exc}", file=sys.stderr, flush=True)
            name = None
    print(f"Ember endpoint: {endpoint}", flush=True)
    if endpoint != DEFAULT_ENDPOINT:  # `ember logs`, `invoke`, `ls`… would otherwise call port 9000
        print(f"For the ember CLI in another shell:\n  export EMBER_ENDPOINT_URL={endpoint}", flush=True)
    if name:
        print(_usage(endpoint, name), flush=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _usage(endpoint: str, name: str) -> str:
    boto3_line = (
        "python3 -c \"import boto3, json; c = boto3.client('lambda', endpoint_url='" + endpoint + "', "
        "region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test'); "
        "r = c.invoke(FunctionName='" + name + "', Payload=json.dumps({'name': 'Ember'})); "
        "print(r['Payload'].read().decode())\""
    )
    cli_line = (
        f"AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws lambda invoke --endpoint-url {endpoint} "
        f"--region us-east-1 --function-name {name} --payload '{{\"name\": \"Ember\"}}' /dev/stdout"
    )
    return (f"\nInvoke `{name}` with boto3 (from .venv/bin/python or any Python with boto3):\n  {boto3_line}\n"
            f"\nor with the AWS CLI (.venv/bin/aws):\n  {cli_line}\n"
            f"\nSee its logs: .venv/bin/ember logs {name}\nStop with Ctrl-C.")
