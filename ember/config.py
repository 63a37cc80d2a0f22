"""The server's settings, resolved once at start and passed down (never read from globals)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ACCOUNT_ID = "000000000000"
DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET_KEY = "test"


def resolve_data_dir(flag: str | None, create: bool = True) -> Path:
    """Data dir precedence: the flag, then $EMBER_HOME, then ./.ember."""
    chosen = flag or os.environ.get("EMBER_HOME") or ".ember"
    path = Path(chosen).expanduser().resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class LogLimits:
    """How much log a function keeps, and for how long (ember.observe.log_retention)."""

    retention_days: float = 30.0
    cap_mb: int = 1024  # per function, all its streams; one stream holds at most this much too

    @property
    def cap_bytes(self) -> int:
        return self.cap_mb * 1024 * 1024


@dataclass(frozen=True)
class ReadTimeouts:
    """How long a client may take to send a request's head, and pause in its body (ember.api.guarded_protocol)."""

    head_s: float = 20.0
    body_idle_s: float = 30.0


@dataclass(frozen=True)
class ClusterSettings:
    """`ember serve --cluster ray`: environments on a Ray cluster's nodes (ember.api.cluster)."""

    mode: str = "none"  # none | ray
    ray_address: str | None = None  # join this cluster; None starts one on this machine
    host: str | None = None  # where node agents reach the front door; None: the head's Ray address
    grace_s: float = 60.0  # how long agents keep environments frozen after losing the front door
    object_store_mb: int = 128  # the object store of a cluster Ember starts itself (code travels through it)
    data_path: str = "socket"  # how calls travel: Ember's own channel, or "ray" actor calls (benchmarks only)

    @property
    def enabled(self) -> bool:
        return self.mode == "ray"


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 9000
    region: str = "us-east-1"
    keep_alive: float = 600.0
    auth: str = "sigv4"
    account_concurrency: int = 1000
    isolation: str = "auto"  # auto | full | rlimits (ember.execution.local.isolation)
    network: str = "egress"  # egress | none (ember.execution.local.network)
    logs: LogLimits = field(default_factory=lambda: LogLimits())
    read_timeouts: ReadTimeouts = field(default_factory=lambda: ReadTimeouts())
    zygote: bool = True
    preload: tuple[str, ...] = ("boto3",)
    init_burst: bool = True
    freeze: bool = True  # idle environments frozen between calls (cgroup freezer), as on AWS
    spares: int = 2
    price_model: str = "2025"  # how calls are billed and priced (ember/billing/price_models.json)
    credentials: dict[str, str] = field(default_factory=lambda: {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY})
    strict_roles: bool = False  # CreateFunction refuses a role Ember does not know
    open_paths: bool = True  # /metrics and /ember/info unsigned (loopback binds, or --unsigned-metrics)
    clock_speed: float = 1.0  # the scheduler's clock runs this much faster than the wall clock (tests, benchmarks)
    # Multiplies every async retry delay and event age (ember.events.retry_policy): below 1 for tests only.
    async_retry_scale: float = 1.0
    cluster: ClusterSettings = field(default_factory=lambda: ClusterSettings())

    @property
    def db_path(self) -> Path:
        return self.data_dir / "ember.db"

    @property
    def code_dir(self) -> Path:
        return self.data_dir / "code"

    @property
    def sandbox_dir(self) -> Path:
        """Where the zygote mounts /tmp slots and roots, in its own mount namespace (empty here)."""
        return self.data_dir / "sandbox"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


def load_credentials(data_dir: Path, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`<data-dir>/credentials` and $EMBER_CREDENTIALS; the public test/test only while neither holds a key."""
    creds = _parse_credentials((data_dir / "credentials").read_text()) if (data_dir / "credentials").exists() else {}
    creds.update(_parse_credentials(environ.get("EMBER_CREDENTIALS", "").replace(",", "\n").replace(":", " ")))
    return creds or {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY}


def _parse_credentials(text: str) -> dict[str, str]:
    """Lines of `ACCESS_KEY SECRET`, or INI-style aws_access_key_id/aws_secret_access_key pairs."""
    creds: dict[str, str] = {}
    pending: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("["):
            continue
        if "=" in line:
            key, _, value = (part.strip() for part in line.partition("="))
            pending[key.lower()] = value
            if {"aws_access_key_id", "aws_secret_access_key"} <= pending.keys():
                creds[pending.pop("aws_access_key_id")] = pending.pop("aws_secret_access_key")
        elif len(line.split()) == 2:
            key_id, secret = line.split()
            creds[key_id] = secret
    return creds


def only_default_credentials(creds: dict[str, str]) -> bool:
    return creds == {DEFAULT_ACCESS_KEY: DEFAULT_SECRET_KEY}
