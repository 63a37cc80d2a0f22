"""Idle and slow clients cost the server a bounded while: the audit held 1,100 idle sockets (and a
body shorter than its Content-Length for 90 s) and the server stopped answering."""

from __future__ import annotations

import socket
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from conftest import ROLE, lambda_client, make_zip

HEAD_TIMEOUT_S = 3.0  # `--header-timeout` (20 s by default)
BODY_IDLE_S = 6.0  # `--body-timeout` (30 s)


def signed_head(url: str, path: str, body: bytes) -> bytes:
    """A correctly signed request head for `body`, so the server waits for that body after it."""
    request = AWSRequest(method="POST", url=url + path, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    host = url.removeprefix("http://")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in request.headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_idle_and_slow_connections_neither_stall_the_server_nor_stay(ember_with):
    server = ember_with("--header-timeout", str(HEAD_TIMEOUT_S), "--body-timeout", str(BODY_IDLE_S))
    host, port = server.url.removeprefix("http://").split(":")
    client = lambda_client(server.url)
    client.create_function(FunctionName="alive", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    opened = time.monotonic()
    idle = [socket.create_connection((host, int(port))) for _ in range(1100)]
    lying = socket.create_connection((host, int(port)))
    lying.sendall(signed_head(server.url, "/2015-03-31/functions/x/invocations", b"x" * 1000) + b"only ten b")
    assert client.invoke(FunctionName="alive")["Payload"].read() == b"1"
    assert time.monotonic() - opened < HEAD_TIMEOUT_S, "the server answers with 1,101 idle sockets open"
    time.sleep(opened + HEAD_TIMEOUT_S + 1 - time.monotonic())
    assert all(closed_by_server(sock) for sock in idle), "connections that never sent a request are closed"
    assert not closed_by_server(lying), "a body still has its own, longer deadline"
    time.sleep(opened + BODY_IDLE_S + 1 - time.monotonic())
    assert closed_by_server(lying), "a body that stopped arriving is not waited for"
    for sock in [*idle, lying]:
        sock.close()


def test_an_unsigned_body_is_refused_before_it_is_read(ember):
    """The audit's case: an unsigned 1 GB POST was read into memory before its 403."""
    host, port = ember.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(5)
        sock.sendall(b"POST /2015-03-31/functions/any/invocations HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 5000000\r\n\r\n")
        started = time.monotonic()
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert b"UnrecognizedClientException" in answer
    assert time.monotonic() - started < 2, "answered without waiting for the 5 MB that never came"
