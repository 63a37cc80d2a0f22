"""The rules and Scheduler APIs at the front door: a session's call is its IAM action (`events:*`, `scheduler:*`) on the
rule's or schedule's ARN, decided by its role's policies; the operator may do anything."""

from __future__ import annotations

import json

import pytest
from asgi_call import call, signed
from starlette.routing import Route, Router

from ember.api.authorization import Authorizer
from ember.api.events_api import EventsApi
from ember.api.middleware import AwsApiMiddleware
from ember.api.scheduler_api import SchedulerApi
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.roles import RoleStore
from ember.events.clock import SchedulerClock
from ember.events.rules import RuleStore
from ember.events.schedules import ScheduleStore

BASE = "http://127.0.0.1:9000"
ROLE = "arn:aws:iam::000000000000:role/worker"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]})
JSON_11 = "application/x-amz-json-1.1"


@pytest.fixture
def world(tmp_path):
    db = open_database(tmp_path / "ember.db")
    roles, sessions = RoleStore(db), SessionCredentials()
    authorizer = Authorizer(roles, "us-east-1")
    rules = RuleStore(db, "us-east-1")
    schedules = ScheduleStore(db, "us-east-1", SchedulerClock())
    routes = [Route("/", EventsApi(rules, authorizer).dispatch, methods=["POST"]),
              *SchedulerApi(schedules, authorizer).routes()]
    app = AwsApiMiddleware(Router(routes=routes), credentials={"AKIAOPERATOR": "operator-secret"}, sessions=sessions,
                           region="us-east-1")
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": TRUST})
    roles.put_policy("worker", "rules", json.dumps({"Statement": [
        {"Effect": "Allow", "Action": ["events:DescribeRule", "events:PutRule"],
         "Resource": "arn:aws:events:us-east-1:000000000000:rule/mine-*"},
        {"Effect": "Allow", "Action": "scheduler:ListSchedules", "Resource": "*"}]}))
    yield app, sessions.issue("caller", ROLE)
    db.close()


def events_call(keys: dict[str, str] | None, operation: str, body: dict[str, object]):
    key, secret, token = (keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"]) \
        if keys else ("AKIAOPERATOR", "operator-secret", None)
    return signed("POST", f"{BASE}/", key, secret, token, json.dumps(body).encode(), service="events",
                  headers={"X-Amz-Target": f"AWSEvents.{operation}", "Content-Type": JSON_11})


def test_a_session_may_do_what_its_role_allows_on_the_rules_it_names(world):
    app, keys = world
    answer = call(app, events_call(keys, "PutRule", {"Name": "mine-1", "ScheduleExpression": "rate(1 hour)"}))
    assert answer.status == 200 and answer.json() == {"RuleArn": "arn:aws:events:us-east-1:000000000000:rule/mine-1"}
    assert call(app, events_call(keys, "DescribeRule", {"Name": "mine-1"})).json()["State"] == "ENABLED"
    denied = call(app, events_call(keys, "PutRule", {"Name": "theirs", "ScheduleExpression": "rate(1 hour)"}))
    assert denied.status == 403 and denied.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert denied.json()["Message"] == (
        "User: arn:aws:sts::000000000000:assumed-role/worker/caller is not authorized to perform: events:PutRule on "
        "resource: arn:aws:events:us-east-1:000000000000:rule/theirs because no identity-based policy allows the "
        "events:PutRule action")
    assert call(app, events_call(keys, "DeleteRule", {"Name": "mine-1"})).status == 403
    assert call(app, events_call(None, "DeleteRule", {"Name": "mine-1"})).status == 200  # the operator


def test_scheduler_calls_are_checked_as_scheduler_actions(world):
    app, keys = world
    session = (keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"])
    listed = call(app, signed("GET", f"{BASE}/schedules", *session, service="scheduler"))
    assert listed.status == 200 and listed.json() == {"Schedules": []}
    got = call(app, signed("GET", f"{BASE}/schedules/nightly", *session, service="scheduler"))
    assert got.status == 403 and "scheduler:GetSchedule on resource: arn:aws:scheduler:us-east-1:000000000000:" \
                                  "schedule/default/nightly" in got.json()["Message"]


def test_a_body_events_cannot_read_is_a_serialization_error(world):
    app, _ = world
    request = signed("POST", f"{BASE}/", "AKIAOPERATOR", "operator-secret", None, b"{not json", service="events",
                     headers={"X-Amz-Target": "AWSEvents.PutRule", "Content-Type": JSON_11})
    answer = call(app, request)
    assert answer.status == 400 and answer.headers["x-amzn-errortype"] == "SerializationException"
    typed = call(app, events_call(None, "PutRule", {"Name": 5}))
    assert typed.status == 400 and typed.headers["x-amzn-errortype"] == "SerializationException"
    unknown = call(app, events_call(None, "CreateEventBus", {"Name": "orders"}))
    assert unknown.headers["x-amzn-errortype"] == "UnknownOperationException"
