"""A RESPONSE_STREAM answer's prelude (`awslambda.HttpResponseStream.from`): status, headers and cookies ahead of
8 NUL bytes, however the chunks split it; a stream without one is a 200 octet-stream body."""

from __future__ import annotations

import asyncio
import json

import pytest

from ember.triggers.url_stream import split_prelude

PRELUDE = json.dumps({"statusCode": 201, "headers": {"x-a": "b"}, "cookies": ["c=1"]}).encode()


async def chunks(*parts: bytes):
    for part in parts:
        yield part


def split(*parts: bytes):
    async def both():
        stream = chunks(*parts)
        head, start = await split_prelude(stream)
        rest = b"".join([chunk async for chunk in stream])
        return head, start + rest
    return asyncio.run(both())


@pytest.mark.parametrize("parts", [
    (PRELUDE + b"\0" * 8 + b"body",),
    (PRELUDE[:5], PRELUDE[5:] + b"\0" * 3, b"\0" * 5 + b"bo", b"dy"),
    (PRELUDE, b"\0" * 8, b"body"),
])
def test_a_prelude_gives_status_headers_and_cookies_wherever_the_chunks_split(parts):
    head, body = split(*parts)
    assert head.status == 201 and body == b"body"
    assert head.headers == [("x-a", "b"), ("set-cookie", "c=1"), ("content-type", "application/octet-stream")]


@pytest.mark.parametrize("parts", [(b"plain text",), (b'{"not": "a prelude"}', b" more"), (b"{broken" + b"\0" * 8,)])
def test_without_a_prelude_the_stream_is_the_body(parts):
    head, body = split(*parts)
    assert head.status == 200 and head.headers == [("content-type", "application/octet-stream")]
    assert body == b"".join(parts)
