"""Reading a request's JSON body and its function name, with AWS's errors for what is wrong."""

from __future__ import annotations

import asyncio
import bisect
import json
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

from ember.arns import FunctionRef, parse_function_ref
from ember.core.validation import check_request
from ember.errors import (
    AwsError,
    InvalidParameterValueException,
    InvalidRequestContentException,
    ResourceNotFoundException,
    ValidationException,
)

T = TypeVar("T")
PAGE_SIZE = 50
BIG_BODY = 1 << 20  # parsed in a worker thread: a code upload must not stall the event loop


async def json_body(request: Request, operation: str | None = None) -> dict[str, Any]:
    """The body as a JSON object; with `operation`, typed and validated against its input shape. Its
    size was limited before it was read (ember.api.body_limit); a big one is parsed off the loop."""
    raw = await request.body()
    body = await asyncio.to_thread(parse_object, raw) if len(raw) > BIG_BODY else parse_object(raw)
    return check_request(operation, body) if operation else body


def parse_object(raw: bytes, error: type[AwsError] = InvalidRequestContentException) -> dict[str, Any]:
    """A JSON object, or AWS's "Could not parse request body into json" (too deep to parse included)."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        detail = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
        raise error(f"Could not parse request body into json: {detail}") from None
    if not isinstance(body, dict):
        raise error("Could not parse request body into json: the body must be a JSON object")
    return body


def function_ref(request: Request, region: str) -> FunctionRef:
    """The `{FunctionName}` path segment (name, name:qualifier or ARN) with `?Qualifier=` folded in."""
    raw = request.path_params["name"]
    ref = parse_function_ref(raw, request.query_params.get("Qualifier"))
    if ref is None:
        if ":" in raw:
            raise ResourceNotFoundException(f"Function not found: {raw}")
        raise ValidationException(
            f"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
            "([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
    return ref


def page_of(items: list[T], request: Request, key: Callable[[T], Any],
            parse_marker: Callable[[str], Any] = str) -> tuple[list[T], str | None]:
    """AWS's Marker/MaxItems paging over `items` sorted by `key`: at most 50 a page; the marker is
    the last item's key, so a page stays right even if that item was deleted meanwhile."""
    marker = request.query_params.get("Marker")
    try:
        limit = min(PAGE_SIZE, max(1, int(request.query_params.get("MaxItems") or PAGE_SIZE)))
        start = bisect.bisect_right([key(item) for item in items], parse_marker(marker)) if marker else 0
    except ValueError as exc:
        raise InvalidParameterValueException(f"Invalid Marker or MaxItems: {exc}") from exc
    page = items[start:start + limit]
    next_marker = str(key(page[-1])) if page and start + limit < len(items) else None
    return page, next_marker
