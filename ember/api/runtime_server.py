"""The Runtime API's HTTP/1.1 server: httptools parses, and each request goes straight to its environment.

uvicorn put an ASGI cycle (a scope, a task, receive and send messages) on both of the runtime's
exchanges of every invocation; here a request costs its parse, one call on the environment and one
write, and only a `next` that must wait for its event gets a task. A call's end (its response or error)
is accepted on the loop's next turn, after the task waiting for it has answered the caller. Kept from
uvicorn and from the public API's guarded protocol: keep-alive; pipelined requests answered in order
(reading pauses meanwhile); `Expect: 100-continue`; trailers; a body over the limit refused as soon as
its length says so, the rest read and dropped; read deadlines — a head within HEAD_TIMEOUT_S of its
first byte, a body pausing at most BODY_IDLE_S (a streamed one is bounded by its function's timeout),
an idle connection kept KEEP_ALIVE_S (checked by ember.api.deadlines' sweep: no request pays for a
timer). Where runtimes connect is ember.api.runtime_listener.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import cast

import httptools

from ember.api.deadlines import Deadlines
from ember.api.guarded_protocol import BODY_IDLE_S, HEAD_TIMEOUT_S
from ember.api.runtime_api import (
    BODY_LIMIT,
    Answer,
    RuntimeRequest,
    deliver_next,
    perform,
    stream_chunk,
    stream_end,
)
from ember.execution.backend import RuntimeEndpoint

log = logging.getLogger("ember.runtime_api")
KEEP_ALIVE_S = 3600.0  # between requests, as long as any call runs (900 s at most) and then some
REASONS = {100: b"Continue", 200: b"OK", 202: b"Accepted", 400: b"Bad Request", 403: b"Forbidden",
           404: b"Not Found", 405: b"Method Not Allowed", 413: b"Request Entity Too Large",
           500: b"Internal Server Error"}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
ENDS_A_CALL = frozenset({"response", "error", "stream"})
UNPARSEABLE = (400, [(b"content-type", b"application/json")],
               b'{"errorType":"BadRequest","errorMessage":"Could not parse the HTTP request"}')


@dataclass(slots=True)
class _Incoming:
    """A request while it is read and until it is answered."""

    request: RuntimeRequest = field(default_factory=RuntimeRequest)
    url: bytes = b""
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    live: bool = False  # a streamed body handed on chunk by chunk as it arrives
    dropping: bool = False  # the body is not wanted: read and dropped
    answered: bool = False  # answered before its body ended (refused)
    keep_alive: bool = True


class RuntimeConnection(asyncio.Protocol):
    """One connection of a runtime; `deadline` (monotonic) is when the sweep closes it, None: never."""

    def __init__(self, env: RuntimeEndpoint, connections: Deadlines) -> None:
        self.env = env
        self.connections = connections
        self.parser = httptools.HttpRequestParser(self)
        self.deadline: float | None = None
        self._transport: asyncio.Transport | None = None
        self._incoming: _Incoming | None = None
        self._queue: deque[_Incoming] = deque()  # pipelined behind the request being answered
        self._waiting: asyncio.Task[None] | None = None  # a `next` waiting for its event
        self._deferred = False  # a call's end is answered once its caller has been
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports (a Ray worker's loop, where uvloop is installed) are
        # asyncio transports in all but their class.
        self._transport = cast(asyncio.Transport, transport)
        self.deadline = time.monotonic() + KEEP_ALIVE_S
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """The runtime went away: a `next` still waiting is withdrawn, so its event waits for the next one."""
        self._transport = None
        self.connections.discard(self)
        self._queue.clear()
        if self._waiting is not None:
            self._waiting.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            log.exception("Runtime API request failed")
            self._close()
        except httptools.HttpParserError:
            self._write(UNPARSEABLE, close=True)
            self._close()

    def expire(self) -> None:
        self._close()

    # httptools' callbacks, in the order a request arrives

    def on_message_begin(self) -> None:
        self._incoming = _Incoming()
        self.deadline = time.monotonic() + HEAD_TIMEOUT_S

    def on_url(self, url: bytes) -> None:
        assert self._incoming is not None
        self._incoming.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._incoming is not None
        self._incoming.request.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        incoming = self._incoming
        assert incoming is not None
        request = incoming.request
        request.route(self.parser.get_method().decode("latin-1"), incoming.url.partition(b"?")[0])
        idle = self._idle()
        incoming.live = request.operation == "stream" and idle
        incoming.dropping = request.refusal is not None or request.operation == "next"
        self.deadline = None if incoming.live else time.monotonic() + BODY_IDLE_S
        declared = request.header(b"content-length")
        expects = request.header(b"expect") == "100-continue"
        if declared is not None and declared.isdigit() and int(declared) > BODY_LIMIT and not incoming.dropping \
                and not incoming.live:
            self._too_large(incoming, bytes(BODY_LIMIT + 1))
            if expects and incoming.answered:  # its client will not send the body now: nothing to wait for
                self._close()
        elif expects and idle:
            self._send(CONTINUE)

    def on_body(self, body: bytes) -> None:
        incoming = self._incoming
        assert incoming is not None
        if incoming.dropping:
            if not incoming.live:
                self.deadline = time.monotonic() + BODY_IDLE_S
        elif incoming.live:
            refusal = stream_chunk(self.env, incoming.request, body)
            if refusal is not None:
                incoming.dropping = incoming.answered = True
                self._write(refusal, close=False)
        else:
            self.deadline = time.monotonic() + BODY_IDLE_S
            incoming.chunks.append(body)
            incoming.size += len(body)
            if incoming.size > BODY_LIMIT:
                self._too_large(incoming, b"".join(incoming.chunks)[:BODY_LIMIT + 1])

    def on_message_complete(self) -> None:
        incoming, self._incoming = self._incoming, None
        assert incoming is not None
        if self._transport is None or self._transport.is_closing():
            return
        incoming.keep_alive = self.parser.should_keep_alive()
        self.deadline = None
        if incoming.answered:
            self._after(incoming)
        elif self._idle():
            self._serve(incoming)
        else:
            self._queue.append(incoming)
            self._pause()

    # answering

    def _idle(self) -> bool:
        """Nothing is being answered: a request may be answered (or sent 100 Continue) now."""
        return self._waiting is None and not self._deferred and not self._queue

    def _serve(self, incoming: _Incoming) -> None:
        """Answer `incoming`, then whatever was pipelined behind it, until one waits: a `next` for its event,
        a call's end for its caller."""
        while self._answer(incoming):
            if not incoming.keep_alive or not self._queue:
                self._after(incoming)
                return
            incoming = self._queue.popleft()
        if self._waiting is not None and not self._queue:
            self._resume()  # a runtime that goes away while its `next` waits is noticed

    def _answer(self, incoming: _Incoming) -> bool:
        """True once answered; False when it waits: a `next` for its event, a call's end for its caller."""
        request = incoming.request
        if request.operation == "next" and request.refusal is None:
            self._waiting = asyncio.get_running_loop().create_task(self._deliver(incoming))
            return False
        if incoming.live:
            answer = stream_end(self.env, request)
        else:
            answer = perform(self.env, request, b"".join(incoming.chunks)[:BODY_LIMIT + 1])
        if request.operation in ENDS_A_CALL:
            self._answer_soon(incoming, answer)
            return False
        self._write(answer, close=not incoming.keep_alive)
        return True

    def _answer_soon(self, incoming: _Incoming, answer: Answer) -> None:
        """Answer a call's end on the loop's next turn: the call's waiting task was woken first, so
        its caller's answer goes out before this 202 and the runtime's next `next` (off the latency path)."""
        self._deferred = True
        self._pause()

        def answer_now() -> None:
            self._deferred = False
            self._write(answer, close=not incoming.keep_alive)
            self._after(incoming)

        asyncio.get_running_loop().call_soon(answer_now)

    async def _deliver(self, incoming: _Incoming) -> None:
        try:
            answer = await deliver_next(self.env)
        except Exception:
            log.exception("Runtime API next failed")
            self._close()
            return
        finally:
            self._waiting = None
        self._write(answer, close=not incoming.keep_alive)
        self._after(incoming)

    def _after(self, incoming: _Incoming) -> None:
        """A request is answered: close, or go on with the next in line, or wait for one."""
        if not incoming.keep_alive:
            self._close()
        elif self._queue:
            self._serve(self._queue.popleft())
        else:
            self._resume()
            self.deadline = time.monotonic() + KEEP_ALIVE_S

    def _too_large(self, incoming: _Incoming, body: bytes) -> None:
        """Refused by its length: the environment is told now (its call fails), the rest is dropped."""
        incoming.dropping = True
        incoming.chunks, incoming.size = [body], len(body)
        if self._idle():
            incoming.answered = True
            self._write(perform(self.env, incoming.request, body), close=False)

    def _write(self, answer: Answer, close: bool) -> None:
        status, headers, body = answer
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"")), _DateLine.now()]
        head.extend(b"%s: %s\r\n" % header for header in headers)
        if close:
            head.append(b"connection: close\r\n")
        head.append(b"content-length: %d\r\n\r\n" % len(body))
        if len(body) < 65536:
            self._send(b"".join(head) + body)
        else:  # not copied into one buffer with its head
            self._send(b"".join(head))
            self._send(body)

    def _send(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _pause(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()


class _DateLine:
    """The Date header, rendered once a second."""

    second = 0
    line = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.second, cls.line = second, b"date: %s\r\n" % formatdate(second, usegmt=True).encode()
        return cls.line
