"""CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services


class AliasesApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _name(self, request: Request) -> str:
        return function_ref(request, self.services.region).name

    async def create(self, request: Request) -> Response:
        config = self.services.aliases.create(self._name(request), await json_body(request, "CreateAlias"))
        return aws_json(config, 201, request_id_of(request))

    async def get(self, request: Request) -> Response:
        config = self.services.aliases.get(self._name(request), request.path_params["alias"])
        return aws_json(config, 200, request_id_of(request))

    async def update(self, request: Request) -> Response:
        config = self.services.aliases.update(self._name(request), request.path_params["alias"],
                                              await json_body(request, "UpdateAlias"))
        return aws_json(config, 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        self.services.aliases.delete(self._name(request), request.path_params["alias"])
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def list(self, request: Request) -> Response:
        page, next_marker = page_of(self.services.aliases.list(self._name(request)), request,
                                    key=lambda alias: alias["Name"])
        body: dict[str, object] = {"Aliases": page}
        if next_marker:
            body["NextMarker"] = next_marker
        return aws_json(body, 200, request_id_of(request))
