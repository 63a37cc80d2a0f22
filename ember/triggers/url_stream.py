"""A RESPONSE_STREAM function URL's answer, sent as the function produces it.

A function that streams through `awslambda.HttpResponseStream.from(stream, {statusCode, headers,
cookies})` sends a JSON prelude and 8 NUL bytes before its body: the prelude becomes the status
and headers. A stream without one is a 200 `application/octet-stream` body. Nothing goes out until
the first chunk, so an error before it (a throttle, a function error) is still a whole response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import Send

from ember.triggers.http_call import Headers, HttpResponse

DELIMITER = b"\0" * 8
MAX_PRELUDE_BYTES = 64 * 1024


async def chunks_of(first: bytes, queue: asyncio.Queue[bytes], call: asyncio.Future[Any]) -> AsyncIterator[bytes]:
    """The first chunk, the ones after it as they arrive, and whatever is left once the call is done."""
    yield first
    while True:
        getter = asyncio.ensure_future(queue.get())
        either: set[asyncio.Future[Any]] = {getter, call}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            break
        yield getter.result()
    while not queue.empty():
        yield queue.get_nowait()


async def split_prelude(chunks: AsyncIterator[bytes]) -> tuple[HttpResponse, bytes]:
    """(status and headers, the body's first bytes): from a prelude when the stream opens with one."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if not head.startswith(b"{") or DELIMITER in head or len(head) > MAX_PRELUDE_BYTES:
            break
    prelude, found, rest = head.partition(DELIMITER)
    if found and head.startswith(b"{"):
        try:
            return _response_of(json.loads(prelude)), rest
        except (ValueError, TypeError):
            pass
    return HttpResponse(200, [("content-type", "application/octet-stream")], b""), head


def _response_of(prelude: Any) -> HttpResponse:
    if not isinstance(prelude, dict):
        raise TypeError("prelude is not an object")
    headers: Headers = [(str(k), str(v)) for k, v in (prelude.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in prelude.get("cookies") or []]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/octet-stream"))
    return HttpResponse(int(prelude.get("statusCode") or 200), headers, b"")


async def send_stream(send: Send, head: HttpResponse, first: bytes, rest: AsyncIterator[bytes]) -> None:
    """Status and headers, then the body chunk by chunk (chunked transfer: no Content-Length)."""
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1", "replace")) for name, value in head.headers]
    await send({"type": "http.response.start", "status": head.status, "headers": headers})
    if first:
        await send({"type": "http.response.body", "body": first, "more_body": True})
    async for chunk in rest:
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
