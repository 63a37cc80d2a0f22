"""What the API layer talks to: the domain objects one server assembles at start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ember.core.aliases import AliasStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.functions import FunctionRegistry
from ember.core.invoker import Invoker
from ember.core.provisioned import ProvisionedConcurrency
from ember.core.versions import VersionStore
from ember.events.async_queue import EventQueue
from ember.observe.metrics import Metrics


@dataclass
class Services:
    registry: FunctionRegistry
    versions: VersionStore
    aliases: AliasStore
    limiter: ConcurrencyLimiter
    invoker: Invoker
    events: EventQueue
    region: str
    logs_dir: Path
    provisioned: ProvisionedConcurrency
    metrics: Metrics
    info: dict[str, object]  # what `GET /ember/info` says: the server's price model and what it enforces
