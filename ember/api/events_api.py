"""EventBridge's rules API (JSON 1.1, `X-Amz-Target: AWSEvents.*`) for rules that run on a schedule.

boto3's `events` client and `aws events` reach it on Ember's one endpoint. Rules with an
EventPattern, and PutEvents, are answered with a clear ValidationException: Ember routes no events
yet. A session's call is checked as its IAM action (`events:PutRule` …) on the rule's ARN (PutRule with
Tags also as `events:TagResource`, as AWS asks). Rules and the default bus take tags.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.api.authorization import Authorizer
from ember.api.lambda_api.body import parse_object
from ember.api.middleware import request_id_of
from ember.core.validation import check_service_request
from ember.errors import SerializationException, UnknownOperation, ValidationException
from ember.events.rules import RuleStore

PREFIX = "AWSEvents."
MEDIA_TYPE = "application/x-amz-json-1.1"
PAGE = 100
RULE_MEMBERS = ("Name", "Arn", "EventPattern", "State", "Description", "ScheduleExpression", "RoleArn", "ManagedBy",
                "EventBusName")  # ListRules' Rule shape: DescribeRule's members but CreatedBy
UNSUPPORTED = {"PutEvents": "PutEvents is not supported by Ember yet: its rules run on a ScheduleExpression, and "
                            "no events are routed to them."}


class EventsApi:
    def __init__(self, rules: RuleStore, authorizer: Authorizer) -> None:
        self.rules = rules
        self.authorizer = authorizer
        self.operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "PutRule": self.put_rule, "DescribeRule": self.describe_rule, "ListRules": self.list_rules,
            "DeleteRule": self.delete_rule, "EnableRule": self.enable_rule, "DisableRule": self.disable_rule,
            "PutTargets": self.put_targets, "RemoveTargets": self.remove_targets,
            "ListTargetsByRule": self.list_targets_by_rule, "ListRuleNamesByTarget": self.list_rule_names_by_target,
            "TagResource": self.tag_resource, "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }

    async def dispatch(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(PREFIX)
        if target.startswith(PREFIX) and operation in UNSUPPORTED:
            raise ValidationException(UNSUPPORTED[operation])
        handler = self.operations.get(operation) if target.startswith(PREFIX) else None
        if handler is None:
            raise UnknownOperation(f"Unknown operation {target or '(no X-Amz-Target)'}")
        body = parse_object(await request.body(), SerializationException)
        body = check_service_request("events", operation, body)
        name = body.get("Name") or body.get("Rule")
        resource = body.get("ResourceARN") or (self.rules.arn(name) if name else "*")
        self.authorizer.check(request, f"events:{operation}", resource)
        if operation == "PutRule" and body.get("Tags"):
            self.authorizer.check(request, "events:TagResource", resource)
        result = handler(body)
        return Response(json.dumps(result).encode(), media_type=MEDIA_TYPE,
                        headers={"x-amzn-RequestId": request_id_of(request)})

    def put_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"RuleArn": self.rules.put(body)}

    def describe_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.rules.get(body["Name"], body.get("EventBusName")).config

    def list_rules(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.check_bus(body.get("EventBusName"))
        rules = [{k: rule.config[k] for k in RULE_MEMBERS if k in rule.config}
                 for rule in self.rules.all(body.get("NamePrefix"))]
        page, token = _page(rules, body)
        return {"Rules": page, **({"NextToken": token} if token else {})}

    def delete_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.delete(body["Name"], body.get("EventBusName"))
        return {}

    def enable_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.set_state(body["Name"], "ENABLED", body.get("EventBusName"))
        return {}

    def disable_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.set_state(body["Name"], "DISABLED", body.get("EventBusName"))
        return {}

    def put_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        failed = self.rules.put_targets(body["Rule"], body["Targets"], body.get("EventBusName"))
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def remove_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        failed = self.rules.remove_targets(body["Rule"], body["Ids"], body.get("EventBusName"))
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def list_targets_by_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        page, token = _page(self.rules.get(body["Rule"], body.get("EventBusName")).targets, body)
        return {"Targets": page, **({"NextToken": token} if token else {})}

    def list_rule_names_by_target(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.check_bus(body.get("EventBusName"))
        names = [rule.name for rule in self.rules.all() if any(t["Arn"] == body["TargetArn"] for t in rule.targets)]
        page, token = _page(names, body)
        return {"RuleNames": page, **({"NextToken": token} if token else {})}

    def tag_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.tags.tag(self.rules.taggable(body["ResourceARN"]), body["Tags"])
        return {}

    def untag_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        self.rules.tags.untag(self.rules.taggable(body["ResourceARN"]), body["TagKeys"])
        return {}

    def list_tags_for_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.rules.tags.tags(self.rules.taggable(body["ResourceARN"]))}


def _page(items: list[Any], body: dict[str, Any]) -> tuple[list[Any], str | None]:
    """EventBridge's Limit/NextToken paging; the token is the next item's index."""
    token = body.get("NextToken")
    if token is not None and not token.isdigit():
        raise ValidationException("The NextToken provided is invalid.")
    start = int(token or 0)
    limit = body.get("Limit") or PAGE
    page = items[start:start + limit]
    return page, str(start + limit) if start + limit < len(items) else None
