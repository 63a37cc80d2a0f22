"""Hypothesis strategies for Lambda requests, built from botocore's service model: each operation
Ember serves, its members valid, out of range, of the wrong JSON type, huge, odd unicode, or
path traversal; serialized as rest-json puts them on the wire (uri, querystring, headers, body)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import botocore.session
from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

MODEL = botocore.session.get_session().get_service_model("lambda")
OPERATIONS = (
    "CreateFunction", "GetFunction", "GetFunctionConfiguration", "ListFunctions", "DeleteFunction",
    "UpdateFunctionConfiguration", "UpdateFunctionCode", "Invoke", "InvokeWithResponseStream", "PublishVersion",
    "ListVersionsByFunction", "CreateAlias", "GetAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
    "PutFunctionConcurrency", "GetFunctionConcurrency", "DeleteFunctionConcurrency",
    "PutProvisionedConcurrencyConfig", "GetProvisionedConcurrencyConfig", "DeleteProvisionedConcurrencyConfig",
    "ListProvisionedConcurrencyConfigs", "GetAccountSettings", "TagResource", "ListTags", "UntagResource",
    "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "GetFunctionEventInvokeConfig",
    "DeleteFunctionEventInvokeConfig", "ListFunctionEventInvokeConfigs",
    "PublishLayerVersion", "GetLayerVersion", "GetLayerVersionByArn", "ListLayers", "ListLayerVersions",
    "DeleteLayerVersion", "AddLayerVersionPermission", "RemoveLayerVersionPermission", "GetLayerVersionPolicy",
)
# Functions the module makes: the fuzzer aims at them so requests get past "not found" to validation.
TARGETS = ("fz-a", "fz-b")
INVOKED = "fz-invoke"  # only ever invoked: its configuration stays cheap to run
HOSTILE = (
    "../../../../etc/passwd", "..%2F..%2Fetc", "/etc/passwd", "fz-a/../../x", "%00", "\x00", "$LATEST",
    "$LATEST.PUBLISHED", "1" * 40, "\u202e\ufeff", "🦀" * 10, "\ud800", "a" * 70, "arn:aws:lambda:us-east-1:"
    "000000000000:function:fz-a:..", "*", "fz-a:1:2", "' OR 1=1 --", "${jndi:ldap://x}", "\r\nX-Injected: 1",
)
ODD_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@dataclass
class Mutation:
    """What the fuzzer did to one member; None for a request built to be valid."""

    member: str  # AWS's path for it: 'memorySize', 'ephemeralStorage.size'
    kind: str  # "type" or "range"


@dataclass
class Built:
    operation: str
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    mutation: Mutation | None = None


def operation(name: str) -> OperationModel:
    return MODEL.operation_model(name)


def value_of(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value for `shape`: mostly valid by its constraints, sometimes at or past their edges (built once:
    making strategies costs Hypothesis more than drawing from them)."""
    key = (shape.name, shape.type_name, depth)
    if key not in _BUILT:
        _BUILT[key] = _value_of(shape, depth)
    return _BUILT[key]


_BUILT: dict[tuple[str, str, int], st.SearchStrategy[Any]] = {}


