"""Reading a server that may not have a thing, or not have its API yet: None instead of an error."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

ABSENT = {"ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException", "NoSuchEntity",
          "NotFoundException", "UnknownOperation", "UnknownOperationException", "404"}


def is_absent(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    if error.get("Code") == "InvalidSignatureException" and "scoped to correct service" in error.get("Message", ""):
        return True  # a server without this API takes the request for Lambda's, and its scope for the wrong one
    return error.get("Code") in ABSENT or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


def absent(call: Any, **kwargs: Any) -> Any:
    """The call's answer, or None when the server has no such thing (or no such API yet)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if is_absent(exc):
            return None
        raise


def pages(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a paginated list, or none when the server does not serve the operation."""
    try:
        return list(client.get_paginator(operation).paginate(**kwargs))
    except ClientError as exc:
        if is_absent(exc):
            return []
        raise
