"""The Lambda Runtime API (reference §3), served to each environment on a loopback listener of its own.

One ASGI app serves every listener; the listener's port says which environment is calling, so a
runtime needs nothing but `AWS_LAMBDA_RUNTIME_API` — as with AWS, and as awslambdaric expects.
The app is plain ASGI rather than Starlette because two of an invocation's three HTTP exchanges
go through it: a router and middleware stack here cost a measurable share of throughput.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
from collections.abc import Callable

import uvicorn
from uvicorn.server import ServerState

from ember.errors import RuntimeApiError
from ember.execution.backend import RuntimeEndpoint
from ember.execution.model import Invocation
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
    """A loopback listening socket bound to one environment."""

    def __init__(self, server: asyncio.AbstractServer, port: int, on_close: Callable[[int], None]) -> None:
        self.server = server
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._on_close = on_close

    def close(self) -> None:
        self.server.close()
        self._on_close(self.port)


class RuntimeApiServer:
    def __init__(self) -> None:
        self._environments: dict[int, RuntimeEndpoint] = {}
        self._config = uvicorn.Config(self.app, interface="asgi3", log_config=None, access_log=False,
                                      lifespan="off", proxy_headers=False, timeout_keep_alive=3600)
        self._config.load()
        self._state = ServerState()

    async def open(self, env: RuntimeEndpoint) -> Listener:
        """Start a listener for `env` on a free loopback port."""
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
        # without it the body of a `next` response waits ~40 ms behind the headers (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        protocol = self._config.http_protocol_class
        server = await asyncio.get_running_loop().create_server(
            lambda: protocol(config=self._config, server_state=self._state, app_state={}), sock=sock)
        self._environments[port] = env
        return Listener(server, port, self._forget)

    def _forget(self, port: int) -> None:
        self._environments.pop(port, None)

    async def app(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Route by method and path; every Runtime API violation is answered as AWS's emulator does."""
        try:
            env = self._environments.get(scope["server"][1])
            if env is None:
                raise RuntimeApiError(403, "InvalidStateTransition", "No environment owns this listener")
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

    async def _dispatch(self, env: RuntimeEndpoint, scope: dict,
                        receive: Callable) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
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
        body = await _read_body(receive)
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


def _error_trailers(scope: dict) -> tuple[str | None, bytes]:
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


async def _stream_body(receive: Callable, on_chunk: Callable[[bytes], None]) -> None:
    """Hand each piece of a chunked body on as it arrives (a streamed response)."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise RuntimeApiError(400, "ClientDisconnected", "the runtime went away mid-stream")
        if message.get("body"):
            on_chunk(message["body"])
        if not message.get("more_body"):
            return


async def _read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise RuntimeApiError(400, "ClientDisconnected", "the runtime went away mid-request")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