def _value_of(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth > 3:
            return st.just({})
        members = {name: value_of(member, depth + 1) for name, member in shape.members.items()
                   if not member.serialization.get("location")}
        return st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        return st.lists(value_of(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(_string(shape.key), value_of(shape.value, depth + 1), max_size=3)
    if kind in ("integer", "long"):
        return _integer(shape)
    if kind in ("double", "float"):
        return st.floats(-1, 2, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode())
    if kind == "timestamp":
        return st.integers(0, 2**33)
    return _string(shape)


def _integer(shape: Shape) -> st.SearchStrategy[int]:
    low, high = shape.metadata.get("min", -(2**31)), shape.metadata.get("max", 2**31)
    edges = [low - 1, low, high, high + 1, 10240, 10241, 900, 901, -(2**63), 2**63]
    return st.one_of(st.integers(low, min(high, low + 2048)), st.sampled_from(edges))


def _string(shape: Shape) -> st.SearchStrategy[str]:
    choices = [ODD_TEXT, st.sampled_from(HOSTILE), st.just("x" * 5000)]
    if shape.metadata.get("enum"):
        choices.insert(0, st.sampled_from(shape.metadata["enum"]))
    elif shape.metadata.get("pattern") and _python_regex(shape.metadata["pattern"]):
        pattern = shape.metadata["pattern"]
        choices.insert(0, st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= 256))
    return st.one_of(*choices)


def _python_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


WRONG_TYPES = st.one_of(st.integers(), st.booleans(), st.text(max_size=8), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), st.floats(allow_nan=False))


def wrong_type_for(shape: Shape) -> st.SearchStrategy[Any]:
    """A JSON value that is not of `shape`'s type (an int is never a double's wrong type)."""
    accepted = {"string": str, "blob": str, "integer": int, "long": int, "boolean": bool, "structure": dict,
                "map": dict, "list": list, "double": (int, float), "float": (int, float),
                "timestamp": (int, float, str)}[shape.type_name]
    return WRONG_TYPES.filter(lambda v: not isinstance(v, accepted) or (isinstance(v, bool) and accepted is int))


@st.composite
def requests(draw: st.DrawFn, operations: tuple[str, ...] = OPERATIONS) -> Built:
    """One request: an operation, its uri/query/header members, and a body valid or mutated."""
    model = operation(draw(st.sampled_from(operations)))
    required = set(model.input_shape.required_members)
    params = {name: draw(_placed(model, name, member)) for name, member in model.input_shape.members.items()
              if member.serialization.get("location") and (name in required or draw(st.booleans()))}
    if model.name.startswith("Invoke"):
        return serialize(model, params, draw(EVENTS))
    body = draw(value_of(model.input_shape)) if _has_body(model) else {}
    mutation = draw(_mutate(model, body)) if body is not None and draw(st.integers(0, 2)) == 0 else None
    built = serialize(model, params, json.dumps(body).encode() if body else b"")
    built.mutation = mutation
    return built


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | ODD_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
                           max_leaves=8)
EVENTS = st.one_of(JSON_VALUES.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64),
                   st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n), st.just(b""))


def _placed(model: OperationModel, name: str, member: Shape) -> st.SearchStrategy[Any]:
    """Path, query and header members: the module's functions mostly, anything sometimes."""
    if member.serialization.get("location") == "uri" and member.name in ("FunctionName", "NamespacedFunctionName"):
        return INVOKED_NAMES if model.name.startswith("Invoke") else TARGET_NAMES
    if member.serialization.get("location") == "uri" and member.name == "TaggableResource":
        return TAGGABLE
    return value_of(member)


TARGET_NAMES = st.one_of(st.sampled_from(TARGETS), st.sampled_from(HOSTILE), ODD_TEXT)
INVOKED_NAMES = st.one_of(st.just(INVOKED), st.sampled_from(HOSTILE), ODD_TEXT)
TAGGABLE = st.one_of(st.sampled_from([f"arn:aws:lambda:us-east-1:000000000000:function:{n}" for n in TARGETS]),
                     st.sampled_from(HOSTILE))


def _has_body(model: OperationModel) -> bool:
    return any(not m.serialization.get("location") for m in model.input_shape.members.values())


@st.composite
def _mutate(draw: st.DrawFn, model: OperationModel, body: dict[str, Any]) -> Mutation | None:
    """Replace one top-level body member with a wrong type or a value just outside its range."""
    members = {n: m for n, m in model.input_shape.members.items() if not m.serialization.get("location")
               and m.type_name not in ("blob",)}
    if not members:
        return None
    name = draw(st.sampled_from(sorted(members)))
    shape = members[name]
    path = name[:1].lower() + name[1:]
    if shape.type_name in ("integer", "long") and "min" in shape.metadata and draw(st.booleans()):
        body[name] = shape.metadata["min"] - draw(st.integers(1, 1000))
        return Mutation(path, "range")
    body[name] = draw(wrong_type_for(shape))
    return Mutation(path, "type")


def serialize(model: OperationModel, params: dict[str, Any], payload: bytes) -> Built:
    """rest-json: uri members percent-encoded into the path, the rest to the query, headers and body."""
    uri, _, fixed = model.http["requestUri"].partition("?")
    query = [tuple(pair.partition("=")[::2]) for pair in fixed.split("&") if pair]
    headers: dict[str, str] = {}
    for name, value in params.items():
        member = model.input_shape.members[name]
        where, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if where == "uri":
            uri = re.sub(rf"\{{{wire}\+?\}}", quote(str(value), safe="", errors="surrogatepass"), uri)
        elif where == "querystring":
            query += [(wire, str(v)) for v in value] if isinstance(value, list) else [(wire, str(value))]
        elif where == "header":
            headers[wire] = re.sub(r"[^\x20-\x7e]", "?", str(value))[:200]
    if payload:
        headers["Content-Type"] = "application/json"
    path = uri + ("?" + urlencode(query, errors="surrogatepass") if query else "")
    return Built(model.name, model.http["method"], path, payload, headers)
