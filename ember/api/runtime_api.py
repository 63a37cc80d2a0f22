"""The Lambda Runtime API (reference §3), served to each environment on a loopback listener of its own.

One Starlette app serves every listener; the listener's port says which environment is calling,
so a runtime needs nothing but `AWS_LAMBDA_RUNTIME_API` — as with AWS, and as awslambdaric expects.
"""

from __future__ import annotations

import asyncio
import json
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.server import ServerState

from ember.errors import RuntimeApiError
from ember.execution.environment import Environment

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "lambda-runtime-function-error-type"
ACCEPTED = b'{"status":"OK"}'


class Listener:
    """A loopback listening socket bound to one environment."""

    def __init__(self, server: asyncio.AbstractServer, port: int, on_close: callable) -> None:
        self.server = server
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._on_close = on_close

    def close(self) -> None:
        self.server.close()
        self._on_close(self.port)


class RuntimeApiServer:
    def __init__(self) -> None:
        self._environments: dict[int, Environment] = {}
        self.app = Starlette(routes=[
            Route(f"{PREFIX}/invocation/next", self.next, methods=["GET"]),
            Route(f"{PREFIX}/invocation/{{request_id}}/response", self.response, methods=["POST"]),
            Route(f"{PREFIX}/invocation/{{request_id}}/error", self.error, methods=["POST"]),
            Route(f"{PREFIX}/init/error", self.init_error, methods=["POST"]),
        ], exception_handlers={RuntimeApiError: _render_error})
        self._config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                      timeout_keep_alive=3600)
        self._config.load()
        self._state = ServerState()

    async def open(self, env: Environment) -> Listener:
        """Start a listener for `env` on a free loopback port."""
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
        # without it the body of a `next` response waits ~40 ms behind the headers (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        protocol = self._config.http_protocol_class
        server = await asyncio.get_running_loop().create_server(
            lambda: protocol(config=self._config, server_state=self._state, app_state={}), sock=sock)
        self._environments[port] = env
        return Listener(server, port, self._forget)

    def _forget(self, port: int) -> None:
        self._environments.pop(port, None)

    def _environment(self, request: Request) -> Environment:
        env = self._environments.get(request.scope["server"][1])
        if env is None:
            raise RuntimeApiError(403, "InvalidStateTransition", "No environment owns this listener")
        return env

    async def next(self, request: Request) -> Response:
        invocation = await self._environment(request).runtime_next()
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.cognito_identity:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        return Response(invocation.payload, media_type="application/json", headers=headers)

    async def response(self, request: Request) -> Response:
        env = self._environment(request)
        env.runtime_response(request.path_params["request_id"], await request.body())
        return _accepted()

    async def error(self, request: Request) -> Response:
        env = self._environment(request)
        env.runtime_error(request.path_params["request_id"], await request.body(),
                          request.headers.get(ERROR_TYPE_HEADER))
        return _accepted()

    async def init_error(self, request: Request) -> Response:
        env = self._environment(request)
        env.runtime_init_error(await request.body(), request.headers.get(ERROR_TYPE_HEADER))
        return _accepted()


def _accepted() -> Response:
    return Response(ACCEPTED, status_code=202, media_type="application/json")


async def _render_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuntimeApiError)
    body = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
    return Response(body, status_code=exc.status_code, media_type="application/json")
