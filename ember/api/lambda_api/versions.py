"""PublishVersion and ListVersionsByFunction."""

from __future__ import annotations

import bisect

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services

PAGE_SIZE = 50


class VersionsApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def publish(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        record = self.services.versions.publish(ref.name, await json_body(request))
        return aws_json(record.config, 201, request_id_of(request))

    async def list(self, request: Request) -> Response:
        """`$LATEST` then versions in order; the marker is the last version of the previous page."""
        ref = function_ref(request, self.services.region)
        records = self.services.versions.list(ref.name)
        order = [-1] + [int(r.version) for r in records[1:]]
        marker = request.query_params.get("Marker")
        start = bisect.bisect_right(order, -1 if marker == "$LATEST" else int(marker)) if marker else 0
        limit = min(PAGE_SIZE, max(1, int(request.query_params.get("MaxItems") or PAGE_SIZE)))
        page = records[start:start + limit]
        body: dict[str, object] = {"Versions": [record.config for record in page]}
        if start + limit < len(records):
            body["NextMarker"] = page[-1].version
        return aws_json(body, 200, request_id_of(request))
