"""Destinations: which ARNs are functions, and the invocation record Lambda sends them.

The record is AWS's (version 1.0), as a destination function receives it as its event:

    {"version": "1.0", "timestamp": "2019-11-24T23:08:25.651Z",
     "requestContext": {"requestId": …, "functionArn": "…:function:name:$LATEST",
                        "condition": "Success" | "RetriesExhausted" | "EventAgeExceeded",
                        "approximateInvokeCount": 1},
     "requestPayload": <the event, as JSON>,
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
     "responsePayload": <what the function returned, or its error>}

`functionError` only after a function error. A record for an event that never reached the function
(it expired while throttled) has no responseContext or responsePayload; one that expired after a
function error carries that attempt's response.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ember.arns import FunctionRef, parse_function_ref

RECORD_VERSION = "1.0"


@dataclass(frozen=True)
class Response:
    """What one attempt of the function answered."""

    executed_version: str
    payload: bytes
    function_error: str | None = None


def service_of(arn: str) -> str:
    """`arn:aws:sqs:us-east-1:…` → `sqs` (an ARN's third field); "" for anything else."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def function_destination(arn: str) -> FunctionRef | None:
    """The function (and qualifier) a Lambda ARN names; None for any other destination."""
    if service_of(arn) != "lambda" or ":function:" not in arn:
        return None
    return parse_function_ref(arn)


def invocation_record(request_id: str, function_arn: str, condition: str, attempts: int, request_payload: bytes,
                      response: Response | None, now: float) -> bytes:
    """The record of one finished event, as AWS words it."""
    record: dict[str, Any] = {
        "version": RECORD_VERSION, "timestamp": _timestamp(now),
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": _json_or_text(request_payload),
    }
    if response is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": response.executed_version}
        if response.function_error:
            context["functionError"] = response.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(response.payload)
    return json.dumps(record).encode()


def _timestamp(now: float) -> str:
    """2019-11-24T23:08:25.651Z: UTC, milliseconds."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_or_text(payload: bytes) -> Any:
    """The payload as JSON; a payload that is not JSON (a schedule's plain text) as a string."""
    try:
        return json.loads(payload) if payload.strip() else None
    except ValueError:
        return payload.decode(errors="replace")
