"""The data plane's front door: function URLs and APIs reached on Ember's one port, before SigV4.

Addressing (both forms reach the same target):
- by Host: `<id>.lambda-url.<region>.localhost[:port]` or `<id>.execute-api.<region>.localhost[:port]`
  (curl and browsers resolve `*.localhost` to loopback, RFC 6761); any suffix after the region is
  accepted, so a client sending AWS's own host name (`….on.aws`, `….amazonaws.com`) is routed too;
- by path, for clients that can't resolve `*.localhost` (Python's urllib): `/_aws/lambda-url/<id>/…`
  and `/_aws/execute-api/<id>/…`; the prefix is stripped, so the handler sees the path AWS would.
Anything else goes to the signed API unchanged.

The interface a trigger registers against (one handler per kind, at assembly in ember.api.app):

    door.register("execute-api", handler)
    async def handler(call: HttpCall, target_id: str, send: Send) -> None

`call` is the whole request, body read (up to MAX_BODY_BYTES; larger is 413 here), path without
the prefix (`call.prefix` keeps it, `call.sent_path` is what was signed); `target_id` the url-id or
api-id; `send` the ASGI send, on which the handler writes its response — `send_response` for a
buffered one, or `http.response.start` and body messages of its own to stream. An exception
before the response started becomes 500 `{"message":"Internal Server Error"}`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ember.triggers.http_call import HttpCall, HttpResponse
from ember.triggers.http_responses import json_message

log = logging.getLogger("ember.triggers")
Handler = Callable[[HttpCall, str, Send], Awaitable[None]]
KINDS = ("lambda-url", "execute-api")
PATH_PREFIX = "/_aws/"
# An HTTP API's payload limit (10 MB) is the largest of the front door's targets.
MAX_BODY_BYTES = 10 * 1024 * 1024
_HOST_RE = re.compile(r"^(?P<id>[a-z0-9]+)\.(?P<kind>lambda-url|execute-api)\.[a-z0-9-]+(?:\.[^:]*)?(?::\d+)?$")
# The scope key where the HTTP protocol keeps header names as the client spelled them (ember.api.http_protocol).
SPELLING = "ember.header_spelling"
_PATH_RE = re.compile(r"^/_aws/(?P<kind>lambda-url|execute-api)/(?P<id>[A-Za-z0-9]+)(?=/|$)")


class BodyTooLarge(Exception):
    pass


class FrontDoor:
    """An ASGI app: data-plane requests to their kind's handler, everything else to `app`."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self.handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """Serve every request for `kind` ("lambda-url" or "execute-api") with `handler`."""
        if kind not in KINDS:
            raise ValueError(f"unknown front door kind {kind!r}: one of {', '.join(KINDS)}")
        self.handlers[kind] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = target_of(scope) if scope["type"] == "http" else None
        if target is None:
            await self.app(scope, receive, send)  # the signed API: the hot path pays one lookup
            return
        kind, target_id, prefix = target
        handler = self.handlers.get(kind)
        if handler is None:
            await send_response(send, json_message(404, "Not Found"))
            return
        try:
            body = await read_body(scope, receive, self.max_body)
        except BodyTooLarge:
            await send_response(send, json_message(413, "Request Entity Too Large"))
            return
        await self._serve(handler, call_of(scope, body, prefix), target_id, send)

    async def _serve(self, handler: Handler, call: HttpCall, target_id: str, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await handler(call, target_id, tracking)
        except Exception:
            log.exception("front door handler failed on %s %s", call.method, call.sent_path)
            if started:
                raise
            await send_response(send, json_message(500, "Internal Server Error"))


def target_of(scope: Scope) -> tuple[str, str, str] | None:
    """(kind, id, path prefix) of a data-plane request; None for the signed API."""
    path: str = scope["path"]
    if path.startswith(PATH_PREFIX):
        match = _PATH_RE.match(path)
        if match:
            return match["kind"], match["id"].lower(), match.group(0)
    for name, value in scope["headers"]:
        if name == b"host":
            if b".lambda-url." not in value and b".execute-api." not in value:
                return None
            host = _HOST_RE.match(value.decode("latin-1").lower())
            return (host["kind"], host["id"], "") if host else None
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, refused past `limit` by Content-Length before reading, else as it arrives."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def call_of(scope: Scope, body: bytes, prefix: str) -> HttpCall:
    """The request as plain data, the prefix taken off its path."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    sent = raw_path.decode("latin-1")
    path = sent[len(prefix):] or "/"
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in spelled(scope)]
    client = scope.get("client") or ("127.0.0.1", 0)
    user_agent = next((value for name, value in headers if name == "user-agent"), "")
    version = scope.get("http_version", "1.1")
    return HttpCall(method=scope["method"], path=path, query=scope.get("query_string", b"").decode("latin-1"),
                    headers=headers, body=body, source_ip=client[0], user_agent=user_agent, time=time.time(),
                    protocol=f"HTTP/{version}", prefix=prefix, raw_path=sent)


def spelled(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers with their names as the client sent them, where the protocol kept them."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    spelling: list[bytes] | None = scope.get(SPELLING)
    if spelling is None or len(spelling) != len(headers):
        return headers
    return [(name, value) for name, (_, value) in zip(spelling, headers, strict=True)]


async def send_response(send: Send, response: HttpResponse) -> None:
    """A buffered response, Content-Length set here."""
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1", "replace")) for name, value in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
