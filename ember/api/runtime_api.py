"""The Lambda Runtime API (reference §3), served to each environment on a listener of its own.

A listener is either a socket the environment's sandbox opened inside its own network namespace
(127.0.0.1:9001 there, reachable from nowhere else) or, without one, a loopback port of the host.
One ASGI app serves them all; each listener's connections carry their environment in the scope's
`state`, so a runtime needs nothing but `AWS_LAMBDA_RUNTIME_API` — as with AWS, and as awslambdaric
expects. The app is plain ASGI rather than Starlette because two of an invocation's three HTTP
exchanges go through it: a router and middleware stack here cost a measurable share of throughput.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
from collections.abc import Callable

import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from ember.errors import RuntimeApiError
from ember.execution.backend import RuntimeEndpoint
from ember.execution.model import MAX_RESPONSE_BYTES, Invocation
from ember.execution.violations import (
    EnvironmentDestroyed,
    InvalidRequestID,
    InvalidStateTransition,
    PayloadTooLarge,
    RuntimeApiViolation,
)

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = b"lambda-runtime-function-error-type"
RESPONSE_MODE_HEADER = b"lambda-runtime-function-response-mode"
ERROR_BODY_HEADER = b"lambda-runtime-function-error-body"
ACCEPTED = b'{"status":"OK"}'
JSON_HEADERS = [(b"content-type", b"application/json")]
# The execution layer's words for a broken rule, and the status AWS's emulator answers each with.
VIOLATION_STATUS: dict[type[RuntimeApiViolation], int] = {
    InvalidStateTransition: 403, InvalidRequestID: 400, PayloadTooLarge: 413, EnvironmentDestroyed: 500,
}


class Listener:
    """A listening socket bound to one environment."""

    def __init__(self, server: asyncio.AbstractServer, address: str) -> None:
        self.server = server
        self.address = address

    def close(self) -> None:
        self.server.close()


class RuntimeApiServer:
    def __init__(self) -> None:
        self._config = uvicorn.Config(self.app, interface="asgi3", log_config=None, access_log=False,
                                      lifespan="off", proxy_headers=False, timeout_keep_alive=3600)
        self._config.load()
        self._state = ServerState()

    async def open(self, env: RuntimeEndpoint, sock: socket.socket | None = None) -> Listener:
        """Serve `env`'s Runtime API on `sock` (opened inside its sandbox), else on a free loopback port."""
        sock = sock or _loopback_socket()
        host, port = sock.getsockname()[:2]
        protocol = self._config.http_protocol_class
        app_state = {"environment": env}
        server = await asyncio.get_running_loop().create_server(
            # uvicorn types the class as a bare asyncio.Protocol (its own server.py ignores this too)
            lambda: protocol(config=self._config, server_state=self._state,  # type: ignore[call-arg]
                             app_state=app_state), sock=sock)
        return Listener(server, f"{host}:{port}")

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route by method and path; every Runtime API violation is answered as AWS's emulator does."""
        try:
            env = scope["state"]["environment"]
            try:
                status, headers, body = await self._dispatch(env, scope, receive)
            except RuntimeApiViolation as exc:
                raise RuntimeApiError(VIOLATION_STATUS.get(type(exc), 500), exc.error_type, str(exc)) from exc
        except RuntimeApiError as exc:
            status, headers = exc.status_code, JSON_HEADERS
            body = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _dispatch(self, env: RuntimeEndpoint, scope: Scope,
                        receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        method, path = scope["method"], scope["path"]
        if not path.startswith(PREFIX):
            raise RuntimeApiError(404, "NotFound", f"No Runtime API endpoint at {path}")
        route = path[len(PREFIX):]
        if method == "GET" and route == "/invocation/next":
            invocation = await env.runtime_next()
            return 200, _next_headers(invocation), invocation.payload
        if method != "POST":
            raise RuntimeApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        if route.endswith("/response") and _header(scope, RESPONSE_MODE_HEADER) == "streaming":
            request_id = route[len("/invocation/"):-len("/response")]
            await _stream_body(receive, lambda chunk: env.runtime_stream_chunk(request_id, chunk))
            env.runtime_stream_end(request_id, *_error_trailers(scope))
            return 202, JSON_HEADERS, ACCEPTED
        body = await _read_body(scope, receive, MAX_RESPONSE_BYTES)
        error_type = _header(scope, ERROR_TYPE_HEADER)
        if route == "/init/error":
            env.runtime_init_error(body, error_type)
            return 202, JSON_HEADERS, ACCEPTED
        parts = route.split("/")  # "", "invocation", request id, "response" | "error"
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
            raise RuntimeApiError(404, "NotFound", f"No Runtime API endpoint at {path}")
        if parts[3] == "response":
            env.runtime_response(parts[2], body)
        else:
            env.runtime_error(parts[2], body, error_type)
        return 202, JSON_HEADERS, ACCEPTED


def _loopback_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it the body of a `next` response waits ~40 ms behind the headers (Nagle + delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _next_headers(invocation: Invocation) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", b"application/json"),
        (b"lambda-runtime-aws-request-id", invocation.request_id.encode()),
        (b"lambda-runtime-deadline-ms", str(invocation.deadline_ms).encode()),
        (b"lambda-runtime-invoked-function-arn", invocation.invoked_arn.encode()),
        (b"lambda-runtime-trace-id", invocation.trace_id.encode()),
    ]
    if invocation.client_context:
        headers.append((b"lambda-runtime-client-context", invocation.client_context.encode()))
    if invocation.cognito_identity:
        headers.append((b"lambda-runtime-cognito-identity", invocation.cognito_identity.encode()))
    return headers


def _error_trailers(scope: Scope) -> tuple[str | None, bytes]:
    """A stream that failed says so in trailers after its last chunk: the error type, and the error
    body base64-encoded. uvicorn's httptools protocol appends trailers to the request's header list,
    which is where they are read from once the body is done (tests/integration/test_streaming.py)."""
    error_type = _header(scope, ERROR_TYPE_HEADER)
    encoded = _header(scope, ERROR_BODY_HEADER)
    try:
        body = base64.b64decode(encoded) if encoded else b""
    except (binascii.Error, ValueError):
        body = encoded.encode() if encoded else b""
    return error_type, body


async def _stream_body(receive: Receive, on_chunk: Callable[[bytes], None]) -> None:
    """Hand each piece of a chunked body on as it arrives (a streamed response)."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise RuntimeApiError(400, "ClientDisconnected", "the runtime went away mid-stream")
        if message.get("body"):
            on_chunk(message["body"])
        if not message.get("more_body"):
            return


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, or its first `limit + 1` bytes once it is longer: enough for the environment to refuse
    it (413, and Function.ResponseSizeTooLarge for the caller) without the server holding the rest."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return b"\0" * (limit + 1)
    chunks, size = [], 0
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            raise RuntimeApiError(400, "ClientDisconnected", "the runtime went away mid-request")
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body"):
            break
    return b"".join(chunks)[:limit + 1]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None
