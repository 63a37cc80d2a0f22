"""Published versions: immutable snapshots of `$LATEST`, numbered 1, 2, … and never renumbered.

A number is never reused while the function exists (the counter lives in `version_counters`),
and publishing an unchanged `$LATEST` returns the newest version instead of making a new one.
"""

from __future__ import annotations

import copy
import sqlite3
import uuid
from collections import defaultdict
from typing import Any

from ember.arns import function_arn
from ember.core.functions import (
    LATEST,
    FunctionRecord,
    FunctionRegistry,
    check_revision,
    now_iso,
)
from ember.errors import InvalidParameterValueException, ResourceNotFoundException

# Members that differ between a snapshot and its source without the function having changed.
_VOLATILE = {"Version", "FunctionArn", "LastModified", "RevisionId", "Description"}


class VersionStore:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry) -> None:
        self.db = db
        self.registry = registry
        self._versions: dict[str, dict[str, FunctionRecord]] = defaultdict(dict)
        for row in db.execute("SELECT name, version, config FROM functions WHERE version != ?", (LATEST,)):
            self._versions[row["name"]][row["version"]] = FunctionRecord.from_json(row["config"])
        registry.subscribe(self._forget_deleted)

    def get(self, name: str, version: str) -> FunctionRecord:
        record = self._versions.get(name, {}).get(version)
        if record is None:
            raise ResourceNotFoundException(f"Function not found: {function_arn(self.registry.region, name, version)}")
        return record

    def list(self, name: str) -> list[FunctionRecord]:
        """`$LATEST` first, then the published versions in order."""
        latest = self.registry.get(name)
        published = sorted(self._versions.get(name, {}).values(), key=lambda r: int(r.config["Version"]))
        return [latest, *published]

    def publish(self, name: str, request: dict[str, Any]) -> FunctionRecord:
        latest = self.registry.get(name)
        _check_preconditions(latest, request)
        newest = self.list(name)[-1]
        if newest is not latest and _same_function(newest, latest):
            return newest
        number = self._next_number(name)
        config = copy.deepcopy(latest.config)
        config.update(Version=str(number), FunctionArn=function_arn(self.registry.region, name, str(number)),
                      LastModified=now_iso(), RevisionId=str(uuid.uuid4()),
                      Description=request.get("Description", latest.config["Description"]))
        record = FunctionRecord(config, latest.code_sha_hex, {})
        self.db.execute("INSERT INTO functions (name, version, config) VALUES (?, ?, ?)",
                        (name, str(number), record.to_json()))
        self._versions[name][str(number)] = record
        return record

    def delete(self, name: str, version: str) -> None:
        if version == LATEST:
            raise InvalidParameterValueException("$LATEST version cannot be deleted without deleting the function.")
        self.get(name, version)
        del self._versions[name][version]
        self.db.execute("DELETE FROM functions WHERE name = ? AND version = ?", (name, version))
        self.registry.notify(name, version)

    def _next_number(self, name: str) -> int:
        row = self.db.execute(
            "INSERT INTO version_counters (name, last) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last", (name,)).fetchone()
        return int(row["last"])

    def _forget_deleted(self, name: str, version: str | None) -> None:
        if version is None:
            self._versions.pop(name, None)


def _check_preconditions(latest: FunctionRecord, request: dict[str, Any]) -> None:
    sha = request.get("CodeSha256")
    if sha and sha != latest.config["CodeSha256"]:
        raise InvalidParameterValueException(
            f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
            f"({latest.config['CodeSha256']}). Please try again.")
    check_revision(latest, request.get("RevisionId"))


def _same_function(version: FunctionRecord, latest: FunctionRecord) -> bool:
    def stable(record: FunctionRecord) -> dict[str, Any]:
        return {k: v for k, v in record.config.items() if k not in _VOLATILE}

    return version.code_sha_hex == latest.code_sha_hex and stable(version) == stable(latest)
