"""CloudFormation's intrinsic functions, one small function each, for `ember.apps.intrinsics.Resolver`."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ember.apps.intrinsics import Resolver


def text_of(value: Any) -> str:
    """A value as Fn::Sub and Fn::Join put it in text (a list joined by commas, as CloudFormation does)."""
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _args(resolver: Resolver, argument: Any, name: str, count: int) -> list[Any]:
    if not isinstance(argument, list) or len(argument) != count:
        raise resolver.error(f"Template error: {name} takes a list of {count} values")
    return argument


def _join(r: Resolver, argument: Any) -> str:
    delimiter, items = _args(r, argument, "Fn::Join", 2)
    values = r.resolve(items)
    if not isinstance(values, list):
        raise r.error("Template error: Fn::Join's second value must be a list")
    return str(delimiter).join(text_of(v) for v in values)


def _select(r: Resolver, argument: Any) -> Any:
    index, items = _args(r, argument, "Fn::Select", 2)
    values, position = r.resolve(items), int(r.resolve(index))
    if not isinstance(values, list) or not 0 <= position < len(values):
        raise r.error(f"Template error: Fn::Select cannot select nonexistent value at index {position}")
    return values[position]


def _split(r: Resolver, argument: Any) -> list[str]:
    delimiter, text = _args(r, argument, "Fn::Split", 2)
    return str(r.resolve(text)).split(str(delimiter))


def _find_in_map(r: Resolver, argument: Any) -> Any:
    name, top, second = (r.resolve(part) for part in _args(r, argument, "Fn::FindInMap", 3))
    try:
        return (r.template.get("Mappings") or {})[name][top][second]
    except (KeyError, TypeError) as exc:
        raise r.error(f"Template error: Unable to get mapping for {name}::{top}::{second}") from exc


def _if(r: Resolver, argument: Any) -> Any:
    name, when_true, when_false = _args(r, argument, "Fn::If", 3)
    return r.resolve(when_true if r.condition(name) else when_false)


def _equals(r: Resolver, argument: Any) -> bool:
    left, right = (r.resolve(part) for part in _args(r, argument, "Fn::Equals", 2))
    return text_of(left) == text_of(right)


def _get_att(r: Resolver, argument: Any) -> Any:
    if isinstance(argument, str):
        argument = list(argument.partition(".")[::2])
    logical_id, attribute = _args(r, argument, "Fn::GetAtt", 2)
    return r.get_att(str(logical_id), str(r.resolve(attribute)))


def _unsupported(name: str, why: str) -> Any:
    def refuse(r: Resolver, argument: Any) -> Any:
        raise r.error(f"{name} is not supported on Ember: {why}")
    return refuse


FUNCTIONS: dict[str, Any] = {
    "Ref": lambda r, a: r.ref(str(a)),
    "Condition": lambda r, a: r.condition(str(a)),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": lambda r, a: not r.resolve(_args(r, a, "Fn::Not", 1)[0]),
    "Fn::And": lambda r, a: all(r.resolve(c) for c in a),
    "Fn::Or": lambda r, a: any(r.resolve(c) for c in a),
    "Fn::Base64": lambda r, a: base64.b64encode(text_of(r.resolve(a)).encode()).decode(),
    "Fn::GetAZs": lambda r, a: [f"{r.resolve(a) or r.where.region}{zone}" for zone in "abc"],
    "Fn::Length": lambda r, a: len(r.resolve(a)),
    "Fn::ToJsonString": lambda r, a: json.dumps(r.resolve(a), separators=(",", ":")),
    "Fn::ImportValue": _unsupported("Fn::ImportValue", "stacks export nothing to each other here"),
    "Fn::Cidr": _unsupported("Fn::Cidr", "Ember has no VPCs"),
    "Fn::Transform": _unsupported("Fn::Transform", "macros and AWS::Include run in AWS's CloudFormation"),
}
