"""ember.events.payloads: the Scheduled Event, InputPath and InputTransformer, the Scheduler's context attributes."""

from __future__ import annotations

import json

from ember.events.payloads import json_path, rule_payload, scheduled_event, scheduler_payload, transform

RULE = "arn:aws:events:us-east-1:000000000000:rule/nightly"
EVENT = scheduled_event(RULE, "us-east-1", 1767225600.7)  # 2026-01-01T00:00:00Z


def test_the_scheduled_event_is_eventbridges():
    assert {k: v for k, v in EVENT.items() if k != "id"} == {
        "version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "account": "000000000000",
        "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [RULE], "detail": {}}
    assert len(EVENT["id"]) == 36


def test_json_paths_select_parts_of_the_event():
    assert json_path(EVENT, "$") == EVENT
    assert json_path(EVENT, "$.resources[0]") == RULE
    assert json_path(EVENT, "$.detail") == {}
    assert json_path(EVENT, "$.missing.deeper") is None


def test_input_wins_then_input_path_then_the_whole_event():
    assert rule_payload({"Input": '{"a": 1}'}, EVENT, "nightly") == b'{"a": 1}'
    assert json.loads(rule_payload({"InputPath": "$.time"}, EVENT, "nightly")) == "2026-01-01T00:00:00Z"
    assert json.loads(rule_payload({}, EVENT, "nightly")) == EVENT


def test_a_transformer_quotes_values_as_their_place_in_the_template_asks():
    transformer = {"InputPathsMap": {"time": "$.time", "res": "$.resources", "none": "$.nothing"},
                   "InputTemplate": '{"when": "at <time>", "res": <res>, "quoted": "<res>", "none": <none>, '
                                    '"rule": "<aws.events.rule-name>", "unknown": "<unknown>", "k": 1}'}
    assert json.loads(transform(transformer, EVENT, "nightly")) == {
        "when": "at 2026-01-01T00:00:00Z", "res": [RULE], "quoted": json.dumps([RULE]), "none": None,
        "rule": "nightly", "unknown": "<unknown>", "k": 1}
    constant = {"InputTemplate": '"just a string"'}
    assert json.loads(transform(constant, EVENT, "nightly")) == "just a string"


def test_the_scheduler_replaces_its_context_attributes_verbatim():
    text = '{"a": "<aws.scheduler.schedule-arn>", "t": "<aws.scheduler.scheduled-time>", ' \
           '"x": "<aws.scheduler.execution-id>", "n": <aws.scheduler.attempt-number>}'
    sent = json.loads(scheduler_payload(text, "arn:s", 1767225600.0, "abc123"))
    assert sent == {"a": "arn:s", "t": "2026-01-01T00:00:00Z", "x": "abc123", "n": 1}
    assert scheduler_payload(None, "arn:s", 0, "x") == b"{}"
    assert scheduler_payload("not json <aws.scheduler.attempt-number>", "arn:s", 0, "x") == b"not json 1"
