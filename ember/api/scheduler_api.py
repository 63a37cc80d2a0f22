"""EventBridge Scheduler's API (rest-json: `/schedules/{Name}`, `/schedule-groups/{Name}`, `/tags/{ResourceArn}`)
for boto3's `scheduler`.

Bodies are checked against botocore's scheduler model; names and query parameters against their
patterns, in AWS's words. A session's call is checked as its IAM action (`scheduler:CreateSchedule`
…) on the schedule's or group's ARN. Only schedule groups take tags: any other ARN fails the model's
pattern, as on AWS. ClientToken is accepted and not used (a retried create is a
ConflictException, where AWS would answer it as the first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ember.api.authorization import Authorizer
from ember.api.lambda_api.body import parse_object
from ember.api.middleware import request_id_of
from ember.core.validation import check_service_request, constraint_error
from ember.errors import ValidationException
from ember.events.schedules import DEFAULT_GROUP, Schedule, ScheduleStore

NAME_PATTERN = "^[0-9a-zA-Z-_.]+$"
NAME_RE = re.compile(NAME_PATTERN)
# TagResourceArn's pattern in the model: a schedule group's ARN only
TAGGABLE_PATTERN = "^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\\-]+:\\d{12}:schedule-group\\/[0-9a-zA-Z-_.]+$"
TAGGABLE_RE = re.compile(TAGGABLE_PATTERN)
TAGS_PREFIX = "arn:aws:scheduler:"  # `/tags/arn:aws:scheduler:…` (other services' `/tags/<arn>` are not ours)
STATES = ("ENABLED", "DISABLED")
PAGE = 100
Endpoint = Callable[[Request], Awaitable[Response]]


class SchedulerApi:
    def __init__(self, schedules: ScheduleStore, authorizer: Authorizer) -> None:
        self.schedules = schedules
        self.authorizer = authorizer

    def routes(self) -> list[Route]:
        one, group, tags = "/schedules/{name}", "/schedule-groups/{name}", f"/tags/{TAGS_PREFIX}{{rest:path}}"
        return [
            Route(one, self.create, methods=["POST"]), Route(one, self.get, methods=["GET"]),
            Route(one, self.update, methods=["PUT"]), Route(one, self.delete, methods=["DELETE"]),
            Route("/schedules", self.list, methods=["GET"]),
            Route(group, self.create_group, methods=["POST"]), Route(group, self.get_group, methods=["GET"]),
            Route(group, self.delete_group, methods=["DELETE"]),
            Route("/schedule-groups", self.list_groups, methods=["GET"]),
            Route(tags, self.tag, methods=["POST"]), Route(tags, self.list_tags, methods=["GET"]),
            Route(tags, self.untag, methods=["DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        name = _name(request)
        body = _dates(check_service_request("scheduler", "CreateSchedule", parse_object(await request.body(),
                                                                                        ValidationException)))
        self._check(request, "CreateSchedule", self.schedules.arn(body.get("GroupName") or DEFAULT_GROUP, name))
        return _json(request, {"ScheduleArn": self.schedules.create(name, body)})

    async def get(self, request: Request) -> Response:
        name, group = _name(request), _group_query(request, "groupName")
        self._check(request, "GetSchedule", self.schedules.arn(group or DEFAULT_GROUP, name))
        return _json(request, self.schedules.get(name, group).config)

    async def update(self, request: Request) -> Response:
        name = _name(request)
        body = _dates(check_service_request("scheduler", "UpdateSchedule", parse_object(await request.body(),
                                                                                        ValidationException)))
        self._check(request, "UpdateSchedule", self.schedules.arn(body.get("GroupName") or DEFAULT_GROUP, name))
        return _json(request, {"ScheduleArn": self.schedules.update(name, body)})

    async def delete(self, request: Request) -> Response:
        name, group = _name(request), _group_query(request, "groupName")
        self._check(request, "DeleteSchedule", self.schedules.arn(group or DEFAULT_GROUP, name))
        self.schedules.delete(name, group)
        return _json(request, {})

    async def list(self, request: Request) -> Response:
        group, prefix = _group_query(request, "ScheduleGroup"), _group_query(request, "NamePrefix")
        state = request.query_params.get("State")
        if state is not None and state not in STATES:
            raise constraint_error(state, "state", f"Member must satisfy enum value set: [{', '.join(STATES)}]")
        self._check(request, "ListSchedules", "*")
        if group is not None:
            self.schedules.group(group)
        found = [_summary(s) for s in self.schedules.all(group, prefix, state)]
        page, token = _page(found, request)
        return _json(request, {"Schedules": page, **({"NextToken": token} if token else {})})

    async def create_group(self, request: Request) -> Response:
        name = _name(request)
        body = check_service_request("scheduler", "CreateScheduleGroup", parse_object(await request.body(),
                                                                                      ValidationException))
        self._check(request, "CreateScheduleGroup", self.schedules.group_arn(name))
        return _json(request, {"ScheduleGroupArn": self.schedules.create_group(name, body.get("Tags"))})

    async def get_group(self, request: Request) -> Response:
        name = _name(request)
        self._check(request, "GetScheduleGroup", self.schedules.group_arn(name))
        return _json(request, self.schedules.group(name))

    async def delete_group(self, request: Request) -> Response:
        name = _name(request)
        self._check(request, "DeleteScheduleGroup", self.schedules.group_arn(name))
        self.schedules.delete_group(name)
        return _json(request, {})

    async def list_groups(self, request: Request) -> Response:
        self._check(request, "ListScheduleGroups", "*")
        page, token = _page(self.schedules.groups(_group_query(request, "NamePrefix")), request)
        return _json(request, {"ScheduleGroups": page, **({"NextToken": token} if token else {})})

    async def tag(self, request: Request) -> Response:
        arn = _taggable(request)
        body = check_service_request("scheduler", "TagResource", parse_object(await request.body(),
                                                                              ValidationException))
        self._check(request, "TagResource", arn)
        self.schedules.tags.tag(self.schedules.taggable(arn), body["Tags"])
        return _json(request, {})

    async def list_tags(self, request: Request) -> Response:
        arn = _taggable(request)
        self._check(request, "ListTagsForResource", arn)
        return _json(request, {"Tags": self.schedules.tags.tags(self.schedules.taggable(arn))})

    async def untag(self, request: Request) -> Response:
        arn, keys = _taggable(request), request.query_params.getlist("TagKeys")
        for key in keys:
            if not 1 <= len(key) <= 128:
                rule = "greater than or equal to 1" if not key else "less than or equal to 128"
                raise constraint_error(key, "tagKeys", f"Member must have length {rule}")
        self._check(request, "UntagResource", arn)
        self.schedules.tags.untag(self.schedules.taggable(arn), keys)
        return _json(request, {})

    def _check(self, request: Request, operation: str, resource: str) -> None:
        self.authorizer.check(request, f"scheduler:{operation}", resource)


def _name(request: Request) -> str:
    name: str = request.path_params["name"]
    _check_name(name, "name")
    return name


def _taggable(request: Request) -> str:
    """The path's ResourceArn, checked against TagResourceArn's pattern: a schedule's ARN fails it, as on AWS."""
    arn: str = TAGS_PREFIX + request.path_params["rest"]
    if len(arn) > 1011:
        raise constraint_error(arn, "resourceArn", "Member must have length less than or equal to 1011")
    if not TAGGABLE_RE.match(arn):
        raise constraint_error(arn, "resourceArn",
                               f"Member must satisfy regular expression pattern: {TAGGABLE_PATTERN}")
    return arn


