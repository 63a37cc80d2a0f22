"""A read-only slice of CloudWatch Logs (JSON 1.1, `X-Amz-Target: Logs_20140328.*`) over Ember's log streams.

So `aws logs filter-log-events --log-group-name /aws/lambda/NAME` and boto3's `logs` client read
what functions printed, and `ember logs` is just such a client.
"""

from __future__ import annotations

import json
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
from ember.observe.log_reader import read_events

GROUP_PREFIX = "/aws/lambda/"
PAGE = 10000


class LogGroupNotFound(AwsError):
    code, status_code, sender_fault, message_key = "ResourceNotFoundException", 400, True, "message"


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
        self.authorizer.check(request, f"logs:{operation}", self._group_arn(body.get("logGroupName", "")))
        result = handler(body)
        return Response(json.dumps(result).encode(), media_type="application/x-amz-json-1.1",
                        headers={"x-amzn-RequestId": request_id_of(request)})

    def _group_arn(self, group: str) -> str:
        """Logs authorizes stream reads on the group's ARN with its `:*` suffix."""
        return f"arn:aws:logs:{self.services.region}:{ACCOUNT_ID}:log-group:{group}:*"

    def _function_dir(self, group: str) -> Path:
        if not group.startswith(GROUP_PREFIX):
            raise LogGroupNotFound("The specified log group does not exist.")
        name = group[len(GROUP_PREFIX):]
        directory = self.services.logs_dir / name
        if not directory.is_dir() and not self.services.registry.exists(name):  # a function's group exists (empty) before its first call
            raise LogGroupNotFound("The specified log group does not exist.")
        return directory

    def filter_log_events(self, body: dict[str, Any]) -> dict[str, Any]:
        directory = self._function_dir(body.get("logGroupName", ""))
        events = read_events(directory, body.get("startTime"), body.get("endTime"), body.get("filterPattern", ""))
        streams = body.get("logStreamNames")
        if streams:
            events = [e for e in events if e.stream in streams]
        offset = _offset(body.get("nextToken"))
        limit = int(body.get("limit") or PAGE)
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
