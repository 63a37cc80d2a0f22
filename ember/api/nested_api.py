"""Ember's public API served inside each sandbox's network, for nested calls from functions.

The spare that becomes an environment opens 127.0.0.1:9000 in its own network namespace and hands
the listening socket over; the server serves its one public app on it, so a function's SDK reaches
Ember (AWS_ENDPOINT_URL_LAMBDA and the other service-specific endpoints point there) while nothing
else of the host is reachable, with egress or `--network none` alike. Requests are signed and
authorised like any other: with the environment's own credentials.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp
from uvicorn.server import ServerState

from ember.api.guarded_protocol import GuardedHttpToolsProtocol


class NestedApi:
    def __init__(self, app: ASGIApp, protocol: type[GuardedHttpToolsProtocol]) -> None:
        self._config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", proxy_headers=False,
                                      http=protocol)
        self._config.load()
        self._state = ServerState()

    async def open(self, sock: socket.socket) -> asyncio.AbstractServer:
        """Serve the public app on one sandbox's listening socket until the returned server is closed."""
        protocol = self._config.http_protocol_class
        return await asyncio.get_running_loop().create_server(
            # uvicorn types the class as a bare asyncio.Protocol (its own server.py ignores this too)
            lambda: protocol(config=self._config, server_state=self._state,  # type: ignore[call-arg]
                             app_state={}), sock=sock)
