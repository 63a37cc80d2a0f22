"""The plan: what a deploy would do to the server, resource by resource, before it does anything.

`plan(stack, deployed, digest)` compares the desired model with a snapshot of what the server has of the stack
(`Deployed`, read by `ember.apps.deployed`): per resource, create / update code / update configuration / update
code and configuration / delete / unchanged. Code is compared by CodeSha256 of the zip the CLI builds (`digest`,
ember.cli.packaging), everything else by the resource's `spec` (the shape of the model's `desired()`, which a
reader of the server must produce too). Pure and deterministic: the same files against the same server give
the same plan, and a stack deployed from these files plans all unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ember.apps.model import CodeSource, Function, LayerVersion, Permission, Resource, Stack
from ember.apps.triggers import HttpApi, RestApi, Schedule

CREATE, DELETE, UNCHANGED = "create", "delete", "unchanged"
UPDATE_CODE, UPDATE_CONFIG, UPDATE_BOTH = "update code", "update configuration", "update code and configuration"
KIND_ORDER = ("role", "layer", "function", "permission", "http api", "rest api", "rule", "schedule", "warmer")
KINDS = {"Role": "role", "LayerVersion": "layer", "Function": "function", "Permission": "permission",
         "HttpApi": "http api", "RestApi": "rest api", "Rule": "rule", "Schedule": "schedule", "Warmer": "warmer"}


@dataclass(frozen=True)
class DeployedResource:
    """One resource the server has for the stack, in the model's terms."""

    spec: dict[str, Any]
    code_sha256: str | None = None
    logical_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)  # what applying needs but the plan never compares




@dataclass
class Deployed:
    """What the server has of a stack: (kind, key) → resource (keys as `resource_key` makes them)."""

    resources: dict[tuple[str, str], DeployedResource] = field(default_factory=dict)
    known_ids: dict[str, str] = field(default_factory=dict)  # logical id -> the id the server chose (APIs, URLs)


@dataclass(frozen=True)
class Step:
    kind: str
    key: str
    logical_id: str
    action: str
    changes: tuple[str, ...] = ()
    resource: Resource | None = None  # the desired resource (None when it is deleted)


@dataclass
class Plan:
    stack: str
    steps: list[Step]

    @property
    def changed(self) -> bool:
        return any(step.action != UNCHANGED for step in self.steps)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for step in self.steps:
            found[step.action] = found.get(step.action, 0) + 1
        return found

    def summary(self) -> str:
        counts = self.counts()
        updates = sum(n for action, n in counts.items() if action.startswith("update"))
        return (f"{self.stack}: {counts.get(CREATE, 0)} to create, {updates} to update, "
                f"{counts.get(DELETE, 0)} to delete, {counts.get(UNCHANGED, 0)} unchanged")


def kind_of(resource: Resource) -> str:
    return KINDS[type(resource).__name__]


def resource_key(resource: Resource) -> str:
    """How a resource is known on the server: its name, an API's id, a permission's function and Sid."""
    if isinstance(resource, Permission):
        qualifier = f":{resource.function.qualifier}" if resource.function.qualifier else ""
        return f"{resource.function.name}{qualifier}/{resource.statement_id}"
    if isinstance(resource, HttpApi | RestApi):
        return resource.api_id
    if isinstance(resource, Schedule):
        return f"{resource.group}/{resource.name}"
    return resource.name


def desired_spec(resource: Resource, stack: Stack) -> dict[str, Any]:
    """The resource's `desired()`, with a function's layers named as a reader of the server names them."""
    spec = resource.desired()
    if isinstance(resource, Function):
        spec["Layers"] = [f"layer:{_layer(stack, ref.logical_id).name}" if ref.logical_id else ref.arn
                          for ref in resource.layers]
        spec["Tags"] = resource.tags
    return _normal(spec)


def plan(stack: Stack, deployed: Deployed, digest: Callable[[CodeSource], str]) -> Plan:
    steps: list[Step] = []
    republished: set[str] = set()  # layers getting a new version: their functions' Layers change with them
    wanted = set()
    for resource in stack.resources():
        kind, key = kind_of(resource), resource_key(resource)
        wanted.add((kind, key))
        current = deployed.resources.get((kind, key))
        spec = desired_spec(resource, stack)
        code = digest(resource.code) if isinstance(resource, Function | LayerVersion) else None
        step = _compare(kind, key, resource, spec, code, current, republished)
        if kind == "layer" and step.action != UNCHANGED:
            republished.add(resource.logical_id)
        steps.append(step)
    gone = sorted((key for key in deployed.resources if key not in wanted),
                  key=lambda k: (-KIND_ORDER.index(k[0]) if k[0] in KIND_ORDER else 0, k[1]))
    steps += [Step(kind, key, deployed.resources[(kind, key)].logical_id, DELETE) for kind, key in gone]
    return Plan(stack.name, steps)


def _compare(kind: str, key: str, resource: Resource, spec: dict[str, Any], code: str | None,
             current: DeployedResource | None, republished: set[str]) -> Step:
    logical_id = resource.logical_id
    if current is None:
        return Step(kind, key, logical_id, CREATE, resource=resource)
    changes = _differences(spec, _normal(current.spec))
    if isinstance(resource, Function) and any(ref.logical_id in republished for ref in resource.layers):
        changes = tuple(sorted({*changes, "Layers"}))
    code_changed = code is not None and code != current.code_sha256
    action = UNCHANGED
    if code_changed and changes:
        action = UPDATE_BOTH
    elif code_changed:
        action = UPDATE_CODE
    elif changes:
        action = UPDATE_CONFIG
    return Step(kind, key, logical_id, action, (("Code",) if code_changed else ()) + changes, resource)


def _differences(desired: dict[str, Any], current: dict[str, Any]) -> tuple[str, ...]:
    """Names of what differs; a function's Configuration is compared member by member, as far as desired sets."""
    found = []
    for name, value in desired.items():
        if name == "Configuration" and isinstance(value, dict):
            present = current.get(name) or {}
            found += [member for member, wanted in value.items() if present.get(member) != wanted]
        elif current.get(name) != value:
            found.append(name)
    return tuple(sorted(found))


def _layer(stack: Stack, logical_id: str) -> LayerVersion:
    return next(layer for layer in stack.layers if layer.logical_id == logical_id)


def _normal(value: Any) -> Any:
    """JSON's view of a value (tuples as lists, keys as text), so a model and a server read compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
