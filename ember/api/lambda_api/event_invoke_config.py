"""Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s): async retries and destinations per qualifier."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.events.invoke_configs import EventInvokeConfigs


class EventInvokeConfigApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def configs(self) -> EventInvokeConfigs:
        return self.services.events.configs

    async def put(self, request: Request) -> Response:
        body = await json_body(request, "PutFunctionEventInvokeConfig")
        ref = function_ref(request, self.services.region)
        return aws_json(self.configs.put(ref.name, ref.qualifier, body), 200, request_id_of(request))

    async def update(self, request: Request) -> Response:
        body = await json_body(request, "UpdateFunctionEventInvokeConfig")
        ref = function_ref(request, self.services.region)
        return aws_json(self.configs.update(ref.name, ref.qualifier, body), 200, request_id_of(request))

    async def get(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        return aws_json(self.configs.get(ref.name, ref.qualifier), 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        self.configs.delete(ref.name, ref.qualifier)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def list(self, request: Request) -> Response:
        name = function_ref(request, self.services.region).name
        page, next_marker = page_of(self.configs.list(name), request, key=lambda item: item["FunctionArn"])
        body: dict[str, object] = {"FunctionEventInvokeConfigs": page}
        if next_marker:
            body["NextMarker"] = next_marker
        return aws_json(body, 200, request_id_of(request))
