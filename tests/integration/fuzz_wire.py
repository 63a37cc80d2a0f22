"""Raw requests for the fuzzer: signed with botocore's SigV4 but sent as they are, unvalidated, and
the one property every answer must have: AWS's status and error shape, never a 500 or a traceback."""

from __future__ import annotations

import http.client
import json
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIMEOUT_S = 30  # an answer later than this is a hang
VALIDATION = re.compile(r"^\d+ validation errors? detected: Value (.*? )?at '[^']+' failed to satisfy constraint: .+$",
                        re.DOTALL)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: str = field(default="")

    def error(self) -> dict:
        return json.loads(self.body)


@dataclass
class Wire:
    """One server's address; `send` signs like boto3 does, with nothing checked on this side."""

    url: str
    key: str = "test"
    secret: str = "test"
    count: int = 0

    @property
    def host(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             service: str = "lambda") -> Answer:
        host, port = self.host
        request = AWSRequest(method=method, url=f"http://{host}:{port}{path}", data=body,
                             headers={"host": f"{host}:{port}", **(headers or {})})
        SigV4Auth(Credentials(self.key, self.secret), service, "us-east-1").add_auth(request)
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
        try:
            connection.request(method, path, body=body, headers=dict(request.headers.items()))
            response = connection.getresponse()
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()
        self.count += 1
        answer.sent = f"{method} {path} {body[:300]!r}"
        return answer

    def raw(self, data: bytes, linger: float = 0.0) -> bytes:
        """Bytes as they are on a fresh connection (nothing signed); everything the server says back."""
        with socket.create_connection(self.host, timeout=TIMEOUT_S) as sock:
            sock.sendall(data)
            if linger:
                sock.settimeout(linger)
            self.count += 1
            return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def assert_aws_answer(answer: Answer) -> None:
    """Success, or AWS's error shape: a 4xx (never a 5xx), X-Amzn-ErrorType naming the JSON `__type`."""
    assert answer.status < 500, f"{answer.status} for {answer.sent}: {answer.body[:500]!r}"
    assert b"Traceback" not in answer.body, answer.sent
    if answer.status < 400:
        return
    error = answer.error()
    code = answer.headers.get("x-amzn-errortype")
    assert code and error["__type"] == code, f"not AWS's shape for {answer.sent}: {answer.body[:300]!r}"
    message = error.get("message", error.get("Message"))
    assert isinstance(message, str) and message, answer.sent
    if code == "ValidationException":
        assert VALIDATION.match(message), f"{message!r} names no member and constraint ({answer.sent})"


def assert_raw_aws_answer(raw: bytes) -> None:
    """A raw exchange: an HTTP response in AWS's JSON error shape (nothing at all would be a hang)."""
    assert raw, "no answer"
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.decode("latin-1").partition(":") for line in head.split(b"\r\n")[1:])}
    assert_aws_answer(Answer(status, headers, body[:int(headers.get("content-length", len(body)))],
                             sent=raw[:120].decode("latin-1")))
