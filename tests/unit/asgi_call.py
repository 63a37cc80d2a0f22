"""Call an ASGI app in-process with a request botocore signed, and read the whole answer."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def signed(method: str, url: str, key: str, secret: str, token: str | None = None, body: bytes = b"",
           service: str = "lambda", region: str = "us-east-1", headers: dict[str, str] | None = None) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers={"host": urlsplit(url).netloc, **(headers or {})})
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    return request


def call(app, request: AWSRequest) -> Answer:
    """One HTTP exchange through `app`, as uvicorn would hand it over."""
    parts = urlsplit(request.url)
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else body
    scope = {"type": "http", "method": request.method, "path": parts.path, "raw_path": parts.path.encode(),
             "query_string": parts.query.encode(), "root_path": "", "scheme": "http", "server": ("127.0.0.1", 9000),
             "headers": [(k.lower().encode(), v.encode() if isinstance(v, str) else v)
                         for k, v in request.headers.items()]}
    return asyncio.run(_exchange(app, scope, body))


async def _exchange(app, scope: dict, body: bytes) -> Answer:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], headers, body)
