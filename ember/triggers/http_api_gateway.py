"""An HTTP API's data plane, as API Gateway runs it: `<api-id>.execute-api…` → stage → route → function.

In order: the API (unknown → 404 `{"message":"Not Found"}`); a CORS preflight, answered without a
route when the API has a CorsConfiguration; the stage (a named stage owns `/<stage>/…`, `$default`
the rest) and the route its deployment holds (none → 404); the call (ember.triggers.api_invoke); the
function's answer in the integration's payload format. Every failure after routing is an HTTP
API's 500 `{"message":"Internal Server Error"}` (a throttle included: API Gateway never passes
Lambda's 429 on), and an integration that outlives its TimeoutInMillis (30 s at most) is 503
`{"message":"Service Unavailable"}`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from ember.arns import execute_api_arn, integration_function
from ember.triggers.api_invoke import ApiInvoker, Outcome, Target
from ember.triggers.api_store import Record
from ember.triggers.cors import is_preflight, preflight, with_cors
from ember.triggers.http_apis import HttpApis
from ember.triggers.http_call import HttpCall, HttpResponse, RouteContext
from ember.triggers.http_events import event_v1, event_v2
from ember.triggers.http_responses import http_api_error, json_message, response_v1, response_v2
from ember.triggers.http_routes import RouteMatch, RouteTable, parse_route_key, split_stage

MALFORMED = HttpResponse(500, [], b"")  # a marker: a response the function's answer could not be read as


@dataclass(frozen=True)
class Deployed:
    routes: RouteTable[Record]
    integrations: dict[str, Record]


@dataclass(frozen=True)
class Routed:
    stage: Record
    match: RouteMatch[Record]
    integration: Record


class HttpApiGateway:
    def __init__(self, apis: HttpApis, caller: ApiInvoker, region: str) -> None:
        self.apis = apis
        self.caller = caller
        self.region = region
        self._deployments: dict[tuple[str, str], Deployed] = {}

    async def answer(self, call: HttpCall, api_id: str) -> HttpResponse:
        api = self.apis.store.get(api_id, "api", api_id)
        if api is None:
            return json_message(404, "Not Found")
        if api.get("DisableExecuteApiEndpoint"):
            return json_message(403, "Forbidden")
        request_id = new_request_id()
        cors = api.get("CorsConfiguration")
        if cors is not None and is_preflight(call, cors):
            response = preflight(call, cors, status=204)
        else:
            response = await self._serve(call, api_id, request_id)
            response.headers = with_cors(response.headers, call, cors)
        response.headers.append(("apigw-requestid", request_id))
        return response

    async def _serve(self, call: HttpCall, api_id: str, request_id: str) -> HttpResponse:
        routed = self.route(api_id, call)
        if routed is None:
            return json_message(404, "Not Found")
        stage, key, integration = routed.stage["StageName"], routed.match.key, routed.integration
        function = integration_function(integration["IntegrationUri"])
        if function is None:
            return http_api_error()
        target = Target(function, execute_api_arn(self.region, api_id, stage, key.method, key.path),
                        integration["TimeoutInMillis"] / 1000, role="CredentialsArn" in integration)
        context = RouteContext(api_id, f"{api_id}.execute-api.{self.region}.amazonaws.com", request_id, stage=stage,
                               route_key=key.text, resource_path=key.path or key.text,
                               path_parameters=routed.match.path_parameters or None,
                               stage_variables=routed.stage.get("StageVariables") or None)
        v2 = integration["PayloadFormatVersion"] == "2.0"
        invoked = await self.caller.call(target, event_v2(call, context) if v2 else event_v1(call, context, False))
        if invoked.outcome is Outcome.TIMED_OUT:
            return json_message(503, "Service Unavailable")
        if invoked.outcome is not Outcome.ANSWERED:
            return http_api_error()
        mapped = response_v2(invoked.payload, MALFORMED) if v2 else response_v1(invoked.payload, MALFORMED)
        return http_api_error() if mapped is MALFORMED else mapped

    def route(self, api_id: str, call: HttpCall) -> Routed | None:
        """The stage, route and integration a request reaches; None for API Gateway's 404."""
        stages = {stage["StageName"]: stage for stage in self.apis.store.all(api_id, "stage")}
        split = split_stage(call.path, stages)
        if split is None:
            return None
        stage, path = stages[split[0]], split[1]
        deployed = self._deployed(api_id, stage)
        match = deployed.routes.match(call.method, path) if deployed else None
        if deployed is None or match is None:
            return None
        kind, _, integration_id = match.value.get("Target", "").partition("/")
        integration = deployed.integrations.get(integration_id) if kind == "integrations" else None
        return Routed(stage, match, integration) if integration else None

    def _deployed(self, api_id: str, stage: Record) -> Deployed | None:
        """What the stage's deployment serves, its route table built once (a deployment never changes)."""
        deployment = stage.get("DeploymentId")
        cached = self._deployments.get((api_id, deployment)) if deployment else None
        if cached is None:
            snapshot = self.apis.stages.snapshot(api_id, stage["StageName"])
            if deployment is None or snapshot is None:
                return None
            if len(self._deployments) > 4096:
                self._deployments.clear()
            routes = RouteTable((parse_route_key(route["RouteKey"]), route) for route in snapshot["routes"])
            cached = self._deployments[(api_id, deployment)] = Deployed(routes, snapshot["integrations"])
        return cached


def new_request_id() -> str:
    """API Gateway's request ids look like `JKJaXmPLvHcESHA=`: 11 random bytes in base64."""
    return base64.b64encode(secrets.token_bytes(11)).decode()
