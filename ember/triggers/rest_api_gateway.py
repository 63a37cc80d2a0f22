"""A REST API's data plane, as API Gateway (v1) runs a Lambda proxy: `/<stage>/<resource>` → function.

Answers as a REST API answers (AWS's "Handling Lambda errors with an API Gateway API"): an unknown
stage is 403 `{"message":"Forbidden"}`, a path or method with no resource 403 `{"message":"Missing
Authentication Token"}`, an invoke Lambda refused (a throttle included, or no permission) 500 and a
function error or malformed response 502, both `{"message": "Internal server error"}`; past the
29 s integration timeout, 504 `{"message": "Endpoint request timed out"}`.
"""

from __future__ import annotations

import uuid

from ember.arns import execute_api_arn, integration_function
from ember.triggers.api_invoke import ApiInvoker, Outcome, Target
from ember.triggers.api_store import Record
from ember.triggers.http_call import HttpCall, HttpResponse, RouteContext
from ember.triggers.http_events import event_v1
from ember.triggers.http_responses import json_message, response_v1, rest_api_error
from ember.triggers.http_routes import RouteTable, parse_route_key, split_stage
from ember.triggers.rest_apis import TIMEOUT_S, RestApis

MISSING_TOKEN = "Missing Authentication Token"


class RestApiGateway:
    def __init__(self, apis: RestApis, caller: ApiInvoker, region: str, timeout_s: float = TIMEOUT_S) -> None:
        self.apis = apis
        self.caller = caller
        self.region = region
        self.timeout_s = timeout_s
        self._tables: dict[str, tuple[int, RouteTable[Record]]] = {}  # per API, at the revision built

    async def answer(self, call: HttpCall, api: Record) -> HttpResponse:
        request_id = str(uuid.uuid4())
        response = await self._serve(call, api, request_id)
        response.headers.append(("x-amzn-requestid", request_id))
        return response

    async def _serve(self, call: HttpCall, api: Record, request_id: str) -> HttpResponse:
        split = split_stage(call.path, api["stages"])
        if split is None:
            return json_message(403, "Forbidden")
        stage, path = split
        match = self._table(api).match(call.method, path)
        function = integration_function(match.value["uri"]) if match else None
        if match is None or function is None:
            return json_message(403, MISSING_TOKEN)
        route = match.value
        target = Target(function, execute_api_arn(self.region, api["id"], stage, route["method"], route["resource"]),
                        self.timeout_s)
        context = RouteContext(api["id"], f"{api['id']}.execute-api.{self.region}.amazonaws.com", request_id,
                               stage=stage, route_key=match.key.text, resource_path=route["resource"],
                               path_parameters=match.path_parameters or None,
                               stage_variables=api["stages"][stage]["variables"] or None,
                               binary_media_types=tuple(api["binaryMediaTypes"]))
        invoked = await self.caller.call(target, event_v1(call, context, rest=True))
        if invoked.outcome is Outcome.TIMED_OUT:
            return json_message(504, "Endpoint request timed out")
        if invoked.outcome in (Outcome.DENIED, Outcome.REJECTED):
            return rest_api_error(500)
        if invoked.outcome is Outcome.FUNCTION_ERROR:
            return rest_api_error(502)
        return response_v1(invoked.payload, rest_api_error(502))

    def _table(self, api: Record) -> RouteTable[Record]:
        revision = self.apis.store.revisions[api["id"]]
        cached = self._tables.get(api["id"])
        if cached is None or cached[0] != revision:
            table = RouteTable((parse_route_key(f"{route['method']} {route['resource']}"), route)
                               for route in api["routes"])
            cached = self._tables[api["id"]] = (revision, table)
        return cached[1]
