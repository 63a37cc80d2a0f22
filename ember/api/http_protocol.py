"""uvicorn's httptools protocol, except that a request it cannot parse gets AWS's JSON error shape,
and that header names are also kept as the client spelled them.

uvicorn lower-cases header names; a REST API passes them to its function as sent (`Content-Type`), so
the names as sent go in the scope's `SPELLING` key, one per entry of `headers`, in the same order.

uvicorn answers what httptools refuses (an unknown method, CONNECT's authority-form target, a
malformed request line or header) with a plain-text 400; a client of AWS's API expects
`X-Amzn-ErrorType` and a JSON body, so the answer goes through the same `aws_error` as any other.
"""

from __future__ import annotations

import uuid
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ember.api.responses import aws_error, http_bytes
from ember.errors import AwsError, InvalidRequestContentException, UnknownOperation
from ember.triggers.front_door import SPELLING


class _RememberingParser:
    """The connection's parser, keeping the last error it raised (uvicorn's handler discards it)."""

    def __init__(self, parser: httptools.HttpRequestParser) -> None:
        self._parser = parser
        self.error: Exception | None = None

    def feed_data(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.error = exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class AwsHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser = _RememberingParser(self.parser)  # type: ignore[assignment]
        self.spelling: list[bytes] = []

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.spelling = self.scope[SPELLING] = []  # type: ignore[literal-required]

    def on_header(self, name: bytes, value: bytes) -> None:
        self.spelling.append(name)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn for whatever httptools could not parse; the connection closes after it."""
        response = aws_error(_parse_error(self.parser), str(uuid.uuid4()))
        self.transport.write(http_bytes(response))
        self.transport.close()


def _parse_error(parser: Any) -> AwsError:
    """A method no operation has is UnknownOperationException, as an unknown path is; the rest a 400."""
    error = getattr(parser, "error", None)
    method = _method(parser)
    if isinstance(error, httptools.HttpParserInvalidMethodError) or method == "CONNECT":
        return UnknownOperation(f"No Lambda operation for the method {method or 'sent'}")
    return InvalidRequestContentException(f"Could not parse the HTTP request: {error or 'malformed request'}")


def _method(parser: Any) -> str | None:
    try:
        method: str = parser.get_method().decode("latin-1")
        return method
    except Exception:  # httptools has no method until the request line parsed
        return None
