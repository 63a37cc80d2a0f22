"""API Gateway v1's updates: a list of `{op, path, value}` patch operations applied to a record, pure.

`UpdateRestApi` and `UpdateStage` take no new record but operations on the old one, as AWS documents
them: `replace /name`, `replace /variables/table` (a map's key), `add /binaryMediaTypes/image~1png`
(a set's member; `~1` is `/` and `~0` is `~`, as in JSON Pointer), `remove …`. Values travel as
strings ("true", "300") and are read as the field's type. A path the record does not allow is a
BadRequestException naming the paths it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ember.errors import BadRequestException

Record = dict[str, Any]


@dataclass(frozen=True)
class Patchable:
    """What one record lets a patch change: scalar fields by type, maps by key, sets by member."""

    scalars: Mapping[str, type] = field(default_factory=dict)
    maps: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()

    def paths(self) -> list[str]:
        return [f"/{name}" for name in self.scalars] + [f"/{name}/*" for name in (*self.maps, *self.sets)]


def apply(record: Record, operations: Iterable[Mapping[str, Any]], allowed: Patchable) -> Record:
    """A copy of `record` with every operation applied in order; the first unusable one raises."""
    patched = {key: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value)
               for key, value in record.items()}
    for operation in operations:
        _apply_one(patched, operation, allowed)
    return patched


def _apply_one(record: Record, operation: Mapping[str, Any], allowed: Patchable) -> None:
    verb, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    top, _, key = path.removeprefix("/").partition("/")
    key = key.replace("~1", "/").replace("~0", "~")
    if top in allowed.scalars and not key and verb == "replace":
        record[top] = _typed(value, allowed.scalars[top], path)
    elif top in allowed.maps and key and verb in ("add", "replace"):
        record.setdefault(top, {})[key] = "" if value is None else str(value)
    elif top in allowed.maps and key and verb == "remove":
        record.setdefault(top, {}).pop(key, None)
    elif top in allowed.sets and key and verb in ("add", "remove"):
        members = record.setdefault(top, [])
        if verb == "add" and key not in members:
            members.append(key)
        elif verb == "remove" and key in members:
            members.remove(key)
    else:
        raise BadRequestException(f"Invalid patch path '{path}' specified for op '{verb}'. "
                                  f"Must be one of: [{', '.join(allowed.paths())}]")


def _typed(value: Any, kind: type, path: str) -> Any:
    if value is None or kind is str:
        return value
    text = str(value).lower()
    if kind is bool and text in ("true", "false"):
        return text == "true"
    if kind is int and text.lstrip("-").isdigit():
        return int(text)
    raise BadRequestException(f"Invalid value '{value}' for '{path}': expected {kind.__name__}")
