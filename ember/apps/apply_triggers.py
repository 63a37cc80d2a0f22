"""Apply HTTP APIs, REST APIs, EventBridge rules and Scheduler schedules: create, bring to the desired state,
delete, each with its undo.

An API is created empty first (`create_shell`) because the server chooses its id, and the permissions, routes
and Outputs of the stack name it; then it is brought to its routes and stages like an existing one. An HTTP
API's routes are changed one by one (a route that stays keeps answering throughout); a REST API is replaced
whole by its definition (`put_rest_api`, mode overwrite: the template's own `Body`, or a Swagger document of
its routes for serverless's `http` events and `AWS::ApiGateway::Method`s) and deployed to each stage.
"""

from __future__ import annotations

import json
from typing import Any

from ember.apps.apply_context import Context, ignore_absent
from ember.apps.swagger import swagger
from ember.apps.triggers import FunctionTarget, HttpApi, RestApi, RestRoute, Rule, Schedule

DEFAULT_SCHEDULER_ROLE = "role/ember-scheduler"  # a role Ember's IAM does not know: runs unchecked, as documented


def create_shell(ctx: Context, api: HttpApi | RestApi) -> str:
    """An empty API with the stack's tags; its id, chosen by the server."""
    if isinstance(api, HttpApi):
        v2 = ctx.clients.apigatewayv2
        api_id = str(v2.create_api(Name=api.name, ProtocolType="HTTP", Tags=api.tags)["ApiId"])
        ctx.undo(f"HTTP API {api_id}", lambda: ignore_absent(v2.delete_api, ApiId=api_id))
    else:
        v1 = ctx.clients.apigateway
        api_id = str(v1.create_rest_api(name=api.name, tags=api.tags)["id"])
        ctx.undo(f"REST API {api_id}", lambda: ignore_absent(v1.delete_rest_api, restApiId=api_id))
    ctx.known_ids[api.logical_id] = api_id
    return api_id


# ------------------------------------------------------------------ HTTP APIs


def set_http_api(ctx: Context, api: HttpApi, created: bool) -> None:
    current = ctx.current("http api", api.api_id)
    have = current.spec if current else {"Name": api.name, "Cors": None, "Routes": [], "Stages": []}
    _http_api_to(ctx, api.api_id, api.desired(), have)
    if not created:
        ctx.undo(f"HTTP API {api.api_id}", lambda: _http_api_to(ctx, api.api_id, have, api.desired()))


def _http_api_to(ctx: Context, api_id: str, want: dict[str, Any], have: dict[str, Any]) -> None:
    v2 = ctx.clients.apigatewayv2
    if want["Name"] != have.get("Name") or want.get("Cors") != have.get("Cors"):
        v2.update_api(ApiId=api_id, Name=want["Name"], CorsConfiguration=want.get("Cors") or {})  # {}: none
    _routes_to(ctx, api_id, [list(route) for route in want["Routes"]])
    stages = {stage["StageName"] for stage in v2.get_stages(ApiId=api_id)["Items"]}
    for stage in sorted(set(want["Stages"]) - stages):
        v2.create_stage(ApiId=api_id, StageName=stage, AutoDeploy=True)
    for stage in sorted(stages - set(want["Stages"])):
        ignore_absent(v2.delete_stage, ApiId=api_id, StageName=stage)


def _routes_to(ctx: Context, api_id: str, wanted: list[list[Any]]) -> None:
    """Routes [key, function, qualifier, payload format, timeout] made so, one by one (AutoDeploy serves each)."""
    v2 = ctx.clients.apigatewayv2
    integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api_id)["Items"]}
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    for key, name, qualifier, payload, timeout in wanted:
        members = {"IntegrationUri": ctx.function_arn(FunctionTarget(name, qualifier or None)),
                   "PayloadFormatVersion": payload, "TimeoutInMillis": timeout}
        route = routes.pop(key, None)
        integration_id = str((route or {}).get("Target", "")).removeprefix("integrations/")
        if route and integration_id in integrations:
            now = integrations[integration_id]
            if any(now.get(member) != value for member, value in members.items()):
                v2.update_integration(ApiId=api_id, IntegrationId=integration_id, **members)
            continue
        made = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", **members)
        target = f"integrations/{made['IntegrationId']}"
        if route:
            v2.update_route(ApiId=api_id, RouteId=route["RouteId"], Target=target)
        else:
            v2.create_route(ApiId=api_id, RouteKey=key, Target=target)
    for route in routes.values():
        ignore_absent(v2.delete_route, ApiId=api_id, RouteId=route["RouteId"])
        integration_id = str(route.get("Target", "")).removeprefix("integrations/")
        if integration_id:
            ignore_absent(v2.delete_integration, ApiId=api_id, IntegrationId=integration_id)


def delete_http_api(ctx: Context, api_id: str) -> None:
    ignore_absent(ctx.clients.apigatewayv2.delete_api, ApiId=api_id)


