"""InvokeWithResponseStream: the function's response as it is produced, in AWS's event-stream framing.

A runtime that streams (`Lambda-Runtime-Function-Response-Mode: streaming`) has each chunk sent on
as a `PayloadChunk` event when it arrives; any other response is one `PayloadChunk`. An
`InvokeComplete` event ends the stream, carrying a function error (ErrorCode, ErrorDetails) and the
log tail. Errors before the function runs (unknown function, throttling) are ordinary API errors.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ember.api.event_stream import event_message
from ember.api.lambda_api.body import function_ref
from ember.api.lambda_api.invoke import invocation_source, request_payload
from ember.api.middleware import request_id_of
from ember.api.services import Services
from ember.core.invoker import InvokeRequest, InvokeResult
from ember.errors import InvalidParameterValueException

EVENT_STREAM = "application/vnd.amazon.eventstream"


class StreamInvokeApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def invoke(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in ("RequestResponse", "DryRun"):
            raise InvalidParameterValueException(f"Unsupported invocation type: {kind}")
        payload = await request_payload(request, kind)
        # A weighted alias picks its version here: the header naming it goes out before the call ends.
        record = self.services.invoker.resolve(ref.name, ref.qualifier, route=True)
        request_id = request_id_of(request)
        if kind == "DryRun":
            return Response(status_code=204, headers={"x-amzn-RequestId": request_id})
        chunks: asyncio.Queue[bytes] = asyncio.Queue()
        call = asyncio.ensure_future(self.services.invoker.invoke(InvokeRequest(
            ref.name, payload, record.version, source=invocation_source(request), request_id=request_id,
            tail=request.headers.get("x-amz-log-type") == "Tail", stream=chunks)))
        first = asyncio.ensure_future(chunks.get())
        either: set[asyncio.Future[Any]] = {call, first}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if call.done() and call.exception() is not None:  # refused before running: an API error
            first.cancel()
            raise call.exception()  # type: ignore[misc]
        headers = {"X-Amz-Executed-Version": record.version, "x-amzn-RequestId": request_id}
        return StreamingResponse(_events(first, chunks, call), media_type=EVENT_STREAM, headers=headers)


async def _events(first: asyncio.Future[bytes], chunks: asyncio.Queue[bytes],
                  call: asyncio.Future[InvokeResult]) -> AsyncIterator[bytes]:
    """PayloadChunk events while the call runs, then InvokeComplete."""
    getter = first
    while True:
        either: set[asyncio.Future[Any]] = {getter, call}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            break
        yield event_message("PayloadChunk", getter.result(), "application/octet-stream")
        getter = asyncio.ensure_future(chunks.get())
    while not chunks.empty():
        yield event_message("PayloadChunk", chunks.get_nowait(), "application/octet-stream")
    result = call.result()
    if not result.streamed and not result.function_error and result.payload:
        yield event_message("PayloadChunk", result.payload, "application/octet-stream")
    yield event_message("InvokeComplete", json.dumps(_completion(result)).encode(), "application/json")


def _completion(result: InvokeResult) -> dict[str, str]:
    complete: dict[str, str] = {}
    if result.function_error:
        try:
            error = json.loads(result.payload)
        except ValueError:
            error = {}
        complete["ErrorCode"] = str(error.get("errorType", result.function_error)) if isinstance(error, dict) \
            else result.function_error
        complete["ErrorDetails"] = result.payload.decode("utf-8", errors="replace")
    if result.log_tail is not None:
        complete["LogResult"] = base64.b64encode(result.log_tail.encode()).decode()
    return complete
