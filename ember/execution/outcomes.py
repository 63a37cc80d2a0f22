"""How a call ends, as Lambda words it: the failure payloads, the exit reasons, init errors."""

from __future__ import annotations

import json

from ember.execution.model import Outcome


def exit_reason(returncode: int) -> str:
    if returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        return "Runtime exited with error: signal: killed" if returncode == -9 else \
            f"Runtime exited with error: signal: {-returncode}"
    return f"Runtime exited with error: exit status {returncode}"


def failure(error_type: str, message: str, status: str) -> Outcome:
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return Outcome(body, error_type, status)


def error_type_of(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return "Unhandled"
    return str(parsed.get("errorType") or "Unhandled") if isinstance(parsed, dict) else "Unhandled"


def outcome_with_request_id(body: bytes, error_type: str | None, request_id: str) -> Outcome:
    """An init error, as Lambda returns it: the runtime's payload with requestId ""."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parsed.setdefault("requestId", request_id)
        body = json.dumps(parsed).encode()
    return Outcome(body, error_type or error_type_of(body), "error")
