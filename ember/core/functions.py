"""The function registry: create, read, update and delete functions, persisted in SQLite.

A function is stored as AWS's FunctionConfiguration (what every API call returns) plus the hex
digest of its code in the code store. Listeners hear about every change, so pools can retire
environments that run stale code or configuration.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ember.arns import function_arn
from ember.core import validation
from ember.core.code_store import BAD_ZIP, CodeStore, StoredCode
from ember.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from ember.runtimes.deprecations import Change

if TYPE_CHECKING:
    from ember.core.function_layers import FunctionLayers

LATEST = "$LATEST"
# Called with (name, version) after a change; version None means every version (the function is gone).
Listener = Callable[[str, str | None], None]


@dataclass
class FunctionRecord:
    config: dict[str, Any]
    code_sha_hex: str
    tags: dict[str, str] = field(default_factory=dict)
    reserved: int | None = None  # reserved concurrency, for the whole function (kept on $LATEST)

    @property
    def name(self) -> str:
        name: str = self.config["FunctionName"]
        return name

    @property
    def version(self) -> str:
        version: str = self.config["Version"]
        return version

    def to_json(self) -> str:
        return json.dumps({"config": self.config, "code": self.code_sha_hex, "tags": self.tags,
                           "reserved": self.reserved})

    @classmethod
    def from_json(cls, text: str) -> FunctionRecord:
        data = json.loads(text)
        return cls(data["config"], data["code"], data.get("tags", {}), data.get("reserved"))


def now_iso() -> str:
    """AWS's LastModified format: 2020-04-10T19:06:32.563+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def decode_zip(code: dict[str, Any]) -> bytes:
    """Code.ZipFile arrives base64 inside the JSON body (rest-json blobs)."""
    blob = code.get("ZipFile") if isinstance(code, dict) else None
    if not blob:
        raise InvalidParameterValueException("Please provide a source for function code (Code.ZipFile).")
    try:
        return base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValueException(BAD_ZIP) from exc


def check_revision(record: FunctionRecord, revision_id: str | None) -> None:
    check_revision_id(record.config["RevisionId"], revision_id)


def check_revision_id(current: str, revision_id: str | None) -> None:
    """AWS's optimistic lock: a stale RevisionId is 412."""
    if revision_id and revision_id != current:
        raise PreconditionFailedException("The Revision Id provided does not match the latest Revision Id. "
                                          "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")



def _apply_dead_letter(config: dict[str, Any], target: str) -> None:
    """Where failed async events go (Ember keeps them in its failed-events store, naming this ARN); "" removes it."""
    if not target:
        config.pop("DeadLetterConfig", None)
        return
    validation.check_dead_letter_target(target)
    config["DeadLetterConfig"] = {"TargetArn": target}


