"""Function URLs' configurations: one per function or alias, found by its url-id on every HTTP call.

A config is kept as AWS returns it, minus `FunctionUrl` (made from the url-id and the server's
address when asked: a restart on another port must not leave stale URLs behind). The url-id is 32
random lower-case letters and digits, like AWS's. Deleting a function deletes its URLs, deleting an
alias the alias's URL. Rows are cached in memory: the data plane looks a url-id up per request.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ember.arns import function_arn
from ember.core.aliases import AliasStore
from ember.core.functions import FunctionRegistry
from ember.errors import ResourceConflictException, ResourceNotFoundException

URL_ID_ALPHABET = string.ascii_lowercase + string.digits
URL_ID_LENGTH = 32
SETTINGS = ("AuthType", "Cors", "InvokeMode")
NOT_FOUND = "The resource you requested does not exist."


@dataclass(frozen=True)
class FunctionUrl:
    url_id: str
    function: str
    qualifier: str | None  # an alias, or None for the unqualified function ($LATEST)
    config: dict[str, Any]  # FunctionArn, AuthType, Cors?, InvokeMode, CreationTime, LastModifiedTime

    @property
    def auth_type(self) -> str:
        return str(self.config["AuthType"])

    @property
    def streaming(self) -> bool:
        return self.config.get("InvokeMode") == "RESPONSE_STREAM"


def timestamp() -> str:
    """AWS's function URL timestamps: 2021-10-29T20:08:20.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_url_id() -> str:
    return "".join(secrets.choice(URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


class FunctionUrls:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry, aliases: AliasStore) -> None:
        self.db = db
        self.registry = registry
        self.aliases = aliases
        self._by_id: dict[str, FunctionUrl] = {}
        for row in db.execute("SELECT url_id, function, qualifier, config FROM function_urls"):
            self._remember(FunctionUrl(row["url_id"], row["function"], row["qualifier"] or None,
                                       json.loads(row["config"])))
        registry.subscribe(self._on_function_change)
        aliases.subscribe(self._on_alias_change)

    def find(self, url_id: str) -> FunctionUrl | None:
        """The URL a request names, if any (the data plane's lookup)."""
        return self._by_id.get(url_id)

    def get(self, name: str, qualifier: str | None) -> FunctionUrl:
        self._check_target(name, qualifier)
        url = self._of(name, qualifier)
        if url is None:
            raise ResourceNotFoundException(NOT_FOUND)
        return url

    def list(self, name: str) -> list[FunctionUrl]:
        """The function's URLs, the unqualified one first, then by alias."""
        self.registry.get(name)
        return sorted((url for url in self._by_id.values() if url.function == name),
                      key=lambda url: url.qualifier or "")

    def create(self, name: str, qualifier: str | None, settings: dict[str, Any]) -> FunctionUrl:
        self._check_target(name, qualifier)
        arn = function_arn(self.registry.region, name, qualifier)
        if self._of(name, qualifier) is not None:
            raise ResourceConflictException(f"Failed to create function url config for [functionArn = {arn}]. "
                                            "Error message:  FunctionUrlConfig exists for this Lambda function")
        now = timestamp()
        config = {"FunctionArn": arn, "AuthType": settings["AuthType"],
                  "InvokeMode": settings.get("InvokeMode") or "BUFFERED", "CreationTime": now, "LastModifiedTime": now}
        if settings.get("Cors") is not None:
            config["Cors"] = settings["Cors"]
        url = FunctionUrl(new_url_id(), name, qualifier, config)
        self._store(url)
        return url

    def update(self, name: str, qualifier: str | None, settings: dict[str, Any]) -> FunctionUrl:
        url = self.get(name, qualifier)
        config = dict(url.config)
        config.update({key: settings[key] for key in SETTINGS if settings.get(key) is not None})
        config["LastModifiedTime"] = timestamp()
        updated = FunctionUrl(url.url_id, name, qualifier, config)
        self._store(updated)
        return updated

    def delete(self, name: str, qualifier: str | None) -> None:
        self._forget(self.get(name, qualifier))

    def _check_target(self, name: str, qualifier: str | None) -> None:
        """The function, and the alias when one is named, must exist."""
        if qualifier is None:
            self.registry.get(name)
        else:
            self.aliases.get(name, qualifier)

    def _of(self, name: str, qualifier: str | None) -> FunctionUrl | None:
        return next((url for url in self._by_id.values() if url.function == name and url.qualifier == qualifier),
                    None)

    def _store(self, url: FunctionUrl) -> None:
        self.db.execute("INSERT INTO function_urls (url_id, function, qualifier, config) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (url_id) DO UPDATE SET config = excluded.config",
                        (url.url_id, url.function, url.qualifier or "", json.dumps(url.config)))
        self._remember(url)

    def _remember(self, url: FunctionUrl) -> None:
        self._by_id[url.url_id] = url

    def _forget(self, url: FunctionUrl) -> None:
        self.db.execute("DELETE FROM function_urls WHERE url_id = ?", (url.url_id,))
        self._by_id.pop(url.url_id, None)

    def _on_function_change(self, name: str, version: str | None) -> None:
        if version is None and not self.registry.exists(name):
            for url in [url for url in self._by_id.values() if url.function == name]:
                self._forget(url)

    def _on_alias_change(self, name: str, alias: str) -> None:
        url = self._of(name, alias)
        if url is not None and not self.aliases.exists(name, alias):
            self._forget(url)
