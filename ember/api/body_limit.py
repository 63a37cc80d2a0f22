"""How large a request body may be, checked before it is read: by Content-Length when there is one,
else counted chunk by chunk as it arrives, so no client makes the server buffer more than the limit."""

from __future__ import annotations

import re

from starlette.types import Message, Receive, Scope

from ember.errors import RequestEntityTooLargeException
from ember.execution.model import MAX_PAYLOAD_BYTES

CODE_UPLOAD_BYTES = 69_905_067  # a 50 MB zip, base64-encoded inside a JSON body
# (method, path, operation, limit); any other request is held to the largest limit.
LIMITS = [
    ("POST", re.compile(r"/2015-03-31/functions/?"), "CreateFunction", CODE_UPLOAD_BYTES),
    ("PUT", re.compile(r"/2015-03-31/functions/[^/]+/code/?"), "UpdateFunctionCode", CODE_UPLOAD_BYTES),
    ("POST", re.compile(r"/2018-10-31/layers/[^/]+/versions/?"), "PublishLayerVersion", CODE_UPLOAD_BYTES),
    ("POST", re.compile(r"/2015-03-31/functions/[^/]+/invocations/?"), "InvokeFunction", MAX_PAYLOAD_BYTES),
    ("POST", re.compile(r"/2021-11-15/functions/[^/]+/response-streaming-invocations/?"),
     "InvokeWithResponseStream", MAX_PAYLOAD_BYTES),
]


def limit_for(method: str, path: str) -> tuple[str | None, int]:
    """The operation a request is for (when it has a limit of its own) and its body limit."""
    for limited_method, pattern, operation, limit in LIMITS:
        if method == limited_method and pattern.fullmatch(path):
            return operation, limit
    return None, CODE_UPLOAD_BYTES


def too_large(operation: str | None, limit: int) -> RequestEntityTooLargeException:
    """AWS's words: "Request must be smaller than 69905067 bytes for the CreateFunction operation"."""
    where = f" for the {operation} operation" if operation else ""
    return RequestEntityTooLargeException(f"Request must be smaller than {limit} bytes{where}")


def limited(scope: Scope, receive: Receive) -> Receive:
    """Refuse a declared length over the limit now; wrap `receive` to count an undeclared one."""
    operation, limit = limit_for(scope["method"], scope["path"])
    if _content_length(scope) > limit:
        raise too_large(operation, limit)
    received = 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise too_large(operation, limit)
        return message

    return counting


def _content_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0
