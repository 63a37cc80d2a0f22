"""How a call ends, as Lambda words it: the failure payloads, the exit reasons, init errors."""

from __future__ import annotations

import json

from ember.execution.model import CallRecord

# Lambda's init process is written in Go and words a runtime's death as Go's os/exec does.
SIGNAL_NAMES = {1: "hangup", 2: "interrupt", 3: "quit", 4: "illegal instruction", 5: "trace/breakpoint trap",
                6: "aborted", 7: "bus error", 8: "floating point exception", 9: "killed",
                10: "user defined signal 1", 11: "segmentation fault", 12: "user defined signal 2",
                13: "broken pipe", 14: "alarm clock", 15: "terminated"}


def exit_reason(returncode: int) -> str:
    if returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        signal = SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
        return f"Runtime exited with error: signal: {signal}"
    return f"Runtime exited with error: exit status {returncode}"


def failure(error_type: str, message: str, status: str) -> CallRecord:
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return CallRecord(body, error_type, status)


def error_type_of(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return "Unhandled"
    return str(parsed.get("errorType") or "Unhandled") if isinstance(parsed, dict) else "Unhandled"


def outcome_with_request_id(body: bytes, error_type: str | None, request_id: str) -> CallRecord:
    """An init error, as Lambda returns it: the runtime's payload with requestId ""."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parsed.setdefault("requestId", request_id)
        body = json.dumps(parsed).encode()
    return CallRecord(body, error_type or error_type_of(body), "error")
