"""The two nets every API request passes through, and SigV4 in front of them.

Outermost: anything unexpected becomes AWS's ServiceException 500 with the request id, and is
logged. Innermost: known AwsErrors become their own status and shape. A request id is made
once here and shared by the response, the error and the invocation.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ember.api import sigv4
from ember.api.responses import aws_error
from ember.errors import AwsError, ServiceException, UnknownOperation

log = logging.getLogger("ember.api")
# GetFunction's Code.Location: like an S3 presigned URL, the digest in the path is the capability.
PUBLIC_PREFIX = "/ember/code/"
# Prometheus scrapes unsigned, as it would any exporter; the server binds loopback unless told.
METRICS_PATH = "/metrics"
INFO_PATH = "/ember/info"  # the price model and what the server enforces: nothing secret


class AwsApiMiddleware:
    def __init__(self, app: ASGIApp, credentials: dict[str, str] | None) -> None:
        self.app = app
        self.credentials = credentials  # None: --auth none

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_tracking(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            receive = await self._authenticate(scope, receive)
            await self.app(scope, receive, send_tracking)
        except AwsError as error:
            if started:
                raise
            await aws_error(error, request_id)(scope, receive, send)
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            await aws_error(ServiceException("An internal error occurred."), request_id)(scope, receive, send)

    async def _authenticate(self, scope: Scope, receive: Receive) -> Receive:
        """Check the signature over the whole body, then replay the body to the app."""
        path = scope["path"]
        if self.credentials is None or path.startswith(PUBLIC_PREFIX) or path in (METRICS_PATH, INFO_PATH):
            return receive
        request = Request(scope, receive)
        body = await request.body()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        host = request.headers.get("host", "localhost")
        url = f"http://{host}{raw_path.decode('latin-1')}" + (f"?{query.decode('latin-1')}" if query else "")
        sigv4.verify(scope["method"], url, request.headers, body, self.credentials)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


def request_id_of(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


async def not_found(request: Request) -> Response:
    raise UnknownOperation(f"No Lambda operation at {request.method} {request.url.path}")
