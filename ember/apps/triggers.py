"""The model's triggers: what calls a stack's functions (HTTP and REST APIs, EventBridge rules, Scheduler
schedules, serverless-plugin-warmup's warmers), each naming its function by FunctionTarget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FunctionTarget:
    """What an event or route invokes: a function of the stack, maybe an alias or version of it."""

    name: str
    qualifier: str | None = None


@dataclass
class HttpRoute:
    """An API Gateway v2 route: `GET /items/{id}` or `$default`, integrated with a function (AWS_PROXY)."""

    route_key: str
    function: FunctionTarget
    payload_format: str = "2.0"
    timeout_ms: int = 30000


@dataclass
class HttpApi:
    logical_id: str
    api_id: str
    name: str
    routes: list[HttpRoute] = field(default_factory=list)
    stages: tuple[str, ...] = ()
    cors: dict[str, Any] | None = None  # CreateApi's CorsConfiguration
    tags: dict[str, str] = field(default_factory=dict)

    def desired(self) -> dict[str, Any]:
        return {"Name": self.name, "Stages": list(self.stages), "Cors": self.cors,
                "Routes": sorted(_route_view(route) for route in self.routes)}


@dataclass
class RestRoute:
    """An API Gateway v1 method: path `/hello/{id}` (or `/{proxy+}`), method `GET` (or `ANY`), Lambda proxy."""

    path: str
    method: str
    function: FunctionTarget


@dataclass
class RestApi:
    logical_id: str
    api_id: str
    name: str
    routes: list[RestRoute] = field(default_factory=list)
    stages: tuple[str, ...] = ()  # SAM's implicit API has two: `Prod` and the Deployment's `Stage`
    binary_media_types: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # a template's own Swagger/OpenAPI definition, intrinsics resolved

    def desired(self) -> dict[str, Any]:
        routes = sorted((route.path, route.method, route.function.name, route.function.qualifier or "")
                        for route in self.routes)
        return {"Name": self.name, "Stages": sorted(self.stages), "Routes": routes,
                "BinaryMediaTypes": list(self.binary_media_types)}


@dataclass
class RuleTarget:
    id: str
    function: FunctionTarget
    input: str | None = None  # JSON text, as PutTargets takes it
    input_path: str | None = None


@dataclass
class Rule:
    logical_id: str
    name: str
    schedule_expression: str | None = None
    event_pattern: dict[str, Any] | None = None
    state: str = "ENABLED"
    description: str = ""
    targets: list[RuleTarget] = field(default_factory=list)

    def desired(self) -> dict[str, Any]:
        return {"ScheduleExpression": self.schedule_expression, "EventPattern": self.event_pattern,
                "State": self.state, "Description": self.description,
                "Targets": [(t.id, t.function.name, t.function.qualifier, t.input, t.input_path)
                            for t in self.targets]}


@dataclass
class Schedule:
    """An EventBridge Scheduler schedule (SAM's ScheduleV2) whose target is a function."""

    logical_id: str
    name: str
    expression: str
    function: FunctionTarget
    group: str = "default"
    timezone: str | None = None
    input: str | None = None
    state: str = "ENABLED"
    flexible_window: dict[str, Any] = field(default_factory=lambda: {"Mode": "OFF"})
    retry_policy: dict[str, Any] | None = None
    description: str = ""
    role_arn: str | None = None  # the execution role the Scheduler invokes the function as

    def desired(self) -> dict[str, Any]:
        return schedule_spec(self.expression, self.role_arn, self.function, self.group, self.timezone, self.input,
                             self.state, self.flexible_window, self.retry_policy, self.description)


DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}  # the Scheduler's


def schedule_spec(expression: str, role_arn: str | None, function: FunctionTarget, group: str, timezone: str | None,
                  input: str | None, state: str, window: dict[str, Any], retry: dict[str, Any] | None,
                  description: str) -> dict[str, Any]:
    """A schedule as the plan compares it, the Scheduler's defaults (UTC, its retry policy) written as unset."""
    return {"Expression": expression, "RoleArn": role_arn, "Function": [function.name, function.qualifier],
            "Group": group, "Timezone": None if timezone == "UTC" else timezone, "Input": input, "State": state,
            "FlexibleTimeWindow": window, "RetryPolicy": None if retry == DEFAULT_RETRY else retry,
            "Description": description}


@dataclass
class WarmTarget:
    function: FunctionTarget
    concurrency: int = 1


@dataclass
class Warmer:
    """serverless-plugin-warmup's warmer: on a schedule, invokes each function `concurrency` times at once,
    synchronously, with the plugin's payload and ClientContext, so that many environments stay warm."""

    name: str
    schedules: tuple[str, ...]
    targets: list[WarmTarget]
    payload: str = '{"source":"serverless-plugin-warmup"}'

    @property
    def logical_id(self) -> str:
        return f"WarmUpPlugin{self.name[:1].upper()}{self.name[1:]}"

    def desired(self) -> dict[str, Any]:
        return {"Schedules": list(self.schedules), "Payload": self.payload,
                "Targets": [[t.function.name, t.function.qualifier, t.concurrency] for t in self.targets]}



def _route_view(route: HttpRoute) -> tuple[str, str, str, str, int]:
    return (route.route_key, route.function.name, route.function.qualifier or "", route.payload_format,
            route.timeout_ms)
