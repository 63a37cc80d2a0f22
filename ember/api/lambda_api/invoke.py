"""Invoke (§1): RequestResponse 200, Event 202 (durable before the answer), DryRun 204."""

from __future__ import annotations

import base64
import binascii
import json

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref
from ember.api.middleware import request_id_of
from ember.api.services import Services
from ember.core.invoker import InvokeRequest, InvokeResult
from ember.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestEntityTooLargeException,
)
from ember.execution.model import MAX_PAYLOAD_BYTES

MAX_EVENT_BYTES = 1024 * 1024
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


CLIENT_SOURCES = ("invoke", "tune")


class InvokeApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def invoke(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in INVOCATION_TYPES:
            raise InvalidParameterValueException(f"Unsupported invocation type: {kind}")
        payload = await request_payload(request, kind)
        request_id = request_id_of(request)
        if kind != "RequestResponse":  # a sync call is resolved (404 included) by the invoker itself
            self.services.invoker.resolve(ref.name, ref.qualifier)
        if kind == "DryRun":
            return Response(status_code=204, headers={"x-amzn-RequestId": request_id})
        if kind == "Event":
            self.services.events.enqueue(request_id, ref.name, ref.qualifier, payload)
            return Response(status_code=202, headers={"x-amzn-RequestId": request_id})
        result = await self.services.invoker.invoke(InvokeRequest(
            ref.name, payload, ref.qualifier, source=invocation_source(request),
            tail=request.headers.get("x-amz-log-type") == "Tail",
            client_context=_client_context(request), request_id=request_id))
        return _sync_response(result)


async def request_payload(request: Request, kind: str) -> bytes:
    """The body, checked as Lambda checks it: size for the invocation type, then that it is JSON."""
    body = await request.body()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation")
    if kind == "Event" and len(body) > MAX_EVENT_BYTES:
        raise RequestEntityTooLargeException(
            f"{len(body)} byte payload is too large for the Event invocation type (limit {MAX_EVENT_BYTES} bytes)")
    if body.strip():
        try:
            json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python parses
            detail = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
            raise InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: {detail}") from None
    return body or b"{}"


def invocation_source(request: Request) -> str:
    """What made the call, for metering: `ember tune` says so with `X-Ember-Source: tune`."""
    source = request.headers.get("x-ember-source", "invoke")
    if source not in CLIENT_SOURCES:
        raise InvalidParameterValueException(f"X-Ember-Source must be one of {', '.join(CLIENT_SOURCES)}")
    return source


def _client_context(request: Request) -> str | None:
    raw = request.headers.get("x-amz-client-context")
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequestContentException("Client context must be a valid Base64-encoded JSON object.") from exc


NODE_HEADER = "X-Ember-Node-Id"  # which cluster node ran the call (Ember's own; absent on one machine)


def _sync_response(result: InvokeResult) -> Response:
    headers = {"X-Amz-Executed-Version": result.executed_version, "x-amzn-RequestId": result.request_id,
               "Server-Timing": result.server_timing}
    if result.function_error:
        headers["X-Amz-Function-Error"] = result.function_error
    if result.log_tail is not None:
        headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode()
    if result.node_id:
        headers[NODE_HEADER] = result.node_id
    return Response(result.payload, status_code=200, media_type="application/json", headers=headers)
