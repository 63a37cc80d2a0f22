"""The baseline server: a plain ASGI callable under uvicorn, no framework, answering any POST with the hello
handler's JSON. One process, uvicorn's CLI defaults (loop and HTTP parser "auto": uvloop and httptools when
installed), nothing else: what a request costs on this server stack before any Lambda work is done.
Ember's own server also parses HTTP with uvicorn + httptools, but on the stdlib asyncio loop (`asyncio.run`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BODY = b'{"message": "Hello, world!"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
STARTUP_TIMEOUT_S = 30
LOOP = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"  # what uvicorn's --loop auto picks


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    more_body = True
    while more_body:  # the request body is read, as Ember reads it
        more_body = (await receive()).get("more_body", False)
    status = 200 if scope["method"] == "POST" else 405
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY if status == 200 else b""})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(proc: subprocess.Popen, port: int, timeout_s: float, what: str) -> None:
    """Until `proc` accepts connections on loopback `port`; RuntimeError if it exits or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def bare_app() -> Iterator[str]:
    """`uvicorn bare_app:app` on a free loopback port; yields its URL; always stopped on exit."""
    with bare_app_process() as (url, _):
        yield url


@contextlib.contextmanager
def bare_app_process() -> Iterator[tuple[str, subprocess.Popen]]:
    """The same, yielding its process too (to read the CPU it spends)."""
    from harness import stop_process

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(Path(__file__).parent),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
         "--lifespan", "off"], start_new_session=True)
    try:
        wait_for_port(proc, port, STARTUP_TIMEOUT_S, "bare uvicorn app")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_process(proc)
