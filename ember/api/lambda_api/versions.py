"""PublishVersion and ListVersionsByFunction."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.core.functions import FunctionRecord


class VersionsApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def publish(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        record = self.services.versions.publish(ref.name, await json_body(request, "PublishVersion"))
        return aws_json(record.config, 201, request_id_of(request))

    async def list(self, request: Request) -> Response:
        """`$LATEST` first, then versions in order."""
        ref = function_ref(request, self.services.region)
        page, next_marker = page_of(self.services.versions.list(ref.name), request, key=_version_order,
                                    parse_marker=lambda marker: -1 if marker == "$LATEST" else int(marker))
        body: dict[str, object] = {"Versions": [record.config for record in page]}
        if next_marker:
            body["NextMarker"] = "$LATEST" if next_marker == "-1" else next_marker
        return aws_json(body, 200, request_id_of(request))


def _version_order(record: FunctionRecord) -> int:
    return -1 if record.version == "$LATEST" else int(record.version)
