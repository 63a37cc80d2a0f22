"""The one way an API answers: AWS's JSON, AWS's error shape, and a request id on everything."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from ember.errors import AwsError

JSON = "application/json"
WARNING_HEADER = "X-Ember-Warning"  # what a caller should be told that no AWS field says (`ember deploy` prints it)


def aws_json(body: Any, status: int = 200, request_id: str = "", headers: dict[str, str] | None = None) -> Response:
    payload = b"" if body is None else json.dumps(body).encode()
    return Response(payload, status_code=status, media_type=JSON,
                    headers={"x-amzn-RequestId": request_id, **(headers or {})})


def aws_error(error: AwsError, request_id: str) -> Response:
    """Status, `X-Amzn-ErrorType` and `{"Type", "Message"|"message", …}`, so botocore raises the modelled class."""
    headers = {"X-Amzn-ErrorType": error.code, "x-amzn-RequestId": request_id}
    retry_after = error.members.get("retryAfterSeconds")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = {"__type": error.code, **error.body()}
    return Response(json.dumps(body).encode(), status_code=error.status_code, media_type=JSON,
                    headers=headers)


def http_bytes(response: Response) -> bytes:
    """A whole HTTP/1.1 response on the wire, for answers given before any ASGI app runs; closes the connection."""
    lines = [f"HTTP/1.1 {response.status_code} {HTTPStatus(response.status_code).phrase}".encode()]
    lines += [name + b": " + value for name, value in response.raw_headers]
    return b"\r\n".join([*lines, b"connection: close", b"", response.body])
