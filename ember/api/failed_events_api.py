"""Ember's own routes for the failed-events store (`ember events NAME [--redrive]`); AWS has no such API.

    GET  /ember/functions/{name}/failed-events          → {"FailedEvents": [{RequestId, FailedAt, Condition,
                                                           ApproximateInvokeCount, Error, Targets, Qualifier}]}
    POST /ember/functions/{name}/failed-events/redrive  → {"Redriven": [{"RequestId", "NewRequestId"}]}

Signed like the Lambda API (signing name `lambda`) and authorized as lambda:GetFunction (reading them)
and lambda:InvokeFunction (sending them again).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services

PATH = "/ember/functions/{name}/failed-events"


class FailedEventsApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _name(self, request: Request) -> str:
        name = function_ref(request, self.services.region).name
        self.services.registry.get(name)  # 404 for a function that does not exist
        return name

    async def list(self, request: Request) -> Response:
        events = self.services.events.failed.of(self._name(request))
        return aws_json({"FailedEvents": [event.describe() for event in events]}, 200, request_id_of(request))

    async def redrive(self, request: Request) -> Response:
        moved = self.services.events.redrive(self._name(request))
        body = {"Redriven": [{"RequestId": old, "NewRequestId": new} for old, new in moved]}
        return aws_json(body, 200, request_id_of(request))
