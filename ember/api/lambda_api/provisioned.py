"""Put/Get/Delete/ListProvisionedConcurrencyConfigs (one path; `?List=ALL` makes a GET the list)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.core.validation import constraint_error


class ProvisionedApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def put(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        body = await json_body(request, "PutProvisionedConcurrencyConfig")
        requested = body.get("ProvisionedConcurrentExecutions")
        if requested is None:
            raise constraint_error(None, "provisionedConcurrentExecutions", "Member must not be null")
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            raise constraint_error(requested, "provisionedConcurrentExecutions",
                                   "Member must have value greater than or equal to 1")
        body = self.services.provisioned.put(ref.name, ref.qualifier, requested)
        return aws_json(body, 202, request_id_of(request))

    async def get(self, request: Request) -> Response:
        if request.query_params.get("List") == "ALL":
            return await self.list(request)
        ref = function_ref(request, self.services.region)
        return aws_json(self.services.provisioned.get(ref.name, ref.qualifier), 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        self.services.provisioned.delete(ref.name, ref.qualifier)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def list(self, request: Request) -> Response:
        name = function_ref(request, self.services.region).name
        page, next_marker = page_of(self.services.provisioned.list(name), request,
                                    key=lambda item: item["FunctionArn"])
        body: dict[str, object] = {"ProvisionedConcurrencyConfigs": page}
        if next_marker:
            body["NextMarker"] = next_marker
        return aws_json(body, 200, request_id_of(request))
