"""apigatewayv2's operations on HTTP APIs, routed from botocore's model: each one's method, path and status.

A session's call is authorized as API Gateway authorizes it: the action is `apigateway:<METHOD>` and
the resource the path, `arn:aws:apigateway:<region>::/apis/<id>/…`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ember.api.apigateway.wire import operation, read_body, write
from ember.api.authorization import Authorizer, Endpoint, guarded
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.errors import BadRequestException
from ember.triggers.http_apis import HttpApis

Handler = Callable[[HttpApis, dict[str, str], dict[str, Any]], Any]
OPERATIONS: dict[str, Handler] = {
    "CreateApi": lambda apis, path, body: apis.create(body),
    "GetApis": lambda apis, path, body: apis.list(),
    "GetApi": lambda apis, path, body: apis.get(path["apiId"]),
    "UpdateApi": lambda apis, path, body: apis.update(path["apiId"], body),
    "DeleteApi": lambda apis, path, body: apis.delete(path["apiId"]),
    "CreateRoute": lambda apis, path, body: apis.parts.create_route(path["apiId"], body),
    "GetRoutes": lambda apis, path, body: apis.parts.routes(path["apiId"]),
    "GetRoute": lambda apis, path, body: apis.parts.route(path["apiId"], path["routeId"]),
    "UpdateRoute": lambda apis, path, body: apis.parts.update_route(path["apiId"], path["routeId"], body),
    "DeleteRoute": lambda apis, path, body: apis.parts.delete_route(path["apiId"], path["routeId"]),
    "CreateIntegration": lambda apis, path, body: apis.parts.create_integration(path["apiId"], body),
    "GetIntegrations": lambda apis, path, body: apis.parts.integrations(path["apiId"]),
    "GetIntegration": lambda apis, path, body: apis.parts.integration(path["apiId"], path["integrationId"]),
    "UpdateIntegration": lambda apis, path, body: apis.parts.update_integration(
        path["apiId"], path["integrationId"], body),
    "DeleteIntegration": lambda apis, path, body: apis.parts.delete_integration(path["apiId"], path["integrationId"]),
    "CreateStage": lambda apis, path, body: apis.stages.create_stage(path["apiId"], body),
    "GetStages": lambda apis, path, body: apis.stages.stages(path["apiId"]),
    "GetStage": lambda apis, path, body: apis.stages.stage(path["apiId"], path["stageName"]),
    "UpdateStage": lambda apis, path, body: apis.stages.update_stage(path["apiId"], path["stageName"], body),
    "DeleteStage": lambda apis, path, body: apis.stages.delete_stage(path["apiId"], path["stageName"]),
    "CreateDeployment": lambda apis, path, body: apis.stages.create_deployment(path["apiId"], body),
    "GetDeployments": lambda apis, path, body: apis.stages.deployments(path["apiId"]),
    "GetDeployment": lambda apis, path, body: apis.stages.deployment(path["apiId"], path["deploymentId"]),
    "DeleteDeployment": lambda apis, path, body: apis.stages.delete_deployment(path["apiId"], path["deploymentId"]),
}
# The list operations, paged by their items' identifiers.
LIST_KEYS = {"GetApis": "ApiId", "GetRoutes": "RouteId", "GetIntegrations": "IntegrationId",
             "GetStages": "StageName", "GetDeployments": "DeploymentId"}


class ApiGatewayApi:
    def __init__(self, apis: HttpApis, authorizer: Authorizer, region: str) -> None:
        self.apis = apis
        self.authorizer = authorizer
        self.region = region

    def routes(self) -> list[Route]:
        """One route per operation, at the model's method and path (`/v2/apis/{apiId}/routes/{routeId}`)."""
        routes = []
        for name in OPERATIONS:
            http = operation(name).http
            endpoint = guarded(self.authorizer, f"apigateway:{http['method']}", self._endpoint(name), self._resource)
            routes.append(Route(http["requestUri"], endpoint, methods=[http["method"]]))
        return routes

    def _endpoint(self, name: str) -> Endpoint:
        model = operation(name)
        status = int(model.http["responseCode"])

        async def endpoint(request: Request) -> Response:
            body = read_body(name, await request.body()) if model.http["method"] in ("POST", "PATCH") else {}
            result = OPERATIONS[name](self.apis, request.path_params, body)
            if model.output_shape is None:
                return Response(status_code=status, headers={"x-amzn-RequestId": request_id_of(request)})
            if name in LIST_KEYS:
                result = page(result, LIST_KEYS[name], request)
            return aws_json(write(model.output_shape, result), status, request_id_of(request))

        endpoint.__name__ = name
        return endpoint

    async def _resource(self, request: Request) -> str:
        return f"arn:aws:apigateway:{self.region}::{request.url.path.removeprefix('/v2')}"


def page(items: list[dict[str, Any]], key: str, request: Request) -> dict[str, Any]:
    """`Items` after the `NextToken` (the last identifier of the page before), at most `MaxResults` of them."""
    token = request.query_params.get("nextToken")
    try:
        limit = max(1, int(request.query_params.get("maxResults") or 500))
    except ValueError:
        raise BadRequestException("maxResults must be a number") from None
    start = next((index + 1 for index, item in enumerate(items) if item[key] == token), 0) if token else 0
    chosen = items[start:start + limit]
    more = start + limit < len(items)
    return {"Items": chosen, **({"NextToken": chosen[-1][key]} if more and chosen else {})}
