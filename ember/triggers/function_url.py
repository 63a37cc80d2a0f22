"""A function URL's data plane: the front door's "lambda-url" handler.

url-id → its config → CORS preflight (answered here) → auth → format 2.0 event → the Invoker
(source "url": same environments, limits, REPORT and metrics as any call) → the response mapped as
format 2.0 (BUFFERED) or streamed (RESPONSE_STREAM), the URL's CORS headers added.

Auth, as AWS enforces it since October 2025:
- NONE: the resource policy must let `*` do both `lambda:InvokeFunctionUrl` (with
  `lambda:FunctionUrlAuthType` NONE) and `lambda:InvokeFunction` (with `lambda:InvokedViaFunctionUrl`).
- AWS_IAM: a SigV4 signature for service `lambda` by a caller allowed both actions; the check is
  the API layer's (`SignedCaller`, ember.api.url_auth), handed in at assembly.
Otherwise 403 `{"Message":"Forbidden"}`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from dataclasses import replace
from typing import Any, Protocol

from starlette.types import Send

from ember.config import ACCOUNT_ID
from ember.core.function_urls import FunctionUrl, FunctionUrls
from ember.core.invoker import Invoker, InvokeRequest, InvokeResult
from ember.core.resource_policy import ResourcePolicies
from ember.errors import AwsError, TooManyRequestsException
from ember.execution.model import MAX_PAYLOAD_BYTES
from ember.triggers import cors
from ember.triggers.front_door import send_response
from ember.triggers.http_call import HttpCall, HttpResponse, RouteContext
from ember.triggers.http_events import event_v2
from ember.triggers.http_responses import json_message, response_v2, url_error
from ember.triggers.url_stream import chunks_of, send_stream, split_prelude

FORBIDDEN = ("Message", "Forbidden")
NONE_CONTEXT = {"lambda:functionurlauthtype": "NONE"}
VIA_URL = {"lambda:invokedviafunctionurl": "true"}


class SignedCaller(Protocol):
    """AWS_IAM's check: the caller's IAM identity (requestContext.authorizer.iam) when the request is
    signed by a caller allowed to invoke this URL's function, else None."""

    def __call__(self, call: HttpCall, url: FunctionUrl) -> dict[str, Any] | None: ...


class FunctionUrlHandler:
    def __init__(self, urls: FunctionUrls, policies: ResourcePolicies, invoker: Invoker, region: str,
                 signed_caller: SignedCaller) -> None:
        self.urls = urls
        self.policies = policies
        self.invoker = invoker
        self.region = region
        self.signed_caller = signed_caller

    async def __call__(self, call: HttpCall, url_id: str, send: Send) -> None:
        url = self.urls.find(url_id)
        if url is None:
            await send_response(send, json_message(403, FORBIDDEN[1], FORBIDDEN[0]))
            return
        settings = url.config.get("Cors")
        if settings is not None and cors.is_preflight(call, settings):
            await send_response(send, cors.preflight(call, settings))
            return
        route = self._authorized(call, url)
        if route is None:
            await send_response(send, json_message(403, FORBIDDEN[1], FORBIDDEN[0]))
            return
        payload = json.dumps(event_v2(forwarded(call), route)).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            await send_response(send, json_message(413, "Request must be smaller than 6291456 bytes for the "
                                                        "InvokeFunction operation", "Message"))
            return
        request = InvokeRequest(url.function, payload, url.qualifier, source="url", request_id=route.request_id)
        if url.streaming:
            await self._stream(call, url, request, send)
        else:
            await self._buffered(call, url, request, send)

    def _authorized(self, call: HttpCall, url: FunctionUrl) -> RouteContext | None:
        """Where the call goes, with who made it; None when it may not."""
        if url.auth_type == "AWS_IAM":
            identity = self.signed_caller(call, url)
            if identity is None:
                return None
            return self._route(call, url, ACCOUNT_ID, {"iam": identity})
        public = (self.policies.allows(url.function, url.qualifier, "*", "lambda:InvokeFunctionUrl", NONE_CONTEXT)
                  and self.policies.allows(url.function, url.qualifier, "*", "lambda:InvokeFunction", VIA_URL))
        return self._route(call, url, "anonymous", None) if public else None

    def _route(self, call: HttpCall, url: FunctionUrl, account: str, authorizer: dict[str, Any] | None) -> RouteContext:
        host = (call.header("host") or "").split(":", 1)[0]
        domain = host if not call.prefix and host else f"{url.url_id}.lambda-url.{self.region}.localhost"
        return RouteContext(api_id=url.url_id, domain_name=domain, request_id=str(uuid.uuid4()),
                            account_id=account, authorizer=authorizer)

    async def _buffered(self, call: HttpCall, url: FunctionUrl, request: InvokeRequest, send: Send) -> None:
        try:
            result = await self.invoker.invoke(request)
        except AwsError as error:
            await send_response(send, refused(error))
            return
        response = url_error() if result.function_error else response_v2(result.payload)
        await send_response(send, self._finish(response, call, url, result.request_id))

    async def _stream(self, call: HttpCall, url: FunctionUrl, request: InvokeRequest, send: Send) -> None:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        request.stream = queue
        running = asyncio.ensure_future(self.invoker.invoke(request))
        first = asyncio.ensure_future(queue.get())
        either: set[asyncio.Future[Any]] = {running, first}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if first.done():
            opening = first.result()
        else:
            first.cancel()  # a chunk already queued stays there
            if queue.empty():  # ended before streaming a byte: a whole response, as if buffered
                await send_response(send, self._finish(self._whole(running), call, url, request.request_id))
                return
            opening = queue.get_nowait()
        chunks = chunks_of(opening, queue, running)
        head, start = await split_prelude(chunks)
        head = self._finish(head, call, url, request.request_id)
        await send_stream(send, head, start, chunks)
        await asyncio.gather(running, return_exceptions=True)

    @staticmethod
    def _whole(running: asyncio.Future[InvokeResult]) -> HttpResponse:
        error = running.exception()
        if isinstance(error, AwsError):
            return refused(error)
        if error is not None:
            raise error
        result = running.result()
        if result.function_error:
            return url_error()
        return response_v2(result.payload) if result.payload else HttpResponse(200, [], b"")

    @staticmethod
    def _finish(response: HttpResponse, call: HttpCall, url: FunctionUrl, request_id: str) -> HttpResponse:
        response.headers = cors.with_cors(response.headers, call, url.config.get("Cors"))
        response.headers.append(("x-amzn-requestid", request_id))
        return response


def forwarded(call: HttpCall) -> HttpCall:
    """The headers AWS's front end adds before the function sees a request (over plain HTTP here)."""
    host = call.header("host") or ""
    port = host.rsplit(":", 1)[1] if ":" in host else "80"
    trace = f"Root=1-{int(call.time):08x}-{secrets.token_hex(12)}"
    added = [("x-amzn-trace-id", trace), ("x-forwarded-for", call.source_ip), ("x-forwarded-port", port),
             ("x-forwarded-proto", "http")]
    return replace(call, headers=call.headers + [pair for pair in added if call.header(pair[0]) is None])


def refused(error: AwsError) -> HttpResponse:
    """An invoke Lambda refused, in the URL's words: a throttle is 429 "Rate Exceeded."."""
    if isinstance(error, TooManyRequestsException):
        return json_message(429, "Rate Exceeded.", "Message")
    return json_message(error.status_code, error.message, "Message")
