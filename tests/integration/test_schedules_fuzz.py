"""EventBridge's and the Scheduler's APIs under fuzzing: requests generated from botocore's `events` and
`scheduler` models, valid and mutated (wrong types, values past their ranges, hostile names, expressions
of every kind). Every answer is AWS's error shape or a success: no 500, no traceback; the server lives on.

A fixed-seed slice runs with the suite; EMBER_FUZZ_SCALE and EMBER_FUZZ_RANDOM make a long run, as for
tests/integration/test_fuzz.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from conftest import EmberProcess
from fuzz_model import HOSTILE, ODD_TEXT, _mutate, serialize, value_of
from fuzz_wire import Answer, Wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration
SCALE = float(os.environ.get("EMBER_FUZZ_SCALE", "1"))
SESSION = botocore.session.get_session()
EVENTS = SESSION.get_service_model("events")
SCHEDULER = SESSION.get_service_model("scheduler")
EVENTS_OPERATIONS = ("PutRule", "DescribeRule", "ListRules", "DeleteRule", "EnableRule", "DisableRule",
                     "PutTargets", "RemoveTargets", "ListTargetsByRule", "ListRuleNamesByTarget", "PutEvents")
SCHEDULER_OPERATIONS = ("CreateSchedule", "GetSchedule", "UpdateSchedule", "DeleteSchedule", "ListSchedules",
                        "CreateScheduleGroup", "GetScheduleGroup", "DeleteScheduleGroup", "ListScheduleGroups")
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:fz"
EXPRESSIONS = st.one_of(
    st.sampled_from(["rate(1 minute)", "rate(5 minutes)", "rate(1 minutes)", "rate(0 days)", "rate(999999999 days)",
                     "cron(0 12 * * ? *)", "cron(0 0 L * ? *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * 3#5 *)",
                     "cron(0 0 LW * ? *)", "cron(0 0 31W 2 ? 2199)", "cron(* * * * ? 1970)", "cron(0/0 * * * ? *)",
                     "cron(0 0 30 2 ? *)", "at(2199-12-31T23:59:59)", "at(1970-01-01T00:00:00)",
                     "at(2026-13-01T00:00:00)", "cron(0 20-2 ? * MON-FRI *)", "cron()", "rate()", "at()"]),
    ODD_TEXT.map(lambda text: f"cron({text})"), ODD_TEXT)
NAMES = st.one_of(st.sampled_from(["fz-rule", "fz-schedule", "default"]), st.sampled_from(HOSTILE), ODD_TEXT)


def fuzz(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=not os.environ.get("EMBER_FUZZ_RANDOM"),
                    deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    server = EmberProcess(tmp_path_factory.mktemp("fuzz-schedules")).start()
    yield Wire(server.url)
    assert not [line for line in server.output if "Traceback" in line or "unexpected error" in line]
    server.stop()


def aimed(body: dict[str, Any], draw: st.DrawFn) -> None:
    """Point some members where they get past "not found" to validation and the scheduler."""
    for key in ("Name", "Rule"):
        if key in body and draw(st.booleans()):
            body[key] = draw(NAMES)
    if "ScheduleExpression" in body and draw(st.booleans()):
        body["ScheduleExpression"] = draw(EXPRESSIONS)
    target = body.get("Target")
    if isinstance(target, dict) and draw(st.booleans()):
        target["Arn"] = FUNCTION


@st.composite
def events_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    model = EVENTS.operation_model(draw(st.sampled_from(EVENTS_OPERATIONS)))
    body = draw(value_of(model.input_shape))
    aimed(body, draw)
    if draw(st.integers(0, 2)) == 0:
        draw(_mutate(model, body))
    return model.name, json.dumps(body).encode()


@st.composite
def scheduler_requests(draw: st.DrawFn) -> Any:
    model = SCHEDULER.operation_model(draw(st.sampled_from(SCHEDULER_OPERATIONS)))
    required = set(model.input_shape.required_members)
    params = {name: draw(NAMES if member.serialization["location"] == "uri" else value_of(member))
              for name, member in model.input_shape.members.items()
              if member.serialization.get("location") and (name in required or draw(st.booleans()))}
    body = draw(value_of(model.input_shape)) if model.http["method"] in ("POST", "PUT") else {}
    aimed(body, draw)
    if body and draw(st.integers(0, 2)) == 0:
        draw(_mutate(model, body))
    return serialize(model, params, json.dumps(body).encode() if body else b"")


def assert_answer(answer: Answer) -> None:
    """A success, or a 4xx in AWS's JSON error shape with a message."""
    assert answer.status < 500, f"{answer.status} for {answer.sent}: {answer.body[:500]!r}"
    assert b"Traceback" not in answer.body, answer.sent
    if answer.status >= 400:
        error = answer.error()
        assert error["__type"] == answer.headers.get("x-amzn-errortype"), answer.sent
        assert isinstance(error.get("message", error.get("Message")), str), answer.sent


@fuzz(150)
@given(request=events_requests())
def test_eventbridge_requests_get_aws_answers(wire, request):
    operation, body = request
    assert_answer(wire.send("POST", "/", body, {"X-Amz-Target": f"AWSEvents.{operation}",
                                                "Content-Type": "application/x-amz-json-1.1"}, service="events"))


@fuzz(150)
@given(built=scheduler_requests())
def test_scheduler_requests_get_aws_answers(wire, built):
    assert_answer(wire.send(built.method, built.path, built.body, built.headers, service="scheduler"))


def test_the_server_still_schedules(wire):
    answer = wire.send("POST", "/", json.dumps({"Name": "after-fuzz", "ScheduleExpression": "rate(1 hour)"}).encode(),
                       {"X-Amz-Target": "AWSEvents.PutRule", "Content-Type": "application/x-amz-json-1.1"},
                       service="events")
    assert answer.status == 200 and json.loads(answer.body)["RuleArn"].endswith(":rule/after-fuzz")
