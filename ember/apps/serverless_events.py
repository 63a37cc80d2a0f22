"""A serverless.yml function's events (`http`, `httpApi`, `schedule`), its `url` and its warmers → the model,
named as the framework names what it generates (`ApiGatewayRestApi`, `HttpApi`, `<Fn>EventsRuleSchedule1`…)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ember.apps import names
from ember.apps.cfn_context import Build
from ember.apps.model import Permission
from ember.apps.schedule_expressions import check_expression
from ember.apps.triggers import FunctionTarget, HttpApi, HttpRoute, RestApi, RestRoute, Rule, RuleTarget, Schedule

# The framework's defaults for `cors: true` (HTTP APIs and function URLs)
CORS_HEADERS = ["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token",
                "X-Amz-User-Agent", "X-Amzn-Trace-Id"]


@dataclass
class Service:
    """What the events of every function share: the service's names and its two APIs, made on first use."""

    build: Build
    service: str
    stage: str
    provider: dict[str, Any]

    def rest_api(self) -> RestApi:
        if not self.build.stack.rest_apis:
            name = str(self.provider.get("apiName") or f"{self.stage}-{self.service}")
            self.build.stack.rest_apis.append(RestApi(
                "ApiGatewayRestApi", self.build.resolver.ref("ApiGatewayRestApi"), name, stages=(self.stage,),
                tags=self.build.tags("ApiGatewayRestApi")))
        return self.build.stack.rest_apis[0]

    def http_api(self) -> HttpApi:
        if not self.build.stack.http_apis:
            settings = self.provider.get("httpApi") or {}
            self.build.stack.http_apis.append(HttpApi(
                "HttpApi", self.build.resolver.ref("HttpApi"), str(settings.get("name") or
                                                                   f"{self.stage}-{self.service}"),
                stages=("$default",), cors=http_api_cors(settings.get("cors")), tags=self.build.tags("HttpApi")))
        return self.build.stack.http_apis[0]

    def permission(self, logical_id: str, target: FunctionTarget, principal: str, source_arn: str) -> None:
        self.build.stack.permissions.append(Permission(logical_id, target, "lambda:InvokeFunction", principal,
                                                       source_arn))


def add_events(service: Service, fn_id: str, target: FunctionTarget, events: list[Any]) -> None:
    """Each event of one function; kinds Ember does not run are listed, never dropped."""
    where, counts = service.build.resolver.where, {"schedule": 0}
    for event in events or []:
        kind, spec = next(iter(event.items())) if isinstance(event, dict) and event else (str(event), None)
        if kind == "http":
            rest = service.rest_api()
            method, path = _method_and_path(spec)
            rest.routes.append(RestRoute(path, "ANY" if method in ("ANY", "*") else method, target))
            if not any(p.logical_id == f"{fn_id}LambdaPermissionApiGateway" for p in service.build.stack.permissions):
                service.permission(f"{fn_id}LambdaPermissionApiGateway", target, "apigateway.amazonaws.com",
                                   where.arn("execute-api", f"{rest.api_id}/*/*"))
        elif kind == "httpApi":
            http = service.http_api()
            payload = str((service.provider.get("httpApi") or {}).get("payload", "2.0"))
            http.routes.append(HttpRoute(_route_key(spec), target, payload))
            if not any(p.logical_id == f"{fn_id}LambdaPermissionHttpApi" for p in service.build.stack.permissions):
                service.permission(f"{fn_id}LambdaPermissionHttpApi", target, "apigateway.amazonaws.com",
                                   where.arn("execute-api", f"{http.api_id}/*"))
        elif kind == "schedule":
            for expression in _rates(spec):
                counts["schedule"] += 1
                _schedule(service, fn_id, target, spec, expression, counts["schedule"])
        else:
            service.build.unsupported(f"{fn_id}LambdaFunction", f"event {kind}")


def _method_and_path(spec: Any) -> tuple[str, str]:
    if isinstance(spec, str):  # `GET hello/{id}`
        method, _, path = spec.partition(" ")
    else:
        method, path = str(spec.get("method", "ANY")), str(spec.get("path", ""))
    return method.upper(), "/" + path.strip().lstrip("/")


def _route_key(spec: Any) -> str:
    if spec == "*" or (isinstance(spec, dict) and spec.get("method") == "*" and spec.get("path") == "*"):
        return "$default"
    method, path = _method_and_path(spec)
    return f"{'ANY' if method == '*' else method} {path}"


def _rates(spec: Any) -> list[str]:
    rate = spec.get("rate") if isinstance(spec, dict) else spec
    return [str(r) for r in (rate if isinstance(rate, list) else [rate])]


def _schedule(service: Service, fn_id: str, target: FunctionTarget, spec: Any, expression: str, n: int) -> None:
    build = service.build
    spec = spec if isinstance(spec, dict) else {}
    check_expression(expression, build.resolver.file, allow_at=spec.get("method") == "scheduler")
    state = "ENABLED" if spec.get("enabled", True) else "DISABLED"
    payload = spec.get("input")
    text = payload if payload is None or isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    if spec.get("method") == "scheduler":
        logical_id = f"{fn_id}Schedule{n}"
        build.stack.schedules.append(Schedule(
            logical_id, str(spec.get("name") or names.physical_name(build.stack.name, logical_id)), expression,
            target, timezone=spec.get("timezone"), input=text, state=state,
            description=str(spec.get("description", "")),
            role_arn=str(build.stack.function(target.name).config["Role"])))
        return
    logical_id = f"{fn_id}EventsRuleSchedule{n}"
    name = str(spec.get("name") or names.physical_name(build.stack.name, logical_id))
    build.stack.rules.append(Rule(logical_id, name, expression, state=state,
                                  description=str(spec.get("description", "")),
                                  targets=[RuleTarget(f"{fn_id}Schedule", target, text, spec.get("inputPath"))]))
    service.permission(f"{fn_id}LambdaPermissionEventsRuleSchedule{n}", target, "events.amazonaws.com",
                       build.resolver.where.arn("events", f"rule/{name}"))


def url_config(spec: Any) -> dict[str, Any]:
    """`url: true` or `url: {authorizer, cors, invokeMode}` as CreateFunctionUrlConfig's members."""
    spec = spec if isinstance(spec, dict) else {}
    config: dict[str, Any] = {"AuthType": "AWS_IAM" if spec.get("authorizer") == "aws_iam" else "NONE"}
    cors = http_api_cors(spec.get("cors"))
    if cors:
        config["Cors"] = cors
    if spec.get("invokeMode"):
        config["InvokeMode"] = str(spec["invokeMode"])
    return config


def http_api_cors(cors: Any) -> dict[str, Any] | None:
    """provider.httpApi.cors (true, or the framework's camelCase settings) as a CorsConfiguration."""
    if cors is True:
        return {"AllowOrigins": ["*"], "AllowHeaders": CORS_HEADERS, "AllowMethods": ["*"]}
    if not isinstance(cors, dict):
        return None
    keys = {"allowedOrigins": "AllowOrigins", "allowedHeaders": "AllowHeaders", "allowedMethods": "AllowMethods",
            "allowCredentials": "AllowCredentials", "exposedResponseHeaders": "ExposeHeaders", "maxAge": "MaxAge"}
    return {aws: cors[key] for key, aws in keys.items() if key in cors}
