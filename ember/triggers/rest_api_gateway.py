"""A REST API's data plane, as API Gateway (v1) runs a Lambda proxy: `/<stage>/<resource>` → function.

A stage serves its deployment's snapshot of the methods (ember.triggers.rest_stages), never the
resources as they are now. Answers as a REST API answers (AWS's "Handling Lambda errors with an API
Gateway API"): an unknown stage is 403 `{"message":"Forbidden"}`, a path or method with no resource
403 `{"message":"Missing Authentication Token"}`; a MOCK integration answers from its own templates and
responses (ember.triggers.rest_mock); an integration Ember does not run (neither), an invoke Lambda
refused (a throttle included, or no permission) 500 and a function error or malformed response 502,
both `{"message": "Internal server error"}`; past the integration's timeout (29 s by default), 504
`{"message": "Endpoint request timed out"}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ember.arns import FunctionRef, execute_api_arn
from ember.triggers.api_invoke import ApiInvoker, Outcome, Target
from ember.triggers.api_store import Record
from ember.triggers.http_call import HttpCall, HttpResponse, RouteContext
from ember.triggers.http_events import event_v1
from ember.triggers.http_responses import json_message, response_v1, rest_api_error
from ember.triggers.http_routes import RouteTable, parse_route_key, split_stage
from ember.triggers.rest_apis import RestApis
from ember.triggers.rest_definitions import lambda_target, why_not_run
from ember.triggers.rest_mock import Mock, answer, mock_of

MISSING_TOKEN = "Missing Authentication Token"


@dataclass(frozen=True)
class Method:
    """One deployed method, read once per deployment: what a call to it needs."""

    http_method: str
    path: str  # the resource's path as declared: `/items/{id}`
    resource_id: str
    function: FunctionRef | None  # None: a MOCK, or an integration Ember does not run (answered 500)
    timeout_s: float
    role: bool  # the integration has `credentials`: API Gateway invokes as that role
    mock: Mock | None = None  # a MOCK integration: answered by ember.triggers.rest_mock, no function


@dataclass(frozen=True)
class Served:
    """What one stage serves: its deployment's methods and binary media types, its own variables."""

    table: RouteTable[Method]
    binary_media_types: tuple[str, ...]
    variables: dict[str, str]


class RestApiGateway:
    def __init__(self, apis: RestApis, caller: ApiInvoker, region: str) -> None:
        self.apis = apis
        self.caller = caller
        self.region = region
        self._stages: dict[str, tuple[int, dict[str, Served]]] = {}  # per API, at the revision built
        self._tables: dict[tuple[str, str], RouteTable[Method]] = {}  # per (API, deployment): never changes

    async def answer(self, call: HttpCall, api: Record) -> HttpResponse:
        request_id = str(uuid.uuid4())
        response = await self._serve(call, api, request_id)
        response.headers.append(("x-amzn-requestid", request_id))
        return response

    async def _serve(self, call: HttpCall, api: Record, request_id: str) -> HttpResponse:
        stages = self._served(api["id"])
        split = split_stage(call.path, stages)
        if split is None or api.get("disableExecuteApiEndpoint"):
            return json_message(403, "Forbidden")
        stage, path = split
        served = stages[stage]
        match = served.table.match(call.method, path)
        if match is None:
            return json_message(403, MISSING_TOKEN)
        method = match.value
        if method.mock is not None:
            return answer(method.mock, call)
        if method.function is None:
            return rest_api_error(500)
        source_arn = execute_api_arn(self.region, api["id"], stage, method.http_method, method.path)
        context = RouteContext(api["id"], f"{api['id']}.execute-api.{self.region}.amazonaws.com", request_id,
                               stage=stage, route_key=match.key.text, resource_path=method.path,
                               resource_id=method.resource_id, path_parameters=match.path_parameters or None,
                               stage_variables=served.variables or None,
                               binary_media_types=served.binary_media_types)
        target = Target(method.function, source_arn, method.timeout_s, role=method.role)
        invoked = await self.caller.call(target, event_v1(call, context, rest=True))
        if invoked.outcome is Outcome.TIMED_OUT:
            return json_message(504, "Endpoint request timed out")
        if invoked.outcome in (Outcome.DENIED, Outcome.REJECTED):
            return rest_api_error(500)
        if invoked.outcome is Outcome.FUNCTION_ERROR:
            return rest_api_error(502)
        return response_v1(invoked.payload, rest_api_error(502))

    def _served(self, api_id: str) -> dict[str, Served]:
        """Every deployed stage of the API, rebuilt only when the API changed since."""
        revision = self.apis.store.revisions[api_id]
        cached = self._stages.get(api_id)
        if cached is None or cached[0] != revision:
            served = {}
            for stage in self.apis.stages.stages(api_id):
                snapshot = self.apis.stages.snapshot(api_id, stage["deploymentId"])
                if snapshot is not None:
                    served[stage["stageName"]] = Served(self._table(api_id, stage["deploymentId"], snapshot),
                                                        tuple(snapshot["binaryMediaTypes"]), stage["variables"])
            cached = self._stages[api_id] = (revision, served)
        return cached[1]

    def _table(self, api_id: str, deployment_id: str, snapshot: Record) -> RouteTable[Method]:
        table = self._tables.get((api_id, deployment_id))
        if table is None:
            if len(self._tables) > 4096:
                self._tables.clear()
            table = self._tables[(api_id, deployment_id)] = RouteTable(
                (parse_route_key(f"{method['httpMethod']} {method['path']}"), _method(method))
                for method in snapshot["methods"])
        return table


def _method(record: Record) -> Method:
    integration = record["methodIntegration"]
    mock = integration["type"] == "MOCK"
    runnable = not mock and why_not_run(integration) is None
    return Method(record["httpMethod"], record["path"], record["resourceId"],
                  lambda_target(integration["uri"]) if runnable else None,
                  integration["timeoutInMillis"] / 1000, role=bool(integration.get("credentials")),
                  mock=mock_of(integration) if mock else None)
