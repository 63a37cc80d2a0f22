"""ember.api.body_limit through AwsApiMiddleware: 413 by Content-Length before the body is read, and by
count when there is none; AWS's message names the operation."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from ember.api.body_limit import CODE_UPLOAD_BYTES, limit_for
from ember.api.middleware import AwsApiMiddleware

MB = 1 << 20


async def echo_size(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


APP = AwsApiMiddleware(Router(routes=[
    Route("/2015-03-31/functions", echo_size, methods=["POST"]),
    Route("/2015-03-31/functions/{name}/code", echo_size, methods=["PUT"]),
]), credentials=None)


def exchange(method: str, path: str, chunks: list[bytes], content_length: int | None) -> tuple[int, dict, int]:
    """Status, JSON body (if any) and how many body messages the app pulled."""
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"content-length", str(content_length).encode())] if content_length is not None else []
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": headers, "root_path": "", "scheme": "http", "server": ("127.0.0.1", 9000)}
    asyncio.run(APP(scope, receive, send))
    status = next(m for m in sent if m["type"] == "http.response.start")["status"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, (json.loads(body) if body.startswith(b"{") else {}), pulled


def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read():
    status, body, pulled = exchange("POST", "/2015-03-31/functions", [b"{}"], CODE_UPLOAD_BYTES + 1)
    assert (status, pulled) == (413, 0)
    assert body["__type"] == "RequestEntityTooLargeException"
    assert body["message"] == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


def test_update_function_code_names_its_own_operation():
    status, body, _ = exchange("PUT", "/2015-03-31/functions/f/code", [b"{}"], CODE_UPLOAD_BYTES + 1)
    assert status == 413
    assert body["message"] == "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation"


def test_without_a_length_the_body_is_counted_and_reading_stops_past_the_limit():
    chunks = [bytes(8 * MB)] * 10  # 80 MB offered
    status, body, pulled = exchange("POST", "/2015-03-31/functions", chunks, None)
    assert status == 413 and "CreateFunction" in body["message"]
    assert pulled == 9  # 72 MB read: the first chunk past 69,905,067 bytes


def test_a_body_at_the_limit_is_read_whole():
    status, _, pulled = exchange("POST", "/2015-03-31/functions", [bytes(CODE_UPLOAD_BYTES)], CODE_UPLOAD_BYTES)
    assert (status, pulled) == (200, 1)


def test_every_other_request_is_held_to_the_largest_limit():
    assert limit_for("POST", "/2015-03-31/functions/f/versions") == (None, CODE_UPLOAD_BYTES)
    assert limit_for("POST", "/2015-03-31/functions/f/invocations") == ("InvokeFunction", 6 * MB)
