"""Ember's HTTP protocol (AWS's error shapes, ember.api.http_protocol) with the read timeouts uvicorn lacks.

uvicorn times out only an idle keep-alive connection after a response. A connection that never
sends a complete request head, or a body that stops arriving (a `Content-Length` larger than what
is sent), would hold a descriptor forever: an audit held 1,100 such sockets against a 1,024
limit and the server stopped answering. Here a request head must arrive within HEAD_TIMEOUT_S of
the connection (or of the previous response), and a body may pause at most BODY_IDLE_S.
"""

from __future__ import annotations

import asyncio

from ember.api.http_protocol import AwsHttpProtocol

HEAD_TIMEOUT_S = 20.0
BODY_IDLE_S = 30.0


class GuardedHttpToolsProtocol(AwsHttpProtocol):
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(HEAD_TIMEOUT_S)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(HEAD_TIMEOUT_S)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(BODY_IDLE_S)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(BODY_IDLE_S)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        """Too slow: the connection goes (a request being answered is not cut: its head and body are in)."""
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
