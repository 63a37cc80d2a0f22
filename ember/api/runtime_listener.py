"""Where each environment's runtime connects to the Runtime API: one listener per environment, its
connections served by ember.api.runtime_server."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from ember.api.deadlines import Deadlines
from ember.api.runtime_server import RuntimeConnection
from ember.execution.backend import RuntimeEndpoint

log = logging.getLogger("ember.runtime_api")
BACKLOG = 100


class Listener:
    """A listening socket bound to one environment, accepting by itself rather than through asyncio's
    Server: in Python 3.11 a connection accepted just before Server.close() trips an assertion while
    its transport is half built, and that transport leaks its socket (seen when a runtime connects
    as its environment is destroyed)."""

    def __init__(self, sock: socket.socket, connect: Callable[[], RuntimeConnection]) -> None:
        host, port = sock.getsockname()[:2]
        self.address = f"{host}:{port}"
        self._sock = sock
        self._connect = connect
        self._accepting: set[asyncio.Task[object]] = set()
        self._loop = asyncio.get_running_loop()
        sock.setblocking(False)
        sock.listen(BACKLOG)
        self._loop.add_reader(sock.fileno(), self._accept)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def _accept(self) -> None:
        for _ in range(BACKLOG):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError:
                log.exception("Runtime API listener %s could not accept", self.address)
                return
            task = self._loop.create_task(self._loop.connect_accepted_socket(self._connect, conn))
            self._accepting.add(task)
            task.add_done_callback(self._accepted)

    def _accepted(self, task: asyncio.Task[object]) -> None:
        self._accepting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Runtime API connection on %s failed: %s", self.address, task.exception())


class RuntimeApiServer:
    """Opens each environment's listener; all their connections share one deadline sweep."""

    def __init__(self) -> None:
        self.connections = Deadlines()

    async def open(self, env: RuntimeEndpoint, sock: socket.socket | None = None) -> Listener:
        """Serve `env`'s Runtime API on `sock` (opened inside its sandbox), else on a free loopback port."""
        connections = self.connections
        return Listener(sock or _loopback_socket(), lambda: RuntimeConnection(env, connections))


def _loopback_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it the body of a `next` response waits ~40 ms behind the headers (Nagle + delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock

