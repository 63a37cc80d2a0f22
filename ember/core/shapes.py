"""A request body checked against its operation's input shape in botocore's model, as AWS checks it.

Two stages, as on AWS: deserializing (a member of the wrong JSON type cannot be read at all: the
caller's `type_error`), then validating (every length, range, pattern and enum the model states,
all reported at once: "2 validation errors detected: Value '0' at 'timeout' failed to satisfy
constraint: Member must have value greater than or equal to 1; …"). `null` is an absent member.
Only the body's members are checked; the path, query and headers have their own parsers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from ember.errors import AwsError, InvalidRequestContentException, ValidationException

# A pattern is matched only on strings this long at most: bounds the regex's cost on huge input.
PATTERN_LIMIT = 4096
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "blob": (str,), "integer": (int,), "long": (int,), "boolean": (bool,),
    "double": (int, float), "float": (int, float), "timestamp": (int, float, str),
    "structure": (dict,), "map": (dict,), "list": (list,),
}
JSON_NAMES = {dict: "Object", list: "Array", str: "String", bool: "Boolean", int: "Number", float: "Number"}
Ranges = Mapping[str, tuple[int, int]]


class Checker:
    """Checks bodies against one service's input shapes; `ranges` overrides a shape's min/max by shape name."""

    def __init__(self, ranges: Ranges | None = None, type_error: type[AwsError] = InvalidRequestContentException,
                 constraint_error: type[AwsError] = ValidationException,
                 own_checks: frozenset[str] = frozenset()) -> None:
        self.ranges = ranges or {}
        self.own_checks = own_checks  # shapes a check of their own words as AWS does
        self.type_error = type_error
        self.constraint_error = constraint_error

    def check(self, shape: Shape, body: dict[str, Any]) -> dict[str, Any]:
        """The body without nulls, or the first type error / every constraint violated."""
        cleaned: dict[str, Any] = self._read(shape, body, "")  # a structure reads as a dict
        problems = self._problems(shape, cleaned, "")
        if problems:
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
            raise self.constraint_error(count + "; ".join(problems))
        return cleaned

    def _read(self, shape: Shape, value: Any, path: str) -> Any:
        """Deserialize: the JSON type each member must have, nulls dropped."""
        expected = JSON_TYPES.get(shape.type_name, (object,))
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise self.type_error(
                f"Could not parse request body into json: Cannot deserialize value of type `{shape.type_name}` "
                f"from {JSON_NAMES.get(type(value), 'Null')} value at '{path or 'body'}'")
        if isinstance(value, str) and shape.type_name == "string":
            _check_text(value, path, self.type_error)
        if shape.type_name == "structure":
            return {name: self._read(shape.members[name], item, _join(path, name))
                    for name, item in value.items() if item is not None and _in_body(shape, name)}
        if shape.type_name == "list":
            return [self._read(shape.member, item, f"{path}.member") for item in value if item is not None]
        if shape.type_name == "map":
            return {_check_text(key, path, self.type_error): self._read(shape.value, item, path)
                    for key, item in value.items() if item is not None}
        return value

    def _problems(self, shape: Shape, value: Any, path: str) -> list[str]:
        """Validate: every constraint of the model the (already well-typed) value breaks."""
        if shape.type_name == "structure":
            missing = [f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
                       for name in shape.required_members if name not in value and _in_body(shape, name)]
            return missing + [problem for name, item in value.items()
                              for problem in self._problems(shape.members[name], item, _join(path, name))]
        if shape.type_name == "list":
            return self._list_problems(shape, value, path)
        if shape.type_name == "map":
            return self._map_problems(shape, value, path)
        rules = self._rules(shape, value)
        return [f"{_shown(shape, value, path)} failed to satisfy constraint: {rule}" for rule in rules]

    def _rules(self, shape: Shape, value: Any) -> list[str]:
        """The rules one scalar breaks, in AWS's words."""
        if shape.name in self.own_checks:
            return []
        low, high = self.ranges.get(shape.name, (shape.metadata.get("min"), shape.metadata.get("max")))
        if isinstance(value, str):
            return _string_rules(shape, value, low, high)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _range_rules("value", value, low, high)
        return []

    def _list_problems(self, shape: Shape, value: list[Any], path: str) -> list[str]:
        rules = _range_rules("length", len(value), shape.metadata.get("min"), shape.metadata.get("max"))
        inner = sorted({rule for item in value for rule in self._rules(shape.member, item)})
        rules += [f"Member must satisfy constraint: [{rule}]" for rule in inner]
        if shape.member.type_name in ("structure", "list", "map"):
            rules += [p for item in value for p in self._problems(shape.member, item, f"{path}.member")]
        shown = "[" + ", ".join(str(item) for item in value) + "]"
        return [f"{_shown(shape, shown, path)} failed to satisfy constraint: {rule}" for rule in rules]

    def _map_problems(self, shape: Shape, value: dict[str, Any], path: str) -> list[str]:
        rules = _range_rules("length", len(value), shape.metadata.get("min"), shape.metadata.get("max"))
        key_rules = sorted({rule for key in value for rule in self._rules(shape.key, key)})
        value_rules = sorted({rule for item in value.values() for rule in self._rules(shape.value, item)})
        rules += [f"Map keys must satisfy constraint: [{rule}]" for rule in key_rules]
        rules += [f"Map value must satisfy constraint: [{rule}]" for rule in value_rules]
        return [f"Value at '{path}' failed to satisfy constraint: {rule}" for rule in rules]


def _in_body(shape: Shape, name: str) -> bool:
    """A member the body carries: the path, query and headers are parsed elsewhere."""
    member = shape.members.get(name)
    return member is not None and not member.serialization.get("location")


def _check_text(value: str, path: str, error: type[AwsError]) -> str:
    """A lone UTF-16 surrogate (`"\\ud800"`) is valid JSON but no text: it could reach no file or process."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(f"Could not parse request body into json: Invalid UTF-8 in value at '{path or 'body'}'") from exc
    return value


def _string_rules(shape: Shape, value: str, low: int | None, high: int | None) -> list[str]:
    rules = _range_rules("length", len(value), low, high)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        rules.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    pattern = shape.metadata.get("pattern")
    if pattern and len(value) <= min(high or PATTERN_LIMIT, PATTERN_LIMIT) and not _matches(pattern, value):
        rules.append(f"Member must satisfy regular expression pattern: {pattern}")
    return rules


def _range_rules(kind: str, measure: float, low: float | None, high: float | None) -> list[str]:
    if low is not None and measure < low:
        return [f"Member must have {kind} greater than or equal to {_number(low)}"]
    if high is not None and measure > high:
        return [f"Member must have {kind} less than or equal to {_number(high)}"]
    return []


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """AWS's patterns are Java regexes matched whole; the few Python cannot compile are not checked."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _matches(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def _shown(shape: Shape, value: Any, path: str) -> str:
    """AWS leaves a sensitive member's value out of its message."""
    if shape.metadata.get("sensitive"):
        return f"Value at '{path}'"
    return f"Value '{value}' at '{path}'"


def _number(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _join(path: str, member: str) -> str:
    """AWS's member paths: lower-camel names joined by dots ('ephemeralStorage.size', 'kMSKeyArn')."""
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name
