"""The Lambda Runtime API (reference §3), served to each environment on a listener of its own.

A listener is either a socket the environment's sandbox opened inside its own network namespace
(127.0.0.1:9001 there, reachable from nowhere else) or, without one, a loopback port of the host.
Each listener's connections carry their environment, so a runtime needs nothing but
`AWS_LAMBDA_RUNTIME_API` — as with AWS, and as awslambdaric expects. Two of an invocation's three
HTTP exchanges come through here, so there is no ASGI app: ember.api.runtime_server parses each
request, and this module says what it does to the environment and what is answered.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import unquote

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
BODY_LIMIT = MAX_RESPONSE_BYTES  # a longer body is refused by the environment; more is never kept
# The execution layer's words for a broken rule, and the status AWS's emulator answers each with.
VIOLATION_STATUS: dict[type[RuntimeApiViolation], int] = {
    InvalidStateTransition: 403, InvalidRequestID: 400, PayloadTooLarge: 413, EnvironmentDestroyed: 500,
}
Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]


@dataclass(slots=True)
class RuntimeRequest:
    """One request of a runtime as parsed: what it asks for (`operation`) is known once its head is in."""

    method: str = ""
    path: str = ""
    headers: Headers = field(default_factory=list)  # trailers are appended once the body is done
    operation: str = ""  # next | response | stream | error | init_error
    request_id: str = ""
    refusal: RuntimeApiError | None = None  # no such operation: answered once the body is done

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None

    def route(self, method: str, raw_path: bytes) -> None:
        """Name the operation from the request line; a path or method the API lacks is kept as a refusal."""
        self.method = method
        path = raw_path.decode("latin-1")
        self.path = unquote(path) if "%" in path else path
        try:
            self.operation, self.request_id = _operation(method, self.path, self.header(RESPONSE_MODE_HEADER))
        except RuntimeApiError as exc:
            self.refusal = exc


def _operation(method: str, path: str, response_mode: str | None) -> tuple[str, str]:
    if not path.startswith(PREFIX):
        raise RuntimeApiError(404, "NotFound", f"No Runtime API endpoint at {path}")
    route = path[len(PREFIX):]
    if method == "GET" and route == "/invocation/next":
        return "next", ""
    if method != "POST":
        raise RuntimeApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
    if route == "/init/error":
        return "init_error", ""
    parts = route.split("/")  # "", "invocation", request id, "response" | "error"
    if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
        raise RuntimeApiError(404, "NotFound", f"No Runtime API endpoint at {path}")
    if parts[3] == "response" and response_mode == "streaming":
        return "stream", parts[2]
    return parts[3], parts[2]


async def deliver_next(env: RuntimeEndpoint) -> Answer:
    """`next`: the event, once there is one (the runtime's connection waits until then)."""
    try:
        invocation = await env.runtime_next()
    except RuntimeApiViolation as exc:
        return refused(_api_error(exc))
    return 200, _next_headers(invocation), invocation.payload


def perform(env: RuntimeEndpoint, request: RuntimeRequest, body: bytes) -> Answer:
    """Every operation but `next` and a streamed body's chunks: done at once, 202 or AWS's refusal."""
    try:
        if request.refusal is not None:
            raise request.refusal
        error_type = request.header(ERROR_TYPE_HEADER)
        if request.operation == "response":
            env.runtime_response(request.request_id, body)
        elif request.operation == "error":
            env.runtime_error(request.request_id, body, error_type)
        elif request.operation == "init_error":
            env.runtime_init_error(body, error_type)
        else:  # a stream's whole body at once (it was pipelined behind another request)
            if body:
                env.runtime_stream_chunk(request.request_id, body)
            env.runtime_stream_end(request.request_id, *_error_trailers(request))
    except RuntimeApiViolation as exc:
        return refused(_api_error(exc))
    except RuntimeApiError as exc:
        return refused(exc)
    return 202, JSON_HEADERS, ACCEPTED


def stream_chunk(env: RuntimeEndpoint, request: RuntimeRequest, chunk: bytes) -> Answer | None:
    """A piece of a streamed response, handed on as it arrives; the refusal when it is not wanted."""
    try:
        env.runtime_stream_chunk(request.request_id, chunk)
    except RuntimeApiViolation as exc:
        return refused(_api_error(exc))
    return None


def stream_end(env: RuntimeEndpoint, request: RuntimeRequest) -> Answer:
    try:
        env.runtime_stream_end(request.request_id, *_error_trailers(request))
    except RuntimeApiViolation as exc:
        return refused(_api_error(exc))
    return 202, JSON_HEADERS, ACCEPTED


def refused(exc: RuntimeApiError) -> Answer:
    body = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
    return exc.status_code, JSON_HEADERS, body


def _api_error(exc: RuntimeApiViolation) -> RuntimeApiError:
    return RuntimeApiError(VIOLATION_STATUS.get(type(exc), 500), exc.error_type, str(exc))


def _next_headers(invocation: Invocation) -> Headers:
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


def _error_trailers(request: RuntimeRequest) -> tuple[str | None, bytes]:
    """A stream that failed says so in trailers after its last chunk: the error type, and the error
    body base64-encoded. The parser appends trailers to the request's headers, where they are read
    once the body is done (tests/integration/test_streaming.py)."""
    error_type = request.header(ERROR_TYPE_HEADER)
    encoded = request.header(ERROR_BODY_HEADER)
    try:
        body = base64.b64decode(encoded) if encoded else b""
    except (binascii.Error, ValueError):
        body = encoded.encode() if encoded else b""
    return error_type, body
