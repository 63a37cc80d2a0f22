"""The two nets every API request passes through, and SigV4 in front of them.

Outermost: anything unexpected becomes AWS's ServiceException 500 with the request id, and is
logged. Innermost: known AwsErrors become their own status and shape (IAM's XML for IAM requests).
A request id is made once here and shared by the response, the error and the invocation.

SigV4: the operator's keys, or an environment's session key with its X-Amz-Security-Token (the
caller's `Session` is then left in `scope["state"]["session"]` for ember.api.authorization). The
scope must name the API's signing name and, but for IAM, the server's region.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ember.api import sigv4
from ember.api.body_limit import limited
from ember.api.code_links import CodeLinks
from ember.api.query_protocol import error_response
from ember.api.responses import aws_error
from ember.api.signing import api_of, expected_region
from ember.core.credentials import Session, SessionCredentials
from ember.errors import AwsError, ServiceException, UnknownOperation, UnrecognizedClientException

log = logging.getLogger("ember.api")
# GetFunction's Code.Location: presigned like an S3 URL (ember.api.code_links), or SigV4-signed.
PUBLIC_PREFIX = "/ember/code/"
# Prometheus scrapes unsigned, as it would any exporter, on loopback binds (or when configured).
METRICS_PATH = "/metrics"
INFO_PATH = "/ember/info"  # the price model and what the server enforces: nothing secret
BAD_TOKEN = "The security token included in the request is invalid."


class KeyRing:
    """The secrets SigV4 accepts: the operator's keys, then live sessions' keys."""

    def __init__(self, credentials: dict[str, str], sessions: SessionCredentials | None) -> None:
        self.credentials = credentials
        self.sessions = sessions

    def get(self, key: str) -> str | None:
        if key in self.credentials:
            return self.credentials[key]
        session = self.sessions.find(key) if self.sessions else None
        return session.secret if session else None

    def session(self, key: str, token: str | None) -> Session | None:
        """The session of a verified key (None for an operator key); its token must be the one issued."""
        if key in self.credentials:
            return None
        session = self.sessions.find(key) if self.sessions else None
        if session is None or token is None or not hmac.compare_digest(token.encode(), session.token.encode()):
            raise UnrecognizedClientException(BAD_TOKEN)
        return session


class AwsApiMiddleware:
    def __init__(self, app: ASGIApp, credentials: dict[str, str] | None, sessions: SessionCredentials | None = None,
                 code_links: CodeLinks | None = None, region: str | None = None, open_paths: bool = True) -> None:
        self.app = app
        self.credentials = credentials  # None: --auth none
        self.keys = KeyRing(credentials or {}, sessions)
        self.code_links = code_links
        self.region = region  # None: any region in a scope (unit tests)
        self.unsigned = (METRICS_PATH, INFO_PATH) if open_paths else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            receive = limited(scope, receive)  # before any byte of the body is read
            receive = await self._authenticate(scope, receive)
            await self.app(scope, receive, send_tracking)
        except AwsError as error:
            if started:
                raise
            await _error_response(scope, error, request_id)(scope, receive, send)
        except ClientDisconnect:
            return  # the caller left before its body arrived: nobody is there to answer
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            internal = ServiceException("An internal error occurred.")
            await _error_response(scope, internal, request_id)(scope, receive, send)

    def _exempt(self, request: Request) -> bool:
        """No signature needed: --auth none, open metrics/info, or a download this server presigned."""
        path = request.scope["path"]
        if self.credentials is None or path in self.unsigned:
            return True
        if path.startswith(PUBLIC_PREFIX) and self.code_links is not None:
            digest = path[len(PUBLIC_PREFIX):].removesuffix(".zip")
            return self.code_links.valid(digest, request.query_params)
        return False

    async def _authenticate(self, scope: Scope, receive: Receive) -> Receive:
        """Check the signature over the whole body, then replay the body to the app."""
        request = Request(scope, receive)
        if self._exempt(request):
            return receive
        headers = HeaderDict(scope)
        _, service = api_of(scope["method"], scope["path"], headers)
        region = expected_region(service, self.region) if self.region else None
        prechecked = sigv4.precheck(headers, self.keys, service, region)  # an unsigned body is never read
        body = await request.body()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        host = headers.get("host", "localhost")
        url = f"http://{host}{raw_path.decode('latin-1')}" + (f"?{query.decode('latin-1')}" if query else "")
        key = sigv4.verify_prechecked(scope["method"], url, headers, body, prechecked)
        session = self.keys.session(key, headers.get("x-amz-security-token"))
        if session is not None:
            scope["state"]["session"] = session
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


class HeaderDict(dict[str, str]):
    """A request's headers looked up as Starlette's are (any case; the first of a repeated name wins),
    but hashed once: SigV4 reads a dozen of them, and each Starlette lookup scans the whole list."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        for name, value in scope["headers"]:
            self.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def _error_response(scope: Scope, error: AwsError, request_id: str) -> Response:
    """IAM's callers get IAM's XML errors; everyone else AWS's JSON."""
    headers = Request(scope).headers
    api, _ = api_of(scope["method"], scope["path"], headers)
    return error_response(error, request_id) if api == "iam" else aws_error(error, request_id)


def request_id_of(request: Request) -> str:
    request_id: str = request.scope.get("state", {}).get("request_id", "")
    return request_id


class NotFound:
    """The catch-all route: as an ASGI app, not a function, Starlette lets it match every method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise UnknownOperation(f"No Lambda operation at {scope['method']} {scope['path']}")
