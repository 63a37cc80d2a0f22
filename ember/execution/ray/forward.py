"""Nested calls from a sandbox on another node: its 127.0.0.1:9000 forwarded, byte for byte, to the
front door's listener for nested calls, where the request's signature (the environment's own
session keys) is checked as on one machine. The agent understands nothing of what it forwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

CHUNK = 64 * 1024


class Forwarder:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    async def open(self, sock: socket.socket) -> asyncio.AbstractServer:
        """Forward every connection made to the listening `sock` until the returned server is closed."""
        return await asyncio.start_server(self._forward, sock=sock)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)
        writer.close()
        up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()
    else:
        with contextlib.suppress(ConnectionError, OSError):
            await writer.drain()