def _group_query(request: Request, parameter: str) -> str | None:
    value = request.query_params.get(parameter)
    if value is not None:
        _check_name(value, parameter[:1].lower() + parameter[1:])
    return value


def _check_name(value: str, member: str) -> None:
    if not 1 <= len(value) <= 64:
        rule = "greater than or equal to 1" if not value else "less than or equal to 64"
        raise constraint_error(value, member, f"Member must have length {rule}")
    if not NAME_RE.match(value):
        raise constraint_error(value, member, f"Member must satisfy regular expression pattern: {NAME_PATTERN}")


def _dates(body: dict[str, Any]) -> dict[str, Any]:
    """StartDate and EndDate as epoch seconds: botocore sends numbers, other SDKs may send ISO 8601."""
    for key in ("StartDate", "EndDate"):
        value = body.get(key)
        if isinstance(value, str):
            try:
                body[key] = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise constraint_error(value, key[:1].lower() + key[1:], "Member must be a timestamp") from None
    return body


def _summary(schedule: Schedule) -> dict[str, Any]:
    config = schedule.config
    return {"Arn": config["Arn"], "Name": config["Name"], "GroupName": config["GroupName"],
            "State": config["State"], "CreationDate": config["CreationDate"],
            "LastModificationDate": config["LastModificationDate"], "Target": {"Arn": config["Target"]["Arn"]}}


def _page(items: list[dict[str, Any]], request: Request) -> tuple[list[dict[str, Any]], str | None]:
    """MaxResults/NextToken paging; the token is the next item's index."""
    token, raw_limit = request.query_params.get("NextToken"), request.query_params.get("MaxResults")
    if token is not None and not token.isdigit():
        raise ValidationException("The NextToken provided is invalid.")
    if raw_limit is not None and not (raw_limit.isdigit() and 1 <= int(raw_limit) <= PAGE):
        raise constraint_error(raw_limit, "maxResults", f"Member must have value between 1 and {PAGE}")
    start, limit = int(token or 0), int(raw_limit or PAGE)
    return items[start:start + limit], str(start + limit) if start + limit < len(items) else None


def _json(request: Request, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body).encode(), media_type="application/json",
                    headers={"x-amzn-RequestId": request_id_of(request)})
