"""Create/Get/Update/Delete/ListFunctionUrlConfigs: a function's (or an alias's) HTTP endpoint.

The URL each answer names is `http://<url-id>.lambda-url.<region>.localhost:<port>/` (curl and
browsers resolve `*.localhost` to loopback); the same function is reached at
`http://127.0.0.1:<port>/_aws/lambda-url/<url-id>/` (ember.triggers.front_door).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.arns import FunctionRef
from ember.core.function_urls import FunctionUrl
from ember.core.validation import constraint_error
from ember.errors import InvalidParameterValueException

QUALIFIER_RE = re.compile(r"^(?!\d+$)[0-9a-zA-Z-_]{1,128}$")
METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"})


def function_url(url_id: str, region: str, port: int) -> str:
    return f"http://{url_id}.lambda-url.{region}.localhost:{port}/"


def path_url(url_id: str, port: int) -> str:
    """The same URL for clients that can't resolve *.localhost."""
    return f"http://127.0.0.1:{port}/_aws/lambda-url/{url_id}/"


class FunctionUrlsApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _target(self, request: Request) -> FunctionRef:
        """The function, or one alias of it: a URL's qualifier is never a version (nor $LATEST)."""
        ref = function_ref(request, self.services.region)
        if ref.qualifier is not None and not QUALIFIER_RE.match(ref.qualifier):
            raise constraint_error(ref.qualifier, "qualifier",
                                   "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
        return ref

    def _shape(self, url: FunctionUrl, created: bool = False) -> dict[str, Any]:
        body = {"FunctionUrl": function_url(url.url_id, self.services.region, self.services.port), **url.config}
        if created:
            body.pop("LastModifiedTime")  # CreateFunctionUrlConfig's output has none
        return body

    async def create(self, request: Request) -> Response:
        ref = self._target(request)
        settings = await json_body(request, "CreateFunctionUrlConfig")
        _check_cors(settings.get("Cors"))
        url = self.services.urls.create(ref.name, ref.qualifier, settings)
        return aws_json(self._shape(url, created=True), 201, request_id_of(request))

    async def get(self, request: Request) -> Response:
        ref = self._target(request)
        return aws_json(self._shape(self.services.urls.get(ref.name, ref.qualifier)), 200, request_id_of(request))

    async def update(self, request: Request) -> Response:
        ref = self._target(request)
        settings = await json_body(request, "UpdateFunctionUrlConfig")
        _check_cors(settings.get("Cors"))
        url = self.services.urls.update(ref.name, ref.qualifier, settings)
        return aws_json(self._shape(url), 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        ref = self._target(request)
        self.services.urls.delete(ref.name, ref.qualifier)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def list(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        urls, marker = page_of(self.services.urls.list(ref.name), request, key=lambda url: url.qualifier or "")
        body: dict[str, Any] = {"FunctionUrlConfigs": [self._shape(url) for url in urls]}
        if marker:
            body["NextMarker"] = marker
        return aws_json(body, 200, request_id_of(request))


def _check_cors(cors: dict[str, Any] | None) -> None:
    """What the model's shapes can't say: AllowMethods are HTTP methods or `*`."""
    for method in (cors or {}).get("AllowMethods") or []:
        if method.upper() not in METHODS:
            raise InvalidParameterValueException(f"Invalid Cors AllowMethods value: {method}")
