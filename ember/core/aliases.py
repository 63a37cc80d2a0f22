"""Aliases: named pointers to a version, optionally splitting traffic with a second version by weight."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ember.arns import function_arn
from ember.core.functions import LATEST, FunctionRegistry, check_revision_id
from ember.core.validation import constraint_error
from ember.core.versions import VersionStore
from ember.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)

ALIAS_RE = re.compile(r"^(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})$")
# Called with (function, alias) after an alias was created, changed or deleted.
AliasListener = Callable[[str, str], None]


class AliasStore:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry, versions: VersionStore,
                 chooser: random.Random | None = None) -> None:
        self.db = db
        self.registry = registry
        self.versions = versions
        self._random = chooser or random.Random()
        self._aliases: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._listeners: list[AliasListener] = []
        for row in db.execute("SELECT name, alias, config FROM aliases"):
            self._aliases[row["name"]][row["alias"]] = json.loads(row["config"])
        registry.subscribe(self._forget_deleted)

    def subscribe(self, listener: AliasListener) -> None:
        self._listeners.append(listener)

    def exists(self, name: str, alias: str) -> bool:
        return alias in self._aliases.get(name, {})

    def get(self, name: str, alias: str) -> dict[str, Any]:
        self.registry.get(name)
        config = self._aliases.get(name, {}).get(alias)
        if config is None:
            raise ResourceNotFoundException(f"Alias not found: {function_arn(self.registry.region, name, alias)}")
        return config

    def list(self, name: str) -> list[dict[str, Any]]:
        self.registry.get(name)
        return [self._aliases[name][alias] for alias in sorted(self._aliases.get(name, {}))]

    def create(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.registry.get(name)
        alias = body.get("Name", "")
        if not ALIAS_RE.match(alias):
            raise constraint_error(alias, "name", "Member must satisfy regular expression pattern: "
                                   "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
        arn = function_arn(self.registry.region, name, alias)
        if alias in self._aliases.get(name, {}):
            raise ResourceConflictException(f"Alias already exists: {arn}")
        config = {"AliasArn": arn, "Name": alias, "FunctionVersion": "", "Description": ""}
        self._save(name, self._merge(name, config, body))
        return config

    def update(self, name: str, alias: str, body: dict[str, Any]) -> dict[str, Any]:
        config = dict(self.get(name, alias))
        check_revision_id(config["RevisionId"], body.get("RevisionId"))
        self._save(name, self._merge(name, config, body))
        return self._aliases[name][alias]

    def delete(self, name: str, alias: str) -> None:
        self.get(name, alias)
        del self._aliases[name][alias]
        self.db.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (name, alias))
        self._notify(name, alias)

    def route(self, name: str, alias: str) -> str:
        """The version this call runs: an additional version with its weight, else the primary."""
        config = self.get(name, alias)
        draw = self._random.random()
        for version, weight in (config.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}).items():
            if draw < weight:
                return str(version)
            draw -= weight
        primary: str = config["FunctionVersion"]
        return primary

    def _merge(self, name: str, config: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for key in ("FunctionVersion", "Description"):
            if key in body:
                config[key] = body[key]
        self._check_version(name, config["FunctionVersion"])
        if "RoutingConfig" in body:
            weights = (body["RoutingConfig"] or {}).get("AdditionalVersionWeights") or {}
            self._check_weights(name, config["FunctionVersion"], weights)
            config["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)} if weights else {}
        config["RevisionId"] = str(uuid.uuid4())
        return config

    def _check_version(self, name: str, version: str) -> None:
        if version != LATEST:
            self.versions.get(name, version)

    def _check_weights(self, name: str, primary: str, weights: dict[str, float]) -> None:
        if len(weights) > 1:
            raise InvalidParameterValueException("Only one additional version can be configured for an alias.")
        for version, weight in weights.items():
            if version == primary or version == LATEST:
                raise InvalidParameterValueException(
                    f"Invalid function version {version}. The additional version must be a published version "
                    "other than the alias's primary version.")
            self.versions.get(name, version)
            if not 0.0 <= float(weight) <= 1.0:
                raise constraint_error(weight, "additionalVersionWeights", "Member must have value between 0 and 1")

    def _save(self, name: str, config: dict[str, Any]) -> None:
        self._aliases[name][config["Name"]] = config
        self.db.execute("INSERT INTO aliases (name, alias, config) VALUES (?, ?, ?) ON CONFLICT (name, alias) "
                        "DO UPDATE SET config = excluded.config", (name, config["Name"], json.dumps(config)))
        self._notify(name, config["Name"])

    def _notify(self, name: str, alias: str) -> None:
        for listener in self._listeners:
            listener(name, alias)

    def _forget_deleted(self, name: str, version: str | None) -> None:
        if version is None:
            self._aliases.pop(name, None)
            self.db.execute("DELETE FROM aliases WHERE name = ?", (name,))
