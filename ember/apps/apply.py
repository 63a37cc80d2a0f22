"""Apply a plan to a server: the one place a stack's resources are created, changed and deleted.

Order, and what a failure leaves:

1. APIs the plan creates are made empty first: the server chooses their ids, and permissions' SourceArns, routes
   and Outputs name them, so the stack is loaded again with those ids (`replan`) before anything else.
2. Creates and updates, in `Stack.resources()` order (roles, layers, functions, permissions, APIs, rules,
   schedules). Nothing the previous deploy serves is removed in this phase, and a function is changed only by
   calls that swap it whole (ember.apps.apply_functions), so the previous version serves until the new one is
   ready. Each change records its undo; the first failure runs them all, newest first (deleting what was
   created, putting back the code, configuration, alias, routes, rules and schedules that were changed), and the
   deploy fails with one line naming the resource and the server's answer.
3. Deletes of what left the template, dependants first. By then the new version is complete and serving; a
   failure here is reported and the rest is left for the next deploy (nothing is rolled back).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError

from ember.apps import apply_functions, apply_iam, apply_triggers
from ember.apps.apply_context import Context
from ember.apps.clients import Clients
from ember.apps.model import CodeSource, Function, LayerVersion, Permission, Role, Stack
from ember.apps.plan import CREATE, DELETE, KIND_ORDER, UNCHANGED, Deployed, Plan, Step
from ember.apps.triggers import HttpApi, RestApi, Rule, Schedule

Replan = Callable[[dict[str, str]], tuple[Stack, Plan]]


class ApplyError(Exception):
    """A deploy that failed: `str()` is the one line to print; `undo_failures` what could not be put back."""

    def __init__(self, message: str, undo_failures: list[str] | None = None) -> None:
        super().__init__(message)
        self.undo_failures = undo_failures or []


def apply(clients: Clients, stack: Stack, deployed: Deployed, plan: Plan, zip_of: Callable[[CodeSource], bytes],
          replan: Replan, on_step: Callable[[Step], None] = lambda step: None,
          known_zips: dict[str, bytes] | None = None) -> dict[str, str]:
    """Run the plan; the ids the server chose (APIs, function URLs) by logical id, for loading the stack's
    Outputs. Raises ApplyError (after rolling back) when a create or update fails. `known_zips` (by CodeSha256)
    spares downloading the code a rollback would put back when the caller still holds it."""
    ctx = Context(clients, stack, deployed, zip_of, known_ids=dict(deployed.known_ids),
                  known_zips=dict(known_zips or {}))
    for layer in stack.layers:
        current = deployed.resources.get(("layer", layer.name))
        if current is not None:
            ctx.layer_arns[layer.logical_id] = current.detail["LayerVersionArn"]
    step: Step | None = None
    try:
        shells = [s for s in plan.steps if s.action == CREATE and s.kind in ("http api", "rest api")]
        for step in shells:
            assert isinstance(step.resource, HttpApi | RestApi)
            apply_triggers.create_shell(ctx, step.resource)
        if shells:
            ctx.stack, plan = replan(dict(ctx.known_ids))
        for step in plan.steps:
            if step.action not in (UNCHANGED, DELETE):
                _forward(ctx, step)
                on_step(step)
    except Exception as exc:
        failures = ctx.roll_back()
        where = f"{step.kind} {step.logical_id or step.key}" if step else "deploy"
        undone = "rolled back" if not failures else f"rolled back except {len(failures)} change(s)"
        raise ApplyError(f"{where}: {describe(exc)} ({undone}; the previous version still serves)",
                         failures) from exc
    for step in [s for s in plan.steps if s.action == DELETE]:
        try:
            _delete(ctx, step)
        except Exception as exc:
            raise ApplyError(f"deleting {step.kind} {step.logical_id or step.key}: {describe(exc)} (the new version "
                             "serves; deploy again to finish removing what left the template)") from exc
        on_step(step)
    return ctx.known_ids


def describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"


def _forward(ctx: Context, step: Step) -> None:
    resource, created = step.resource, step.action == CREATE
    if isinstance(resource, Role):
        (apply_iam.create_role if created else apply_iam.update_role)(ctx, resource)
    elif isinstance(resource, LayerVersion):
        apply_iam.publish_layer(ctx, resource)
    elif isinstance(resource, Function):
        if created:
            apply_functions.create_function(ctx, resource)
        else:
            apply_functions.update_function(ctx, resource, step.changes)
    elif isinstance(resource, Permission):
        if created:
            apply_iam.add_permission(ctx, resource)
        else:
            apply_iam.update_permission(ctx, resource, step.key)
    elif isinstance(resource, HttpApi):
        apply_triggers.set_http_api(ctx, resource, created)
    elif isinstance(resource, RestApi):
        apply_triggers.set_rest_api(ctx, resource, created)
    elif isinstance(resource, Rule):
        apply_triggers.set_rule(ctx, resource, created)
    elif isinstance(resource, Schedule):
        apply_triggers.set_schedule(ctx, resource, created)


def _delete(ctx: Context, step: Step) -> None:
    current = ctx.deployed.resources[(step.kind, step.key)]
    actions: dict[str, Callable[[], None]] = {
        "role": lambda: apply_iam.delete_role(ctx, step.key),
        "layer": lambda: apply_iam.delete_layer(ctx, step.key),
        "function": lambda: apply_functions.delete_function(ctx, step.key),
        "permission": lambda: apply_iam.remove_permission(ctx, current.spec),
        "http api": lambda: apply_triggers.delete_http_api(ctx, step.key),
        "rest api": lambda: apply_triggers.delete_rest_api(ctx, step.key),
        "rule": lambda: apply_triggers.delete_rule(ctx, step.key),
        "schedule": lambda: apply_triggers.delete_schedule(ctx, *step.key.split("/", 1)),
    }
    actions[step.kind]()


def remove_stack(clients: Clients, stack_name: str, deployed: Deployed,
                 on_step: Callable[[Step], None] = lambda step: None) -> None:
    """Delete everything `deployed` holds of a stack, dependants first (`ember rm --stack`)."""
    ctx = Context(clients, Stack(stack_name, "", "", Path(".")), deployed, lambda source: b"")
    ordered = sorted(deployed.resources, key=lambda k: (-KIND_ORDER.index(k[0]), k[1]))
    for kind, key in ordered:
        step = Step(kind, key, deployed.resources[(kind, key)].logical_id, DELETE)
        _delete(ctx, step)
        on_step(step)