class FunctionRegistry:
    """All functions, cached in memory and written through to SQLite."""

    def __init__(self, db: sqlite3.Connection, code: CodeStore, region: str,
                 layers: FunctionLayers | None = None) -> None:
        self.db = db
        self.code = code
        self.region = region
        self.layers = layers  # None: this registry takes no `Layers` (unit tests)
        self._records: dict[str, FunctionRecord] = {}
        self._listeners: list[Listener] = []
        self.writes = 0  # bumped by every change, so what is derived from all functions can be cached
        for row in db.execute("SELECT name, config FROM functions WHERE version = ?", (LATEST,)):
            self._records[row["name"]] = FunctionRecord.from_json(row["config"])

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def get(self, name: str) -> FunctionRecord:
        record = self._records.get(name)
        if record is None:
            raise ResourceNotFoundException(f"Function not found: {function_arn(self.region, name, LATEST)}")
        return record

    def exists(self, name: str) -> bool:
        return name in self._records

    def list(self) -> list[FunctionRecord]:
        return [self._records[name] for name in sorted(self._records)]

    async def create(self, request: dict[str, Any]) -> FunctionRecord:
        """Validate first, then unpack the code off the event loop, then record the function."""
        name = request.get("FunctionName", "")
        validation.check_function_name(name)
        validation.check_role(request.get("Role", ""))
        self._check_new(name)
        config = self._base_config(name)
        self._apply_configuration(config, request, "create")
        async with self._storing(request.get("Code", {})) as stored:
            self._check_new(name)  # another create may have finished while this one unpacked
            self._check_size(config, stored.unzipped)
            record = FunctionRecord(config, stored.sha256_hex, dict(request.get("Tags") or {}))
            self._set_code(record, stored)
            self._save(record)
        return record

    async def update_code(self, name: str, request: dict[str, Any]) -> FunctionRecord:
        check_revision(self.get(name), request.get("RevisionId"))
        validation.check_runtime(self.get(name).config["Runtime"], "update")  # AWS's block-update date
        if "Architectures" in request:  # UpdateFunctionCode is where AWS lets the architecture change
            validation.check_architectures(list(request["Architectures"] or []))
        async with self._storing(request) as stored:
            record = self.get(name)  # it may have been deleted or changed while the code unpacked
            check_revision(record, request.get("RevisionId"))
            self._check_size(record.config, stored.unzipped)
            if "Architectures" in request:
                record.config["Architectures"] = list(request["Architectures"])
            self._set_code(record, stored)
            self._touch(record)
        return record

    @asynccontextmanager
    async def _storing(self, code: dict[str, Any]) -> AsyncIterator[StoredCode]:
        """Decode and unpack in worker threads: a 50 MB zip must not stall every other request."""
        zip_bytes = await asyncio.to_thread(decode_zip, code)
        async with self.code.storing(zip_bytes) as stored:
            yield stored

    def _check_new(self, name: str) -> None:
        if name in self._records:
            raise ResourceConflictException(f"Function already exist: {name}")

    def update_configuration(self, name: str, request: dict[str, Any]) -> FunctionRecord:
        record = self.get(name)
        check_revision(record, request.get("RevisionId"))
        config = dict(record.config)
        self._apply_configuration(config, request, "update")
        if "Layers" in request:
            self._check_size(config, self.code.unzipped_size(record.code_sha_hex))
        record.config = config
        self._touch(record)
        return record

    def set_reserved(self, name: str, reserved: int | None) -> FunctionRecord:
        """Reserved concurrency is not configuration: it changes no revision and retires no environment."""
        record = self.get(name)
        record.reserved = reserved
        self._write(record)
        return record

    def set_tags(self, name: str, tags: dict[str, str]) -> FunctionRecord:
        record = self.get(name)
        record.tags = tags
        self._write(record)
        return record

    def delete(self, name: str) -> None:
        self.get(name)
        del self._records[name]
        self.writes += 1
        self.db.execute("DELETE FROM functions WHERE name = ?", (name,))
        self.db.execute("DELETE FROM version_counters WHERE name = ?", (name,))
        self.notify(name, None)

    def _base_config(self, name: str) -> dict[str, Any]:
        return {
            "FunctionName": name, "FunctionArn": function_arn(self.region, name), "Runtime": "python3.12",
            "Role": "", "Handler": "lambda_function.lambda_handler", "CodeSize": 0, "Description": "",
            "Timeout": 3, "MemorySize": 128, "LastModified": now_iso(), "CodeSha256": "", "Version": LATEST,
            "Environment": {"Variables": {}}, "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid4()), "State": "Active", "LastUpdateStatus": "Successful",
            "PackageType": "Zip", "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        }

    def _apply_configuration(self, config: dict[str, Any], request: dict[str, Any],
                             change: Change) -> None:
        """Validate and merge the configuration members of a Create or UpdateFunctionConfiguration body."""
        if "Role" in request:
            validation.check_role(request["Role"])
        for key in ("Role", "Description", "Timeout", "MemorySize", "Handler", "Runtime"):
            if key in request:
                config[key] = request[key]
        if "Environment" in request:
            variables = (request["Environment"] or {}).get("Variables") or {}
            validation.check_environment(variables)
            config["Environment"] = {"Variables": dict(variables)}
        if "EphemeralStorage" in request:
            size = int((request["EphemeralStorage"] or {}).get("Size", 512))
            validation.check_ephemeral_storage(size)
            config["EphemeralStorage"] = {"Size": size}
        if "Architectures" in request:
            validation.check_architectures(list(request["Architectures"] or []))
            config["Architectures"] = list(request["Architectures"])
        if "DeadLetterConfig" in request:
            _apply_dead_letter(config, (request["DeadLetterConfig"] or {}).get("TargetArn") or "")
        if "Layers" in request:
            self._apply_layers(config, list(request["Layers"] or []))
        validation.check_runtime(config["Runtime"], change)
        validation.check_handler(config["Handler"])
        validation.check_limits(int(config["MemorySize"]), int(config["Timeout"]))
        if len(config["Description"]) > 256:
            raise validation.constraint_error(config["Description"], "description",
                                         "Member must have length less than or equal to 256")

    def _apply_layers(self, config: dict[str, Any], arns: Sequence[str]) -> None:
        """AWS lists `Layers` only when there are some."""
        if arns and self.layers is None:
            raise InvalidParameterValueException("This Ember registry takes no layers.")
        if arns and self.layers is not None:
            config["Layers"] = self.layers.attach(arns)
        else:
            config.pop("Layers", None)

    def _check_size(self, config: dict[str, Any], code_unzipped: int) -> None:
        if self.layers is not None:
            self.layers.check_size(config, code_unzipped)

    def _set_code(self, record: FunctionRecord, stored: StoredCode) -> None:
        record.code_sha_hex = stored.sha256_hex
        record.config["CodeSha256"] = stored.code_sha256
        record.config["CodeSize"] = stored.size

    def _touch(self, record: FunctionRecord) -> None:
        record.config["LastModified"] = now_iso()
        record.config["RevisionId"] = str(uuid.uuid4())
        self._save(record)

    def _save(self, record: FunctionRecord) -> None:
        self._write(record)
        self.notify(record.name, LATEST)

    def _write(self, record: FunctionRecord) -> None:
        self.db.execute(
            "INSERT INTO functions (name, version, config) VALUES (?, ?, ?) "
            "ON CONFLICT (name, version) DO UPDATE SET config = excluded.config",
            (record.name, LATEST, record.to_json()),
        )
        self._records[record.name] = record
        self.writes += 1

    def notify(self, name: str, version: str | None) -> None:
        for listener in self._listeners:
            listener(name, version)
