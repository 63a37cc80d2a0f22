"""What a scheduled run sends its function: EventBridge's "Scheduled Event", a rule target's Input, InputPath
or InputTransformer applied to it, or a Scheduler target's Input with its context attributes filled in.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ember.config import ACCOUNT_ID
from ember.events.expressions import iso

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
SCHEDULER_ATTRIBUTES = ("schedule-arn", "scheduled-time", "execution-id", "attempt-number")


def scheduled_event(rule_arn: str, region: str, slot: float) -> dict[str, Any]:
    """The event a rule with no Input delivers, as EventBridge builds it for a schedule."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": iso(slot), "region": region, "resources": [rule_arn], "detail": {}}


def rule_payload(target: dict[str, Any], event: dict[str, Any], rule_name: str) -> bytes:
    """A rule target's payload: its constant Input, the part of the event its InputPath selects, its
    InputTransformer's template filled in, or else the whole event."""
    if target.get("Input") is not None:
        return str(target["Input"]).encode()
    if target.get("InputPath") is not None:
        return json.dumps(json_path(event, target["InputPath"])).encode()
    if target.get("InputTransformer") is not None:
        return transform(target["InputTransformer"], event, rule_name).encode()
    return json.dumps(event).encode()


def json_path(document: Any, path: str) -> Any:
    """`$`, `$.a.b`, `$.a[0]`: what EventBridge's paths name (None where nothing is)."""
    value = document
    for key, index in _PATH_PART.findall(path[1:]):
        if key and isinstance(value, dict):
            value = value.get(key)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def transform(transformer: dict[str, Any], event: dict[str, Any], rule_name: str) -> str:
    """InputTemplate with each `<name>` replaced: raw text inside a JSON string, JSON outside one."""
    values = {name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.update({"aws.events.rule-arn": event["resources"][0], "aws.events.rule-name": rule_name,
                   "aws.events.event": event, "aws.events.event.json": event,
                   "aws.events.event.ingestion-time": event["time"]})
    template = str(transformer["InputTemplate"])
    out, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        name = match[1]
        if name not in values:
            continue
        out.append(template[last:match.start()])
        value = values[name]
        if _inside_string(template, match.start()):
            text = value if isinstance(value, str) else "" if value is None else json.dumps(value)
            out.append(json.dumps(text)[1:-1])
        else:
            out.append(json.dumps(value))
        last = match.end()
    return "".join(out) + template[last:]


def _inside_string(text: str, position: int) -> bool:
    """Whether `position` falls inside a JSON string literal of `text` (unescaped quotes before it are odd)."""
    inside, escaped = False, False
    for char in text[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def scheduler_payload(target_input: str | None, schedule_arn: str, slot: float, execution_id: str,
                      attempt: int = 1) -> bytes:
    """The Scheduler passes Input verbatim, its context attributes replaced; with no Input, `{}`."""
    if target_input is None:
        return b"{}"
    values = {"schedule-arn": schedule_arn, "scheduled-time": iso(slot), "execution-id": execution_id,
              "attempt-number": str(attempt)}
    text = target_input
    for name in SCHEDULER_ATTRIBUTES:
        text = text.replace(f"<aws.scheduler.{name}>", values[name])
    return text.encode()
