"""The front door's end of the data channel to one node agent: requests answered by id, and what
the agent pushes on its own (log lines, deaths).

One TCP connection per agent carries every call of that node, multiplexed: a frame is
`[kind, id, ...]` out and `["reply", id, ...]`, `["fail", id, message]` or `["chunk", id, bytes]`
back. Ray places agents and watches nodes; payloads never go through it (BENCHMARKS.md, cluster).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import Callable
from typing import Any

from ember.execution.ray.wire import ChannelClosed, Frame, encode, read_frame

log = logging.getLogger("ember.cluster")
CONNECT_TIMEOUT_S = 10.0
PushHandler = Callable[[Frame], None]


class AgentError(Exception):
    """The agent refused a request (its message says why): the node is fine, the request was not."""


class AgentLink:
    def __init__(self, node_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_push: PushHandler, on_closed: Callable[[str], None]) -> None:
        self.node_id = node_id
        self.closed: str | None = None  # why, once it is
        self._reader = reader
        self._writer = writer
        self._on_push = on_push
        self._on_closed = on_closed
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Frame]] = {}
        self._chunks: dict[int, Callable[[bytes], None]] = {}
        self._task = asyncio.get_running_loop().create_task(self._read_loop(), name=f"agent {node_id[:8]}")

    @classmethod
    async def connect(cls, node_id: str, host: str, port: int, token: str, on_push: PushHandler,
                      on_closed: Callable[[str], None]) -> AgentLink:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(encode(["hello", token]))
        return cls(node_id, reader, writer, on_push, on_closed)

    async def request(self, kind: str, *fields: Any, chunks: Callable[[bytes], None] | None = None) -> Frame:
        """Send one request and wait for its reply's fields; ChannelClosed if the agent is gone first."""
        if self.closed is not None:
            raise ChannelClosed(self.closed)
        request_id = next(self._ids)
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if chunks is not None:
            self._chunks[request_id] = chunks
        try:
            self._writer.write(encode([kind, request_id, *fields]))
            return await future
        finally:
            self._waiting.pop(request_id, None)
            self._chunks.pop(request_id, None)

    def send(self, kind: str, *fields: Any) -> None:
        """A message that needs no answer; dropped if the agent is gone (it took its environments along)."""
        if self.closed is None:
            self._writer.write(encode([kind, *fields]))

    def close(self, reason: str = "closed") -> None:
        self._task.cancel()
        self._lost(reason)

    async def _read_loop(self) -> None:
        try:
            while True:
                self._dispatch(await read_frame(self._reader))
        except ChannelClosed as exc:
            self._lost(f"the node agent is gone ({exc})")

    def _dispatch(self, frame: Frame) -> None:
        kind = frame[0]
        if kind == "chunk":
            on_chunk = self._chunks.get(frame[1])
            if on_chunk is not None:
                on_chunk(frame[2])
        elif kind in ("reply", "fail"):
            future = self._waiting.get(frame[1])
            if future is not None and not future.done():
                if kind == "reply":
                    future.set_result(frame[2:])
                else:
                    future.set_exception(AgentError(frame[2]))
        else:
            self._on_push(frame)

    def _lost(self, reason: str) -> None:
        if self.closed is not None:
            return
        self.closed = reason
        self._writer.close()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ChannelClosed(reason))
        self._waiting.clear()
        self._on_closed(reason)
