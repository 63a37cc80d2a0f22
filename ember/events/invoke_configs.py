"""Event-invoke configs: how Lambda retries a function's async events and where their records go.

One config per function qualifier (`$LATEST` when none is given, a version or an alias), kept in SQLite
and in memory: AWS's FunctionEventInvokeConfig members exactly as given (an absent member means AWS's
default, which Get leaves out too), plus LastModified. Put replaces a config, Update merges into it
(OnSuccess and OnFailure each replaced when given). A config goes with its version, alias or function.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ember.arns import function_arn
from ember.core.aliases import AliasStore
from ember.core.functions import LATEST, FunctionRegistry
from ember.core.versions import VersionStore
from ember.errors import InvalidParameterValueException, ResourceNotFoundException
from ember.events.destinations import function_destination, service_of
from ember.events.retry_policy import DEFAULT_MAX_EVENT_AGE_S, DEFAULT_RETRY_ATTEMPTS

NOTHING_TO_SET = "You must specify at least one of error handling or destination setting."
NO_FUNCTION = "The function doesn't exist."
SELF_DESTINATION = "You can't specify the function as a destination for itself."
# Where AWS sends records; S3 takes failures only.
SERVICES = {"OnSuccess": {"lambda", "sqs", "sns", "events"}, "OnFailure": {"lambda", "sqs", "sns", "events", "s3"}}
MEMBERS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")


@dataclass(frozen=True)
class EventConfig:
    """What the queue needs of a config; AWS's defaults where none is set."""

    max_retries: int = DEFAULT_RETRY_ATTEMPTS
    max_age_s: int = DEFAULT_MAX_EVENT_AGE_S
    on_success: str | None = None
    on_failure: str | None = None


