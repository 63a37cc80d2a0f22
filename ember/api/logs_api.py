"""A read-only slice of CloudWatch Logs (JSON 1.1, `X-Amz-Target: Logs_20140328.*`) over Ember's log streams.

So `aws logs filter-log-events --log-group-name /aws/lambda/NAME` and boto3's `logs` client read
what functions printed, and `ember logs` is just such a client.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.api.authorization import Authorizer
from ember.api.lambda_api.body import parse_object
from ember.api.middleware import request_id_of
from ember.api.services import Services
from ember.config import ACCOUNT_ID
from ember.core.validation import check_logs_request
from ember.errors import AwsError, InvalidParameterValueException, SerializationException, UnknownOperation
from ember.observe.log_reader import function_log_dir, read_events

GROUP_PREFIX = "/aws/lambda/"
PAGE = 10000


GROUP_RE = re.compile(r"[\.\-_/#A-Za-z0-9]+")  # botocore's logs model, as AWS checks it
STREAM_RE = re.compile(r"[^:*]*")
NAME_MAX = 512


class LogGroupNotFound(AwsError):
    code, status_code, sender_fault, message_key = "ResourceNotFoundException", 400, True, "message"


class LogsInvalidParameter(AwsError):
    """CloudWatch Logs' own InvalidParameterException (Lambda's model has none of that name)."""

    code, status_code, sender_fault, message_key = "InvalidParameterException", 400, True, "message"


class LogsApi:
    def __init__(self, services: Services, authorizer: Authorizer) -> None:
        self.services = services
        self.authorizer = authorizer

    async def dispatch(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.rpartition(".")[2]
        handler = {"FilterLogEvents": self.filter_log_events, "DescribeLogStreams": self.describe_log_streams}.get(
            operation)
        if not target.startswith("Logs_20140328.") or handler is None:
            raise UnknownOperation(f"Unknown operation {target or '(no X-Amz-Target)'}")
        body = check_logs_request(operation, parse_object(await request.body(), SerializationException))
        group = _checked_name(body.get("logGroupName"), "logGroupName", GROUP_RE)
        self.authorizer.check(request, f"logs:{operation}", self._group_arn(group))
        result = handler(body)
        return Response(json.dumps(result).encode(), media_type="application/x-amz-json-1.1",
                        headers={"x-amzn-RequestId": request_id_of(request)})

    def _group_arn(self, group: str) -> str:
        """Logs authorizes stream reads on the group's ARN with its `:*` suffix."""
        return f"arn:aws:logs:{self.services.region}:{ACCOUNT_ID}:log-group:{group}:*"

    def _function_dir(self, group: str) -> Path:
        """`/aws/lambda/<function>` as a directory inside the logs dir; any other name is a missing group."""
        name = group[len(GROUP_PREFIX):] if group.startswith(GROUP_PREFIX) else ""
        directory = function_log_dir(self.services.logs_dir, name)
        # A function's group exists (empty) before its first call.
        if directory is None or not (directory.is_dir() or self.services.registry.exists(name)):
            raise LogGroupNotFound("The specified log group does not exist.")
        return directory

    def filter_log_events(self, body: dict[str, Any]) -> dict[str, Any]:
        start, end, pattern = _integer(body, "startTime"), _integer(body, "endTime"), _string(body, "filterPattern")
        streams = [_checked_name(s, "logStreamNames", STREAM_RE) for s in _list(body, "logStreamNames")]
        events = read_events(self._function_dir(body.get("logGroupName", "")), start, end, pattern)
        if streams:
            events = [e for e in events if e.stream in streams]
        offset = _offset(body.get("nextToken"))
        limit = _integer(body, "limit") or PAGE
        if not 1 <= limit <= PAGE:
            raise _invalid(str(limit), "limit", f"Member must have value between 1 and {PAGE}")
        page = events[offset:offset + limit]
        result: dict[str, Any] = {
            "events": [{"logStreamName": e.stream, "timestamp": e.timestamp, "message": e.message,
                        "ingestionTime": e.timestamp, "eventId": e.event_id} for e in page],
            "searchedLogStreams": [],
        }
        if offset + limit < len(events):
            result["nextToken"] = str(offset + limit)
        return result

    def describe_log_streams(self, body: dict[str, Any]) -> dict[str, Any]:
        events = read_events(self._function_dir(body.get("logGroupName", "")))
        prefix = body.get("logStreamNamePrefix")
        if prefix is not None:
            prefix = _checked_name(prefix, "logStreamNamePrefix", STREAM_RE)
            events = [e for e in events if e.stream.startswith(prefix)]
        streams: dict[str, dict[str, Any]] = {}
        for event in events:
            entry = streams.setdefault(event.stream, {"logStreamName": event.stream,
                                                      "firstEventTimestamp": event.timestamp,
                                                      "creationTime": event.timestamp})
            entry["lastEventTimestamp"] = event.timestamp
        return {"logStreams": sorted(streams.values(), key=lambda s: s["logStreamName"])}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InvalidParameterValueException("The specified nextToken is invalid.")
    return int(token)


def _checked_name(value: object, member: str, pattern: re.Pattern[str]) -> str:
    """A group or stream name as AWS validates it: 1 to 512 characters of the member's pattern."""
    if not isinstance(value, str):
        raise SerializationException(f"{member} must be a string")
    if not 1 <= len(value) <= NAME_MAX:
        raise _invalid(value, member, f"Member must have length between 1 and {NAME_MAX}")
    if not pattern.fullmatch(value):
        raise _invalid(value, member, f"Member must satisfy regular expression pattern: {pattern.pattern}")
    return value


def _invalid(value: str, member: str, constraint: str) -> LogsInvalidParameter:
    return LogsInvalidParameter(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")


def _integer(body: dict[str, Any], member: str) -> int | None:
    value = body.get(member)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise SerializationException(f"{member} must be a number")
    return value


def _string(body: dict[str, Any], member: str) -> str:
    value = body.get(member, "")
    if not isinstance(value, str):
        raise SerializationException(f"{member} must be a string")
    return value


def _list(body: dict[str, Any], member: str) -> list[object]:
    value = body.get(member) or []
    if not isinstance(value, list):
        raise SerializationException(f"{member} must be a list")
    return value
