"""What the API layer talks to: the domain objects one server assembles at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ember.api.code_links import CodeLinks
from ember.core.aliases import AliasStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.credentials import SessionCredentials
from ember.core.function_urls import FunctionUrls
from ember.core.functions import FunctionRegistry
from ember.core.invoker import Invoker
from ember.core.layers import LayerStore
from ember.core.provisioned import ProvisionedConcurrency
from ember.core.resource_policy import ResourcePolicies
from ember.core.roles import RoleStore
from ember.core.versions import VersionStore
from ember.events.async_queue import EventQueue
from ember.events.scheduler import Scheduler
from ember.observe.metrics import Metrics
from ember.triggers.http_apis import HttpApis
from ember.triggers.rest_apis import RestApis


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
    roles: RoleStore = None  # type: ignore[assignment]  # IAM roles and policies (always set by serve())
    sessions: SessionCredentials = field(default_factory=SessionCredentials)  # environments' temporary keys
    strict_roles: bool = False  # CreateFunction refuses a role Ember does not know, as AWS does
    code_links: CodeLinks = field(default_factory=CodeLinks)  # GetFunction's presigned Code.Location
    policies: ResourcePolicies = None  # type: ignore[assignment]  # functions' resource policies (set by serve())
    layers: LayerStore = None  # type: ignore[assignment]  # published layer versions (set by serve())
    http_apis: HttpApis = None  # type: ignore[assignment]  # API Gateway's HTTP APIs (set by serve())
    rest_apis: RestApis = None  # type: ignore[assignment]  # API Gateway's REST APIs (set by serve())
    urls: FunctionUrls = None  # type: ignore[assignment]  # function URLs' configs (set by serve())
    port: int = 0  # the port this server listens on, for the URLs it hands out
    scheduler: Scheduler = None  # type: ignore[assignment]  # rules, schedules and their clock (set by serve())
