"""Read a stack's triggers back from the server: HTTP APIs and REST APIs (by their `ember:stack` tag), EventBridge
rules and Scheduler schedules (by their targets: a function of the stack), each in the shape of the model's
`desired()` (ember.apps.triggers)."""

from __future__ import annotations

import json
from typing import Any

from ember.apps.clients import Clients
from ember.apps.model import LOGICAL_ID_TAG, STACK_TAG
from ember.apps.plan import Deployed, DeployedResource
from ember.apps.server_answers import absent, pages
from ember.apps.triggers import FunctionTarget, schedule_spec

ANY_METHOD = "x-amazon-apigateway-any-method"


def read(clients: Clients, stack_name: str, functions: set[str], deployed: Deployed) -> None:
    """`functions`: the names of the stack's functions (what its rules and schedules target)."""
    _http_apis(clients.apigatewayv2, stack_name, deployed)
    _rest_apis(clients.apigateway, stack_name, deployed)
    _rules(clients.events, functions, deployed)
    _schedules(clients.scheduler, functions, deployed)


def function_of(arn: str) -> FunctionTarget | None:
    """A function ARN (maybe qualified), or API Gateway's `…:lambda:path/2015-03-31/functions/<ARN>/invocations`."""
    if "/functions/" in arn:
        arn = arn.split("/functions/", 1)[1].removesuffix("/invocations")
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        return None
    return FunctionTarget(parts[6], parts[7] if len(parts) > 7 else None)


def _http_apis(client: Any, stack_name: str, deployed: Deployed) -> None:
    for api in (absent(client.get_apis) or {}).get("Items", []):
        tags = api.get("Tags") or {}
        if tags.get(STACK_TAG) != stack_name:
            continue
        api_id = api["ApiId"]
        integrations = {i["IntegrationId"]: i for i in client.get_integrations(ApiId=api_id)["Items"]}
        routes = []
        for route in client.get_routes(ApiId=api_id)["Items"]:
            integration = integrations.get(str(route.get("Target", "")).removeprefix("integrations/"), {})
            target = function_of(str(integration.get("IntegrationUri", ""))) or FunctionTarget("")
            routes.append([route["RouteKey"], target.name, target.qualifier or "",
                           str(integration.get("PayloadFormatVersion", "2.0")),
                           int(integration.get("TimeoutInMillis", 30000))])
        stages = [stage["StageName"] for stage in client.get_stages(ApiId=api_id)["Items"]]
        spec = {"Name": api["Name"], "Stages": sorted(stages), "Cors": api.get("CorsConfiguration") or None,
                "Routes": sorted(routes)}
        logical_id = tags.get(LOGICAL_ID_TAG, "")
        deployed.resources[("http api", api_id)] = DeployedResource(spec, logical_id=logical_id)
        if logical_id:
            deployed.known_ids[logical_id] = api_id


def _rest_apis(client: Any, stack_name: str, deployed: Deployed) -> None:
    for api in [item for page in pages(client, "get_rest_apis") for item in page.get("items", [])]:
        tags = api.get("tags") or {}
        if tags.get(STACK_TAG) != stack_name:
            continue
        api_id = api["id"]
        stages = (absent(client.get_stages, restApiId=api_id) or {}).get("item", [])
        spec = {"Name": api["name"], "Stages": sorted(stage["stageName"] for stage in stages),
                "Routes": _rest_routes(client, api_id), "BinaryMediaTypes": api.get("binaryMediaTypes") or []}
        logical_id = tags.get(LOGICAL_ID_TAG, "")
        deployed.resources[("rest api", api_id)] = DeployedResource(spec, logical_id=logical_id)
        if logical_id:
            deployed.known_ids[logical_id] = api_id


def _rest_routes(client: Any, api_id: str) -> list[list[str]] | None:
    """(path, METHOD, function, qualifier) of every Lambda proxy method, from the API's resources."""
    found: set[tuple[str, str, str, str]] = set()
    for page in pages(client, "get_resources", restApiId=api_id, embed=["methods"]):
        for resource in page.get("items", []):
            for method, detail in (resource.get("resourceMethods") or {}).items():
                uri = str(((detail or {}).get("methodIntegration") or {}).get("uri", ""))
                target = function_of(uri)
                if target is not None:
                    found.add((resource["path"], method, target.name, target.qualifier or ""))
    return [list(route) for route in sorted(found)]


def _rules(client: Any, functions: set[str], deployed: Deployed) -> None:
    for rule in [rule for page in pages(client, "list_rules") for rule in page.get("Rules", [])]:
        targets = [t for page in pages(client, "list_targets_by_rule", Rule=rule["Name"])
                   for t in page.get("Targets", [])]
        aimed = [(t, function_of(t["Arn"])) for t in targets]
        if not any(target and target.name in functions for _, target in aimed):
            continue
        pattern = rule.get("EventPattern")
        spec = {"ScheduleExpression": rule.get("ScheduleExpression"),
                "EventPattern": json.loads(pattern) if pattern else None, "State": rule.get("State", "ENABLED"),
                "Description": rule.get("Description", ""),
                "Targets": [[t["Id"], target.name if target else t["Arn"], target.qualifier if target else None,
                             t.get("Input"), t.get("InputPath")] for t, target in aimed]}
        deployed.resources[("rule", rule["Name"])] = DeployedResource(spec, logical_id=rule["Name"])


def _schedules(client: Any, functions: set[str], deployed: Deployed) -> None:
    for summary in [s for page in pages(client, "list_schedules") for s in page.get("Schedules", [])]:
        target = function_of(summary["Target"]["Arn"])
        if target is None or target.name not in functions:
            continue
        found = client.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
        aimed = found["Target"]
        spec = schedule_spec(found["ScheduleExpression"], aimed.get("RoleArn"), target, found["GroupName"],
                             found.get("ScheduleExpressionTimezone"), aimed.get("Input"), found["State"],
                             found["FlexibleTimeWindow"], aimed.get("RetryPolicy"), found.get("Description", ""))
        key = f"{found['GroupName']}/{found['Name']}"
        deployed.resources[("schedule", key)] = DeployedResource(spec, logical_id=found["Name"])
