"""Provisioned concurrency: configs per (function, qualifier), kept in SQLite, each keeping N
environments of its version initialised ahead of any call.

A qualifier is a published version or an alias; an alias provisions the version it points at (a
weighted alias provisions its primary version only: calls routed to the additional version run on
demand). A version's pool is asked for the sum of the configs that resolve to it, recomputed
(`_sync`) whenever a config, an alias or a version changes, and once at server start.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ember.arns import function_arn
from ember.core.aliases import AliasStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.functions import LATEST, FunctionRecord, FunctionRegistry, now_iso
from ember.core.invoker import Invoker
from ember.core.versions import VersionStore
from ember.errors import (
    InvalidParameterValueException,
    ProvisionedConcurrencyConfigNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
)

UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_A_VERSION = "The function resource provided must be an alias or a published version."
NOT_FOUND = "No Provisioned Concurrency Config found for this function"
ALIAS_ON_PROVISIONED_VERSION = "Alias can't be used for Provisioned Concurrency configuration on an already " \
    "Provisioned version"
VERSION_UNDER_ALIAS = "Version is pointed by a Provisioned Concurrency alias"


@dataclass
class ProvisionedConfig:
    name: str
    qualifier: str
    requested: int
    last_modified: str


class ProvisionedConcurrency:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry, versions: VersionStore,
                 aliases: AliasStore, limiter: ConcurrencyLimiter, invoker: Invoker) -> None:
        self.db = db
        self.registry = registry
        self.versions = versions
        self.aliases = aliases
        self.limiter = limiter
        self.invoker = invoker
        self._configs: dict[str, dict[str, ProvisionedConfig]] = defaultdict(dict)
        self._targets: dict[str, Counter[str]] = {}  # function → version → environments, as last asked
        for row in db.execute("SELECT name, qualifier, requested, last_modified FROM provisioned_concurrency"):
            self._configs[row["name"]][row["qualifier"]] = ProvisionedConfig(*row)
        registry.subscribe(self._on_version_change)
        aliases.subscribe(self._on_alias_change)

    def start(self) -> None:
        """Provision every stored config again (at server start, on the running event loop)."""
        for name in list(self._configs):
            self._sync(name)

    def put(self, name: str, qualifier: str | None, requested: int) -> dict[str, Any]:
        version = self._check_qualifier(name, qualifier, UNPUBLISHED)
        assert qualifier is not None
        if version == LATEST:
            raise InvalidParameterValueException(UNPUBLISHED)
        self._check_conflicts(name, qualifier, version)
        current = self._configs[name].get(qualifier)
        self.limiter.check_provisioned(name, requested, current.requested if current else 0)
        config = self._configs[name][qualifier] = ProvisionedConfig(name, qualifier, requested, now_iso())
        self.db.execute("INSERT INTO provisioned_concurrency (name, qualifier, requested, last_modified) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (name, qualifier) DO UPDATE SET "
                        "requested = excluded.requested, last_modified = excluded.last_modified",
                        (name, qualifier, requested, config.last_modified))
        self._sync(name)
        return self.describe(config)

    def get(self, name: str, qualifier: str | None) -> dict[str, Any]:
        self._check_qualifier(name, qualifier, NOT_A_VERSION)
        config = self._configs.get(name, {}).get(qualifier or "")
        if config is None:
            raise ProvisionedConcurrencyConfigNotFoundException(NOT_FOUND)
        return self.describe(config)

    def list(self, name: str) -> list[dict[str, Any]]:
        """Every config of the function, by qualifier, each with its qualified ARN."""
        self.registry.get(name)
        configs = sorted(self._configs.get(name, {}).values(), key=lambda c: c.qualifier)
        return [{"FunctionArn": function_arn(self.registry.region, name, c.qualifier), **self.describe(c)}
                for c in configs]

    def delete(self, name: str, qualifier: str | None) -> None:
        """Idempotent, as on AWS: a qualifier without a config is no error."""
        self._check_qualifier(name, qualifier, NOT_A_VERSION)
        self._forget(name, qualifier or "")

    def describe(self, config: ProvisionedConfig) -> dict[str, Any]:
        """AWS's view of a config: READY once all its environments finished Init, FAILED if an Init failed."""
        status, available, reason = self._state(config)
        body: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": config.requested,
            "AvailableProvisionedConcurrentExecutions": available,
            "AllocatedProvisionedConcurrentExecutions": available,
            "Status": status, "LastModified": config.last_modified,
        }
        if reason:
            body["StatusReason"] = reason
        return body

    def _state(self, config: ProvisionedConfig) -> tuple[str, int, str | None]:
        version = self._resolve(config.name, config.qualifier)
        record = self._record(config.name, version) if version else None
        if record is None:
            return "FAILED", 0, UNPUBLISHED
        pool = self.invoker.pool_of(record)
        ready = min(config.requested, pool.provisioned_ready)
        if pool.failure is not None:
            return "FAILED", ready, pool.failure
        if pool.provisioned_ready >= max(pool.target, config.requested):
            return "READY", config.requested, None
        return "IN_PROGRESS", ready, None

    def _check_qualifier(self, name: str, qualifier: str | None, latest_message: str) -> str:
        """The version `qualifier` resolves to; AWS's error if it is missing, `$LATEST` or unknown."""
        self.registry.get(name)
        if qualifier in (None, "", LATEST):
            raise InvalidParameterValueException(latest_message)
        assert qualifier is not None
        if qualifier.isdigit():
            return self.versions.get(name, qualifier).version
        if not self.aliases.exists(name, qualifier):
            raise ResourceNotFoundException(
                f"Cannot find alias arn: {function_arn(self.registry.region, name, qualifier)}")
        return str(self.aliases.get(name, qualifier)["FunctionVersion"])

    def _check_conflicts(self, name: str, qualifier: str, version: str) -> None:
        """AWS's rule: a version is provisioned either directly or through one alias, not both."""
        others = [c.qualifier for c in self._configs.get(name, {}).values() if c.qualifier != qualifier]
        if not qualifier.isdigit() and version in others:
            raise ResourceConflictException(ALIAS_ON_PROVISIONED_VERSION)
        if qualifier.isdigit() and any(not q.isdigit() and self._resolve(name, q) == version for q in others):
            raise ResourceConflictException(VERSION_UNDER_ALIAS)

    def _resolve(self, name: str, qualifier: str) -> str | None:
        """The version a config's qualifier points at now; None if it no longer exists."""
        if qualifier.isdigit():
            return qualifier if self._record(name, qualifier) is not None else None
        if not self.aliases.exists(name, qualifier):
            return None
        return str(self.aliases.get(name, qualifier)["FunctionVersion"])

    def _record(self, name: str, version: str) -> FunctionRecord | None:
        try:
            return self.versions.get(name, version)
        except ResourceNotFoundException:
            return None

    def _sync(self, name: str) -> None:
        """Ask each version's pool for the environments its configs add up to (0 releases them)."""
        targets: Counter[str] = Counter()
        if self.registry.exists(name):
            for config in self._configs.get(name, {}).values():
                version = self._resolve(name, config.qualifier)
                if version not in (None, LATEST):
                    targets[version] += config.requested
        for version in set(self._targets.get(name, ())) | set(targets):
            record = self._record(name, version)
            if record is not None:
                self.invoker.pool_of(record).provision(targets[version])
        self._targets[name] = targets
        self.limiter.set_provisioned(name, dict(targets))

    def _forget(self, name: str, qualifier: str) -> None:
        if self._configs.get(name, {}).pop(qualifier, None) is not None:
            self.db.execute("DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", (name, qualifier))
            self._sync(name)

    def _on_version_change(self, name: str, version: str | None) -> None:
        """A deleted function or version takes its configs with it; a new `$LATEST` changes nothing."""
        if version is None:
            self._configs.pop(name, None)
            self._targets.pop(name, None)
            self.db.execute("DELETE FROM provisioned_concurrency WHERE name = ?", (name,))
            self.limiter.set_provisioned(name, {})
        elif version != LATEST:
            self._forget(name, version)

    def _on_alias_change(self, name: str, alias: str) -> None:
        """A deleted alias takes its config with it; a repointed one moves its environments."""
        if not self.aliases.exists(name, alias):
            self._forget(name, alias)
        elif alias in self._configs.get(name, {}):
            self._sync(name)
