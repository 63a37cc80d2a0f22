"""apigateway's (v1) operations on REST APIs, routed from botocore's model: each one's method, path and status.

Same endpoint and signing name (`apigateway`) as apigatewayv2; v1 lives under `/restapis` and
`/tags/<arn>`. A session's call is authorized as API Gateway authorizes it: the action is
`apigateway:<METHOD>` and the resource the path, `arn:aws:apigateway:<region>::/restapis/<id>/…`.
What was accepted but will not be run or enforced (an integration that is not a Lambda proxy, an
authorizer) comes back in `X-Ember-Warning`, and for an imported definition also in the RestApi's
own `warnings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ember.api.apigateway.wire import V1, operation, read_body, write
from ember.api.authorization import Authorizer, Endpoint, guarded
from ember.api.middleware import request_id_of
from ember.api.responses import WARNING_HEADER, aws_json
from ember.errors import BadRequestException
from ember.triggers.rest_apis import RestApis

DEFAULT_LIMIT, MAX_LIMIT = 25, 500  # v1's paging: `limit` per page, `position` where the next one starts


@dataclass(frozen=True)
class Call:
    path: dict[str, str]
    query: QueryParams
    body: dict[str, Any]
    raw: bytes

    @property
    def api(self) -> str:
        return self.path["restapi_id"]

    @property
    def resource(self) -> tuple[str, str]:
        return self.path["restapi_id"], self.path["resource_id"]

    @property
    def method(self) -> tuple[str, str, str]:
        return self.path["restapi_id"], self.path["resource_id"], self.path["http_method"].upper()

    @property
    def response(self) -> tuple[str, str, str, str]:
        return (*self.method, self.path["status_code"])

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() == "true"

    def embeds(self, name: str) -> bool:
        return name in ",".join(self.query.getlist("embed")).split(",")


Handler = Callable[[RestApis, Call], Any]
OPERATIONS: dict[str, Handler] = {
    "CreateRestApi": lambda apis, c: apis.create(c.body),
    "ImportRestApi": lambda apis, c: apis.import_definition(c.raw, c.query, c.flag("failonwarnings")),
    "GetRestApis": lambda apis, c: apis.list(),
    "GetRestApi": lambda apis, c: apis.get(c.api),
    "PutRestApi": lambda apis, c: apis.put_definition(c.api, c.raw, c.query.get("mode", "merge"), c.query,
                                                      c.flag("failonwarnings")),
    "UpdateRestApi": lambda apis, c: apis.update(c.api, c.body.get("patchOperations") or []),
    "DeleteRestApi": lambda apis, c: apis.delete(c.api),
    "GetResources": lambda apis, c: apis.resources.resources(c.api, c.embeds("methods")),
    "GetResource": lambda apis, c: apis.resources.resource(*c.resource, c.embeds("methods")),
    "CreateResource": lambda apis, c: apis.resources.create_resource(c.api, c.path["parent_id"], c.body),
    "DeleteResource": lambda apis, c: apis.resources.delete_resource(*c.resource),
    "PutMethod": lambda apis, c: apis.resources.put_method(*c.method, c.body),
    "GetMethod": lambda apis, c: apis.resources.method(*c.method),
    "DeleteMethod": lambda apis, c: apis.resources.delete_method(*c.method),
    "PutIntegration": lambda apis, c: apis.resources.put_integration(*c.method, c.body),
    "GetIntegration": lambda apis, c: apis.resources.integration(*c.method),
    "DeleteIntegration": lambda apis, c: apis.resources.delete_integration(*c.method),
    "PutMethodResponse": lambda apis, c: apis.responses.put_method_response(*c.response, c.body),
    "GetMethodResponse": lambda apis, c: apis.responses.method_response(*c.response),
    "DeleteMethodResponse": lambda apis, c: apis.responses.delete_method_response(*c.response),
    "PutIntegrationResponse": lambda apis, c: apis.responses.put_integration_response(*c.response, c.body),
    "GetIntegrationResponse": lambda apis, c: apis.responses.integration_response(*c.response),
    "DeleteIntegrationResponse": lambda apis, c: apis.responses.delete_integration_response(*c.response),
    "CreateDeployment": lambda apis, c: apis.stages.create_deployment(c.api, c.body),
    "GetDeployments": lambda apis, c: apis.stages.deployments(c.api),
    "GetDeployment": lambda apis, c: apis.stages.deployment(c.api, c.path["deployment_id"]),
    "DeleteDeployment": lambda apis, c: apis.stages.delete_deployment(c.api, c.path["deployment_id"]),
    "CreateStage": lambda apis, c: apis.stages.create_stage(c.api, c.body),
    "GetStages": lambda apis, c: {"item": apis.stages.stages(c.api, c.query.get("deploymentId"))},
    "GetStage": lambda apis, c: apis.stages.stage(c.api, c.path["stage_name"]),
    "UpdateStage": lambda apis, c: apis.stages.update_stage(c.api, c.path["stage_name"],
                                                            c.body.get("patchOperations") or []),
    "DeleteStage": lambda apis, c: apis.stages.delete_stage(c.api, c.path["stage_name"]),
    "TagResource": lambda apis, c: apis.tag(c.path["resource_arn"], c.body["tags"]),
    "UntagResource": lambda apis, c: apis.tag(c.path["resource_arn"], {}, c.query.getlist("tagKeys")),
    "GetTags": lambda apis, c: {"tags": apis.tags(c.path["resource_arn"])},
}
PAGED = ("GetRestApis", "GetResources", "GetDeployments")  # lists of records paged by their `id`


class RestApiGatewayApi:
    def __init__(self, apis: RestApis, authorizer: Authorizer, region: str) -> None:
        self.apis = apis
        self.authorizer = authorizer
        self.region = region

    def routes(self) -> list[Route]:
        """One route per path and method (`/restapis/{restapi_id}/resources/{resource_id}`); CreateRestApi and
        ImportRestApi share `POST /restapis`, told apart by `?mode=import`."""
        endpoints: dict[tuple[str, str], dict[str, Endpoint]] = {}
        for name in OPERATIONS:
            http = operation(name, V1).http
            path, _, query = http["requestUri"].partition("?")
            path = path.replace("{resource_arn}", "{resource_arn:path}")  # an ARN has slashes
            endpoints.setdefault((path, http["method"]), {})[query] = self._endpoint(name)
        routes = []
        for (path, method), by_query in endpoints.items():
            endpoint = by_query[""] if len(by_query) == 1 else _by_mode(by_query)
            routes.append(Route(path, guarded(self.authorizer, f"apigateway:{method}", endpoint, self._resource),
                                methods=[method]))
        return routes

    def _endpoint(self, name: str) -> Endpoint:
        model = operation(name, V1)
        status = int(model.http.get("responseCode", 200))
        raw_payload = model.input_shape is not None and model.input_shape.serialization.get("payload") == "body"
        has_body = model.http["method"] in ("POST", "PUT", "PATCH") and not raw_payload

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            call = Call(dict(request.path_params), request.query_params,
                        read_body(name, raw, V1) if has_body else {}, raw)
            result = OPERATIONS[name](self.apis, call)
            request_id = request_id_of(request)
            if model.output_shape is None:
                return Response(status_code=status, headers={"x-amzn-RequestId": request_id})
            warnings = result.pop("warnings", None) if isinstance(result, dict) else None
            if name in PAGED:
                result = page(result, request.query_params)
            headers = {WARNING_HEADER: _header(warnings)} if warnings else {}
            if warnings and name in ("ImportRestApi", "PutRestApi"):
                result["warnings"] = warnings
            return aws_json(write(model.output_shape, result), status, request_id, headers)

        endpoint.__name__ = name
        return endpoint

    async def _resource(self, request: Request) -> str:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        return f"arn:aws:apigateway:{self.region}::{raw_path.decode('latin-1')}"


def _by_mode(endpoints: dict[str, Endpoint]) -> Endpoint:
    async def chosen(request: Request) -> Response:
        mode = "mode=import" if request.query_params.get("mode") == "import" else ""
        return await endpoints[mode](request)

    return chosen


def page(items: list[dict[str, Any]], query: QueryParams) -> dict[str, Any]:
    """`items` after `position` (the last id of the page before), at most `limit` (25 by default) of them."""
    try:
        limit = int(query.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise BadRequestException("limit must be a number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequestException(f"limit must be between 1 and {MAX_LIMIT}")
    position = query.get("position")
    start = next((index + 1 for index, item in enumerate(items) if item["id"] == position), 0) if position else 0
    chosen = items[start:start + limit]
    more = start + limit < len(items)
    return {"items": chosen, **({"position": chosen[-1]["id"]} if more and chosen else {})}


def _header(warnings: list[str]) -> str:
    """One header line: warnings joined, anything not ASCII or a line break escaped."""
    return "; ".join(warnings).encode("ascii", "backslashreplace").decode().replace("\n", " ").replace("\r", " ")
