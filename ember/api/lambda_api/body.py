"""Reading a request's JSON body and its function name, with AWS's errors for what is wrong."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ember.arns import FunctionRef, parse_function_ref
from ember.errors import (
    InvalidRequestContentException,
    ResourceNotFoundException,
    ValidationException,
)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
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