# ------------------------------------------------------------------ REST APIs


def set_rest_api(ctx: Context, api: RestApi, created: bool) -> None:
    current = ctx.current("rest api", api.api_id)
    _rest_api_to(ctx, api)
    if not created and current is not None and current.spec.get("Routes") is not None:
        routes = [RestRoute(path, method, FunctionTarget(name, qualifier or None))
                  for path, method, name, qualifier in current.spec["Routes"]]
        before = RestApi(api.logical_id, api.api_id, current.spec["Name"], routes, tuple(current.spec["Stages"]),
                         tuple(current.spec.get("BinaryMediaTypes") or ()))
        ctx.undo(f"REST API {api.api_id}", lambda: _rest_api_to(ctx, before))


def _rest_api_to(ctx: Context, api: RestApi) -> None:
    v1 = ctx.clients.apigateway
    body = json.dumps(api.body if api.body is not None else swagger(api, ctx.function_arn)).encode()
    v1.put_rest_api(restApiId=api.api_id, mode="overwrite", body=body)
    for stage in api.stages:
        v1.create_deployment(restApiId=api.api_id, stageName=stage)


def delete_rest_api(ctx: Context, api_id: str) -> None:
    ignore_absent(ctx.clients.apigateway.delete_rest_api, restApiId=api_id)


# ------------------------------------------------------------------ rules


def set_rule(ctx: Context, rule: Rule, created: bool) -> None:
    current = ctx.current("rule", rule.name)
    have = current.spec if current else None
    _rule_to(ctx, rule.name, rule.desired(), have)
    if created:
        ctx.undo(f"rule {rule.name}", lambda: delete_rule(ctx, rule.name))
    elif have is not None:
        ctx.undo(f"rule {rule.name}", lambda: _rule_to(ctx, rule.name, have, rule.desired()))


def _rule_to(ctx: Context, name: str, want: dict[str, Any], have: dict[str, Any] | None) -> None:
    events = ctx.clients.events
    events.put_rule(Name=name, ScheduleExpression=want["ScheduleExpression"], State=want["State"],
                    Description=want["Description"])
    targets = []
    for target_id, function, qualifier, text, path in want["Targets"]:
        target = {"Id": target_id, "Arn": ctx.function_arn(FunctionTarget(function, qualifier))}
        target.update({key: value for key, value in (("Input", text), ("InputPath", path)) if value is not None})
        targets.append(target)
    if targets:
        events.put_targets(Rule=name, Targets=targets)
    stale = sorted({t[0] for t in (have or {}).get("Targets", [])} - {t["Id"] for t in targets})
    if stale:
        events.remove_targets(Rule=name, Ids=stale)


def delete_rule(ctx: Context, name: str) -> None:
    events = ctx.clients.events
    targets = (ignore_absent(events.list_targets_by_rule, Rule=name) or {}).get("Targets", [])
    if targets:
        events.remove_targets(Rule=name, Ids=[t["Id"] for t in targets])
    ignore_absent(events.delete_rule, Name=name)


# ------------------------------------------------------------------ schedules


def set_schedule(ctx: Context, schedule: Schedule, created: bool) -> None:
    scheduler = ctx.clients.scheduler
    request = _schedule_request(ctx, schedule)
    if created:
        scheduler.create_schedule(**request)
        ctx.undo(f"schedule {schedule.name}", lambda: delete_schedule(ctx, schedule.group, schedule.name))
        return
    before = scheduler.get_schedule(Name=schedule.name, GroupName=schedule.group)
    scheduler.update_schedule(**request)
    old = {key: before[key] for key in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target",
                                        "State", "Description", "ScheduleExpressionTimezone") if key in before}
    ctx.undo(f"schedule {schedule.name}", lambda: scheduler.update_schedule(**old))


def _schedule_request(ctx: Context, schedule: Schedule) -> dict[str, Any]:
    target: dict[str, Any] = {"Arn": ctx.function_arn(schedule.function),
                              "RoleArn": schedule.role_arn or f"arn:aws:iam::{ctx.stack.account}:"
                                                              f"{DEFAULT_SCHEDULER_ROLE}"}
    if schedule.input is not None:
        target["Input"] = schedule.input
    if schedule.retry_policy:
        target["RetryPolicy"] = schedule.retry_policy
    request = {"Name": schedule.name, "GroupName": schedule.group, "ScheduleExpression": schedule.expression,
               "FlexibleTimeWindow": schedule.flexible_window, "Target": target, "State": schedule.state,
               "Description": schedule.description}
    if schedule.timezone:
        request["ScheduleExpressionTimezone"] = schedule.timezone
    return request


def delete_schedule(ctx: Context, group: str, name: str) -> None:
    ignore_absent(ctx.clients.scheduler.delete_schedule, Name=name, GroupName=group)
