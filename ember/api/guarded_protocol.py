"""Ember's HTTP protocol (AWS's error shapes, ember.api.http_protocol) with the read timeouts uvicorn lacks.

uvicorn times out only an idle keep-alive connection after a response. A connection that never
sends a complete request head, or a body that stops arriving (a `Content-Length` larger than what
is sent), would hold a descriptor forever: an audit held 1,100 such sockets against a 1,024
limit and the server stopped answering. Here a request head must arrive within `head_timeout_s` of
the connection (or of the previous response), and a body may pause at most `body_idle_s`
(`ember serve --header-timeout/--body-timeout`); the deadlines are swept (ember.api.deadlines), not
a timer per step of every request.

A response's head and body also leave in one send: uvicorn writes each ASGI message as it comes,
so every answer was two segments (and two wake-ups of its client).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ember.api.deadlines import Deadlines
from ember.api.http_protocol import AwsHttpProtocol
from ember.config import ReadTimeouts

HEAD_TIMEOUT_S = ReadTimeouts.head_s
BODY_IDLE_S = ReadTimeouts.body_idle_s
_deadlines: dict[int, Deadlines] = {}  # one sweep per uvicorn server (its ServerState)


class GuardedHttpToolsProtocol(AwsHttpProtocol):
    deadline: float | None = None
    head_timeout_s = HEAD_TIMEOUT_S
    body_idle_s = BODY_IDLE_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._writes = CoalescedWrites(transport)
        self._deadlines = _deadlines.setdefault(id(self.server_state), Deadlines())
        self._deadlines.add(self)
        self.deadline = time.monotonic() + self.head_timeout_s

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = None
        self._deadlines.discard(self)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.deadline = time.monotonic() + self.head_timeout_s

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = self._writes  # type: ignore[assignment]
        self.deadline = time.monotonic() + self.body_idle_s

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self.deadline = time.monotonic() + self.body_idle_s

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.deadline = None

    def expire(self) -> None:
        """Too slow: the connection goes (a request being answered is not cut: its head and body are in)."""
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(timeouts: ReadTimeouts) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates, holding this server's read deadlines."""
    attrs = {"head_timeout_s": timeouts.head_s, "body_idle_s": timeouts.body_idle_s}
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), attrs)


class CoalescedWrites:
    """A transport for one connection's responses whose writes in one turn of the loop go out together."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending = []
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