class EventInvokeConfigs:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry, versions: VersionStore,
                 aliases: AliasStore) -> None:
        self.db = db
        self.registry = registry
        self.versions = versions
        self.aliases = aliases
        self._configs: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
        for row in db.execute("SELECT name, qualifier, config, last_modified FROM event_invoke_configs"):
            self._configs[(row["name"], row["qualifier"])] = (json.loads(row["config"]), row["last_modified"])
        registry.subscribe(self._on_version_change)
        aliases.subscribe(self._on_alias_change)

    def put(self, name: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """PutFunctionEventInvokeConfig: the config becomes exactly `body`."""
        key = self._existing_target(name, qualifier, body)
        config = {member: body[member] for member in MEMBERS if member in body}
        config["DestinationConfig"] = _destinations(body.get("DestinationConfig") or {})
        self._check_destinations(name, config["DestinationConfig"])
        return self._save(key, config)

    def update(self, name: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """UpdateFunctionEventInvokeConfig: the members given replace theirs, the rest stay."""
        key = self._existing_target(name, qualifier, body)
        if key not in self._configs:
            raise self._not_found(key)
        config = dict(self._configs[key][0])
        config.update({member: body[member] for member in MEMBERS if member in body})
        given = body.get("DestinationConfig")
        if given is not None:
            config["DestinationConfig"] = {**config["DestinationConfig"], **_destinations(given, only_given=True)}
            self._check_destinations(name, config["DestinationConfig"])
        return self._save(key, config)

    def get(self, name: str, qualifier: str | None) -> dict[str, Any]:
        key = (name, qualifier or LATEST)
        if key not in self._configs:
            raise self._not_found(key)
        return self._describe(key)

    def delete(self, name: str, qualifier: str | None) -> None:
        key = (name, qualifier or LATEST)
        if key not in self._configs:
            raise self._not_found(key)
        self._forget(key)

    def list(self, name: str) -> list[dict[str, Any]]:
        """Every config of the function, by qualifier."""
        if not self.registry.exists(name):
            raise ResourceNotFoundException(NO_FUNCTION)
        return [self._describe(key) for key in sorted(key for key in self._configs if key[0] == name)]

    def lookup(self, name: str, qualifier: str | None) -> EventConfig:
        """The config an event of `name:qualifier` runs under (AWS's defaults without one)."""
        found = self._configs.get((name, qualifier or LATEST))
        if found is None:
            return EventConfig()
        config = found[0]
        destinations = config.get("DestinationConfig", {})
        return EventConfig(int(config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
                           int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_S)),
                           destinations.get("OnSuccess", {}).get("Destination"),
                           destinations.get("OnFailure", {}).get("Destination"))

    def _existing_target(self, name: str, qualifier: str | None, body: dict[str, Any]) -> tuple[str, str]:
        """The config's key, once the body sets something and the function (and qualifier) exists."""
        if not any(member in body for member in (*MEMBERS, "DestinationConfig")):
            raise InvalidParameterValueException(NOTHING_TO_SET)
        qualifier = qualifier or LATEST
        if not self.registry.exists(name) or not self._qualifier_exists(name, qualifier):
            raise ResourceNotFoundException(NO_FUNCTION)
        return name, qualifier

    def _qualifier_exists(self, name: str, qualifier: str) -> bool:
        if qualifier == LATEST:
            return True
        if not qualifier.isdigit():
            return self.aliases.exists(name, qualifier)
        try:
            self.versions.get(name, qualifier)
        except ResourceNotFoundException:
            return False
        return True

    def _check_destinations(self, name: str, destinations: dict[str, dict[str, str]]) -> None:
        """AWS's checks beyond the ARN pattern: a service that takes records, and a function that exists."""
        arns = {side: target.get("Destination") for side, target in destinations.items()}
        for side, arn in arns.items():
            if not arn:
                continue
            if service_of(arn) not in SERVICES[side]:
                raise InvalidParameterValueException(_invalid_config(arns))
            if service_of(arn) == "lambda":
                ref = function_destination(arn)
                if ref is None or not self.registry.exists(ref.name):
                    raise InvalidParameterValueException(f"The destination ARN {arn} is invalid.")
                if ref.name == name:
                    raise InvalidParameterValueException(SELF_DESTINATION)

    def _save(self, key: tuple[str, str], config: dict[str, Any]) -> dict[str, Any]:
        modified = time.time()
        self.db.execute("INSERT INTO event_invoke_configs (name, qualifier, config, last_modified) VALUES (?,?,?,?) "
                        "ON CONFLICT (name, qualifier) DO UPDATE SET config = excluded.config, "
                        "last_modified = excluded.last_modified", (*key, json.dumps(config), modified))
        self._configs[key] = (config, modified)
        return self._describe(key)

    def _describe(self, key: tuple[str, str]) -> dict[str, Any]:
        config, modified = self._configs[key]
        return {"LastModified": modified, "FunctionArn": function_arn(self.registry.region, *key), **config}

    def _not_found(self, key: tuple[str, str]) -> ResourceNotFoundException:
        arn = function_arn(self.registry.region, *key)
        return ResourceNotFoundException(f"The function {arn} doesn't have an EventInvokeConfig")

    def _forget(self, key: tuple[str, str]) -> None:
        if self._configs.pop(key, None) is not None:
            self.db.execute("DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?", key)

    def _on_version_change(self, name: str, version: str | None) -> None:
        """A deleted function takes every config with it, a deleted version its own; `$LATEST` changing, none."""
        if version is None:
            for key in [key for key in self._configs if key[0] == name]:
                self._forget(key)
        elif version != LATEST:
            self._forget((name, version))

    def _on_alias_change(self, name: str, alias: str) -> None:
        if not self.aliases.exists(name, alias):
            self._forget((name, alias))


def _destinations(given: dict[str, Any], only_given: bool = False) -> dict[str, dict[str, str]]:
    """AWS's DestinationConfig shape: both sides present, each `{}` or `{"Destination": arn}` ("" is none)."""
    sides = [side for side in ("OnSuccess", "OnFailure") if not only_given or side in given]
    return {side: {"Destination": arn} if (arn := (given.get(side) or {}).get("Destination")) else {}
            for side in sides}


def _invalid_config(arns: dict[str, str | None]) -> str:
    """AWS's words, which name both sides whether or not each was at fault."""
    success, failure = (f"{side}(destination={arns[side]})" if arns.get(side) else "null"
                        for side in ("OnSuccess", "OnFailure"))
    return f"The provided destination config DestinationConfig(onSuccess={success}, onFailure={failure}) is invalid."
