"""The front door's `execute-api` kind: an API id is an HTTP API's or a REST API's, each with its gateway."""

from __future__ import annotations

from starlette.types import Send

from ember.triggers.front_door import send_response
from ember.triggers.http_api_gateway import HttpApiGateway
from ember.triggers.http_call import HttpCall
from ember.triggers.rest_api_gateway import RestApiGateway


class ExecuteApi:
    def __init__(self, http: HttpApiGateway, rest: RestApiGateway) -> None:
        self.http = http
        self.rest = rest

    async def handle(self, call: HttpCall, api_id: str, send: Send) -> None:
        """Registered with the front door: `door.register("execute-api", execute_api.handle)`."""
        rest_api = self.rest.apis.find(api_id)
        response = await (self.rest.answer(call, rest_api) if rest_api else self.http.answer(call, api_id))
        await send_response(send, response)
