"""A function's answer as the HTTP response API Gateway and function URLs make of it, and their errors.

Format 2.0 infers: valid JSON that is not an object with `statusCode` is a 200 `application/json`
response whose body is the function's output as it is. Otherwise `statusCode`, `headers`,
`multiValueHeaders` (1.0), `cookies` (2.0: one Set-Cookie each), `body` and `isBase64Encoded`
are read; anything else AWS cannot read is a malformed response, answered with `malformed`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ember.triggers.http_call import Headers, HttpResponse

JSON = "application/json"
# Framing is the server's business, never the function's.
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
# What HTTP allows in a header's name and value: a line break would end the header (or forge another).
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class MalformedResponse(ValueError):
    """The function's output is not a response AWS can read."""


def json_message(status: int, message: str, key: str = "message") -> HttpResponse:
    """API Gateway's `{"message": ...}` (function URLs say `Message`)."""
    body = json.dumps({key: message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", JSON)], body)


def http_api_error() -> HttpResponse:
    """An HTTP API's answer to a function error, a malformed response or a refused invoke."""
    return json_message(500, "Internal Server Error")


def rest_api_error(status: int) -> HttpResponse:
    """A REST API's: 502 for a function error or malformed response, 500 for an invoke Lambda refused."""
    return json_message(status, "Internal server error")


def url_error() -> HttpResponse:
    """A function URL's answer to a function error or a malformed response."""
    return HttpResponse(502, [("content-type", JSON)], b"Internal Server Error")


def response_v2(payload: bytes, malformed: HttpResponse | None = None) -> HttpResponse:
    """Format 2.0 (HTTP APIs, function URLs): inferred or read; `malformed` (default 502) if unreadable."""
    try:
        output = json.loads(payload)
    except (ValueError, RecursionError):
        return malformed or url_error()
    if not isinstance(output, dict) or "statusCode" not in output:
        return HttpResponse(200, [("content-type", JSON)], payload)
    try:
        headers = _headers(output.get("headers"))
        for cookie in _strings(output.get("cookies"), "cookies"):
            headers.append(("set-cookie", cookie))
        return HttpResponse(_status(output), _with_type(headers), _body(output, strict=False))
    except MalformedResponse:
        return malformed or url_error()


def response_v1(payload: bytes, malformed: HttpResponse | None = None) -> HttpResponse:
    """Format 1.0 (REST APIs, HTTP APIs' 1.0): `statusCode` required; `multiValueHeaders` merged."""
    try:
        output = json.loads(payload)
        if not isinstance(output, dict):
            raise MalformedResponse("not an object")
        single = _headers(output.get("headers"))
        multi = _multi_headers(output.get("multiValueHeaders"))
        named = {name.lower() for name, _ in multi}
        headers = [(n, v) for n, v in single if n.lower() not in named] + multi
        return HttpResponse(_status(output), _with_type(headers), _body(output, strict=True))
    except (ValueError, RecursionError):  # MalformedResponse included
        return malformed or rest_api_error(502)


def _status(output: dict[str, Any]) -> int:
    status = output.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r}")
    return status


def _headers(raw: Any) -> Headers:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise MalformedResponse("headers is not an object")
    return [(_name(name), _text(value)) for name, value in raw.items()
            if value is not None and str(name).lower() not in HOP_BY_HOP]


def _multi_headers(raw: Any) -> Headers:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise MalformedResponse("multiValueHeaders is not an object")
    headers: Headers = []
    for name, values in raw.items():
        if str(name).lower() in HOP_BY_HOP:
            continue
        headers.extend((_name(name), value) for value in _strings(values, "multiValueHeaders"))
    return headers


def _strings(raw: Any, field: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MalformedResponse(f"{field} is not a list")
    return [_text(item) for item in raw]


def _name(name: Any) -> str:
    if not HEADER_NAME_RE.match(str(name)):
        raise MalformedResponse(f"header name {name!r}")
    return str(name)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float) and not CONTROL_RE.search(str(value)):
        return str(value)
    raise MalformedResponse(f"header value {value!r}")


def _with_type(headers: Headers) -> Headers:
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", JSON))
    return headers


def _body(output: dict[str, Any], strict: bool) -> bytes:
    body = output.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        if strict:
            raise MalformedResponse("body is not a string")
        body = json.dumps(body)
    if output.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponse("body is not base64") from exc
    return body.encode("utf-8")
