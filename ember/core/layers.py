"""Lambda layers: versions numbered 1, 2, … per name, never reused, their zips in the code store.

A version is stored as AWS's GetLayerVersion body (less the download link, made per request) plus
its digest and unzipped size. A deleted version stays behind as a tombstone, as AWS keeps a copy:
functions that already name it keep running on it, nothing new can add it, and it is forgotten (its
content collected) once no function or version names it. Functions use layers through
`ember.core.function_layers`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ember.arns import layer_arn, parse_layer_ref
from ember.core.code_store import CodeStore
from ember.core.functions import decode_zip, now_iso
from ember.core.layer_trees import LayerTrees
from ember.errors import InvalidParameterValueException, ResourceNotFoundException

NOT_FOUND = "The resource you requested does not exist."
MAX_VERSION = 2**63 - 1  # the model's `long`
S3_CONTENT = ("Ember takes layer content as Content.ZipFile only: it cannot fetch S3Bucket/S3Key. "
              "Publish the zip itself (aws lambda publish-layer-version --zip-file fileb://layer.zip).")
NO_CONTENT = "Please provide a source for the layer's content (Content.ZipFile)."
# What ListLayerVersions' items carry (GetLayerVersion's body less Content and LayerArn).
LIST_MEMBERS = ("LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes", "LicenseInfo",
                "CompatibleArchitectures")


@dataclass(frozen=True)
class LayerVersion:
    name: str
    version: int
    digest: str  # hex, in the code store
    unzipped: int  # bytes: counted against the 250 MB a function and its layers share
    info: dict[str, Any]  # GetLayerVersion's body without Content.Location
    deleted: bool = False

    @property
    def arn(self) -> str:
        arn: str = self.info["LayerVersionArn"]
        return arn

    @property
    def code_size(self) -> int:
        size: int = self.info["Content"]["CodeSize"]
        return size

    def list_item(self) -> dict[str, Any]:
        return {key: self.info[key] for key in LIST_MEMBERS if key in self.info}

    def matches(self, runtime: str | None, architecture: str | None) -> bool:
        """ListLayers' filters: the version says it is compatible with each one given."""
        return ((runtime is None or runtime in self.info.get("CompatibleRuntimes", []))
                and (architecture is None or architecture in self.info.get("CompatibleArchitectures", [])))


class LayerStore:
    def __init__(self, db: sqlite3.Connection, code: CodeStore, region: str) -> None:
        self.db = db
        self.code = code
        self.region = region
        self.trees = LayerTrees(code)

    async def publish(self, name: str, request: dict[str, Any]) -> LayerVersion:
        """Store the zip (unpacked off the event loop), then number the version."""
        content = request.get("Content") or {}
        if not content.get("ZipFile"):
            raise InvalidParameterValueException(S3_CONTENT if content else NO_CONTENT)
        zip_bytes = decode_zip(content)
        async with self.code.storing(zip_bytes) as stored:
            version = self._next_number(name)
            info: dict[str, Any] = {
                "Content": {"CodeSha256": stored.code_sha256, "CodeSize": stored.size},
                "LayerArn": layer_arn(self.region, name), "LayerVersionArn": layer_arn(self.region, name, version),
                "Description": request.get("Description", ""), "CreatedDate": now_iso(), "Version": version,
            }
            for key in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
                if request.get(key):
                    info[key] = request[key]
            self.db.execute("INSERT INTO layer_versions (name, version, info, code, unzipped) VALUES (?, ?, ?, ?, ?)",
                            (name, version, json.dumps(info), stored.sha256_hex, stored.unzipped))
        return LayerVersion(name, version, stored.sha256_hex, stored.unzipped, info)

    def get(self, name: str, version: int) -> LayerVersion:
        """A version that exists (not deleted), or AWS's 404."""
        found = self.find(name, version)
        if found is None or found.deleted:
            raise ResourceNotFoundException(NOT_FOUND)
        return found

    def find(self, name: str, version: int) -> LayerVersion | None:
        """A version, deleted or not: a function that named it before the delete still runs on it."""
        if version > MAX_VERSION:  # no such version, and more than SQLite's integers hold
            return None
        row = self.db.execute("SELECT * FROM layer_versions WHERE name = ? AND version = ?", (name, version)).fetchone()
        return _version(row) if row is not None else None

    def versions(self, name: str, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
        """ListLayerVersions: the layer's versions that match, newest first."""
        rows = self.db.execute("SELECT * FROM layer_versions WHERE name = ? AND deleted = 0 ORDER BY version DESC",
                               (name,))
        return [v for v in map(_version, rows) if v.matches(runtime, architecture)]

    def latest(self, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
        """ListLayers: each layer's newest version that matches, by layer name."""
        newest: dict[str, LayerVersion] = {}
        for row in self.db.execute("SELECT * FROM layer_versions WHERE deleted = 0 ORDER BY name, version"):
            version = _version(row)
            if version.matches(runtime, architecture):
                newest[version.name] = version
        return [newest[name] for name in sorted(newest)]

    def delete(self, name: str, version: int) -> None:
        """Idempotent, as AWS's: the version becomes a tombstone until no function names it."""
        self.db.execute("UPDATE layer_versions SET deleted = 1 WHERE name = ? AND version = ?", (name, version))

    def collect(self, configs: Iterable[dict[str, Any]]) -> set[str]:
        """Forget tombstones no function names; what the code store and the merged trees must keep: the
        digests of every live version and every named one, and the merged tree of each function's list."""
        named: list[list[LayerVersion]] = [self.of_function(config) for config in configs]
        named_keys = {(v.name, v.version) for versions in named for v in versions}
        for row in self.db.execute("SELECT name, version FROM layer_versions WHERE deleted = 1").fetchall():
            if (row["name"], row["version"]) not in named_keys:
                self.db.execute("DELETE FROM layer_versions WHERE name = ? AND version = ?",
                                (row["name"], row["version"]))
        keep = {row["code"] for row in self.db.execute("SELECT code FROM layer_versions")}
        for versions in named:
            tree = self.trees.path([v.digest for v in versions])
            if tree is not None:
                keep.add(tree.name)
        return keep

    def of_function(self, config: dict[str, Any]) -> list[LayerVersion]:
        """The layer versions a function's configuration names, in order (tombstones included)."""
        found = []
        for layer in config.get("Layers") or []:
            ref = parse_layer_ref(layer["Arn"])
            version = self.find(ref.name, ref.version) if ref is not None and ref.version is not None else None
            if version is not None:
                found.append(version)
        return found

    def _next_number(self, name: str) -> int:
        row = self.db.execute(
            "INSERT INTO layer_counters (name, last) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last", (name,)).fetchone()
        return int(row["last"])


def _version(row: sqlite3.Row) -> LayerVersion:
    return LayerVersion(row["name"], int(row["version"]), row["code"], int(row["unzipped"]), json.loads(row["info"]),
                        bool(row["deleted"]))
