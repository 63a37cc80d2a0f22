"""EventBridge rules and Scheduler schedules → the model (targets that are Lambda functions of the stack)."""

from __future__ import annotations

import json
from typing import Any

from ember.apps.cfn_context import Build
from ember.apps.schedule_expressions import check_expression
from ember.apps.triggers import Rule, RuleTarget, Schedule


def rule(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    expression = props.get("ScheduleExpression")
    if expression is not None:
        check_expression(str(expression), build.resolver.file)
    targets = []
    for target in props.get("Targets") or []:
        function = build.target(target.get("Arn"))
        if function is None:
            build.unsupported(logical_id, f"target {target.get('Id')} ({target.get('Arn')}): not a Lambda function")
            continue
        targets.append(RuleTarget(str(target.get("Id")), function, _text(target.get("Input")),
                                  target.get("InputPath")))
    if props.get("EventPattern") and not expression:
        build.unsupported(logical_id, "an event pattern (Ember's rules run on schedules)")
        return
    build.stack.rules.append(Rule(logical_id, build.resolver.name(logical_id), expression,
                                  props.get("EventPattern"), str(props.get("State", "ENABLED")),
                                  str(props.get("Description", "")), targets))


def schedule(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    target = props.get("Target") or {}
    function = build.target(target.get("Arn"))
    if function is None:
        build.unsupported(logical_id, f"schedule target {target.get('Arn')}: not a Lambda function")
        return
    expression = str(props["ScheduleExpression"])
    check_expression(expression, build.resolver.file, allow_at=True)
    build.stack.schedules.append(Schedule(
        logical_id, build.resolver.name(logical_id), expression, function, str(props.get("GroupName", "default")),
        props.get("ScheduleExpressionTimezone"), _text(target.get("Input")), str(props.get("State", "ENABLED")),
        props.get("FlexibleTimeWindow") or {"Mode": "OFF"}, target.get("RetryPolicy"),
        str(props.get("Description", "")), target.get("RoleArn")))


def _text(value: Any) -> str | None:
    """An Input given as a mapping is sent as JSON text, as CloudFormation does."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
