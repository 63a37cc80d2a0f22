"""Reading a request's JSON body and its function name, with AWS's errors for what is wrong."""

from __future__ import annotations

import asyncio
import bisect
import json
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

from ember.arns import FunctionRef, parse_function_ref
from ember.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    ResourceNotFoundException,
    ValidationException,
)

T = TypeVar("T")
PAGE_SIZE = 50
BIG_BODY = 1 << 20  # parsed in a worker thread: a code upload must not stall the event loop


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; its size was limited before it was read (ember.api.body_limit)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = await asyncio.to_thread(json.loads, raw) if len(raw) > BIG_BODY else json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidRequestContentException("Could not parse request body into json: expected an object")
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
