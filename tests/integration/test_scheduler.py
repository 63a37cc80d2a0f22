"""EventBridge Scheduler through boto3's `scheduler` client: schedules and groups with AWS's shapes and errors,
Input's context attributes, the execution role, one-time schedules, flexible windows, start dates and time zones.

The `clocked` server's scheduler runs 120 times the wall clock: `rate(1 minute)` runs every 0.5 s.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import aws_client, invocation_records, wait_for, wait_for_records
from scheduled import function, next_run, scheduled_runs, scheduler_time, wait_for_events

pytestmark = pytest.mark.integration
UNKNOWN_ROLE = "arn:aws:iam::000000000000:role/scheduler-unknown"
OFF = {"Mode": "OFF"}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def lam(clocked):
    return aws_client(clocked.url, "lambda")


@pytest.fixture(scope="module")
def scheduler(clocked):
    return aws_client(clocked.url, "scheduler")


@pytest.fixture(scope="module")
def logs(clocked):
    return aws_client(clocked.url, "logs")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def error_of(info: pytest.ExceptionInfo) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_schedules_are_created_read_updated_listed_and_deleted_as_on_aws(scheduler, lam):
    _, arn = function(lam)
    name = unique("crud")
    created = scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                                        Description="daily", Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})
    assert created["ScheduleArn"] == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"
    got = scheduler.get_schedule(Name=name)
    assert {k: got[k] for k in ("Arn", "Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone",
                                "State", "ActionAfterCompletion", "FlexibleTimeWindow", "Description")} == {
        "Arn": created["ScheduleArn"], "Name": name, "GroupName": "default", "ScheduleExpression": "rate(1 day)",
        "ScheduleExpressionTimezone": "UTC", "State": "ENABLED", "ActionAfterCompletion": "NONE",
        "FlexibleTimeWindow": OFF, "Description": "daily"}
    assert got["Target"] == {"Arn": arn, "RoleArn": UNKNOWN_ROLE,
                             "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}}
    assert isinstance(got["CreationDate"], datetime)
    with pytest.raises(scheduler.exceptions.ConflictException) as info:
        scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                                  Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})
    assert error_of(info)[1] == f"Schedule {name} already exists."
    # UpdateSchedule replaces the whole schedule: what it leaves out is back to its default.
    scheduler.update_schedule(Name=name, ScheduleExpression="rate(2 days)", State="DISABLED",
                              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
                              Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE, "RetryPolicy": {"MaximumRetryAttempts": 3}})
    updated = scheduler.get_schedule(Name=name)
    assert "Description" not in updated and updated["State"] == "DISABLED"
    assert updated["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 3}
    assert updated["CreationDate"] == got["CreationDate"] and updated["LastModificationDate"] > got["CreationDate"]
    listed = scheduler.list_schedules(NamePrefix=name)["Schedules"]
    assert [(s["Name"], s["GroupName"], s["State"], s["Target"]) for s in listed] == \
        [(name, "default", "DISABLED", {"Arn": arn})]
    assert scheduler.list_schedules(NamePrefix=name, State="ENABLED")["Schedules"] == []
    scheduler.delete_schedule(Name=name)
    for call in (scheduler.get_schedule, scheduler.delete_schedule):
        with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as info:
            call(Name=name)
        assert error_of(info)[1] == f"Schedule {name} does not exist."


@pytest.mark.parametrize("change, message", [
    ({"ScheduleExpression": "rate(1 minutes)"}, "Invalid Schedule Expression rate(1 minutes)."),
    ({"ScheduleExpression": "cron(0 9 * * * *)"}, "Invalid Schedule Expression cron(0 9 * * * *)."),
    ({"ScheduleExpression": "at(2030-02-30T00:00:00)"}, "Invalid Schedule Expression at(2030-02-30T00:00:00)."),
    ({"ScheduleExpressionTimezone": "Mars/Base"}, "Invalid Schedule Expression Timezone Mars/Base."),
    ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
     "MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE."),
    ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441}},
     "1 validation error detected: Value '1441' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy "
     "constraint: Member must have value less than or equal to 1440"),
    ({"Target": {"RetryPolicy": {"MaximumRetryAttempts": 186, "MaximumEventAgeInSeconds": 86401}}},
     "2 validation errors detected: Value '186' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy "
     "constraint: Member must have value less than or equal to 185; Value '86401' at "
     "'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less "
     "than or equal to 86400"),
    ({"Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:jobs"}}, "Ember delivers to Lambda functions only"),
])
def test_what_aws_refuses_is_a_validation_error(scheduler, lam, change, message):
    _, arn = function(lam)
    request = {"Name": unique("refused"), "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": OFF,
               "Target": {"Arn": arn, "RoleArn": UNKNOWN_ROLE}}
    target = {**request["Target"], **change.pop("Target", {})}
    with pytest.raises(scheduler.exceptions.ValidationException) as info:
        scheduler.create_schedule(**{**request, **change, "Target": target})
    assert error_of(info)[1].startswith(message)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_start_and_end_dates_are_checked_and_bound_the_runs(clocked, scheduler, lam):
    _, arn = function(lam)
    now = scheduler_time(clocked.url)
    target = {"Arn": arn, "RoleArn": UNKNOWN_ROLE}
    with pytest.raises(scheduler.exceptions.ValidationException) as info:
        scheduler.create_schedule(Name=unique("early"), ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                                  Target=target, StartDate=datetime.fromtimestamp(now - 3600, UTC))
    assert error_of(info)[1] == "The StartDate you specify cannot be earlier than 5 minutes ago."
    with pytest.raises(scheduler.exceptions.ValidationException) as info:
        scheduler.create_schedule(Name=unique("inverted"), ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                                  Target=target, StartDate=datetime.fromtimestamp(now + 7200, UTC),
                                  EndDate=datetime.fromtimestamp(now + 3600, UTC))
    assert error_of(info)[1] == "The StartDate you specify must come before the EndDate."
    start = int(now + 86400)
    arn_later = scheduler.create_schedule(Name=unique("later"), ScheduleExpression="rate(1 hour)",
                                          FlexibleTimeWindow=OFF, Target=target,
                                          StartDate=datetime.fromtimestamp(start, UTC))["ScheduleArn"]
    assert next_run(clocked.data_dir, arn_later) == (start, start)  # a rate starts at its StartDate


def test_groups_hold_schedules_and_take_them_when_deleted(clocked, scheduler, lam):
    _, arn = function(lam)
    group = unique("group")
    group_arn = scheduler.create_schedule_group(Name=group)["ScheduleGroupArn"]
    assert group_arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{group}"
    got = scheduler.get_schedule_group(Name=group)
    assert (got["Arn"], got["Name"], got["State"]) == (group_arn, group, "ACTIVE")
    names = {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}
    assert {"default", group} <= names
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name=group)
    schedule_arn = scheduler.create_schedule(Name="inside", GroupName=group, ScheduleExpression="rate(1 day)",
                                             FlexibleTimeWindow=OFF,
                                             Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})["ScheduleArn"]
    assert schedule_arn.endswith(f":schedule/{group}/inside")
    assert scheduler.get_schedule(Name="inside", GroupName=group)["GroupName"] == group
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name="inside")  # it is not in the default group
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]] == ["inside"]
    assert next_run(clocked.data_dir, schedule_arn) is not None
    scheduler.delete_schedule_group(Name=group)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name="inside", GroupName=group)
    assert next_run(clocked.data_dir, schedule_arn) is None
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as info:
        scheduler.get_schedule_group(Name=group)
    assert error_of(info)[1] == f"Schedule group {group} does not exist."
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.create_schedule(Name="orphan", GroupName=group, ScheduleExpression="rate(1 day)",
                                  FlexibleTimeWindow=OFF, Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})
    with pytest.raises(scheduler.exceptions.ValidationException):
        scheduler.delete_schedule_group(Name="default")


def test_input_reaches_the_function_verbatim_with_its_context_attributes(clocked, scheduler, lam, logs):
    name, arn = function(lam)
    schedule = unique("context")
    template = {"arn": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>",
                "id": "<aws.scheduler.execution-id>", "attempt": "<aws.scheduler.attempt-number>", "kept": "<other>"}
    schedule_arn = scheduler.create_schedule(
        Name=schedule, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE, "Input": json.dumps(template)})["ScheduleArn"]
    delivered = wait_for_events(logs, name, 3)[:3]
    scheduler.delete_schedule(Name=schedule)
    for event in delivered:
        assert event["arn"] == schedule_arn and event["attempt"] == "1" and event["kept"] == "<other>"
        assert re.fullmatch(r"[0-9a-f]{16}", event["id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    stamps = [datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ").timestamp() for e in delivered]
    assert [round(b - a) for a, b in zip(stamps, stamps[1:], strict=False)] == [60, 60]
    assert len({e["id"] for e in delivered}) == 3
    rows = wait_for_records(clocked.data_dir, 3, "function = ?", (name,))
    assert {row["source"] for row in rows} == {"schedule"}
    with urllib.request.urlopen(f"{clocked.url}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert f'faas_invocations_total{{faas_name="{name}",faas_trigger="timer",faas_version="$LATEST"}}' in metrics
    assert sum("role/scheduler-unknown is not known to Ember" in line for line in clocked.output) == 1


def test_the_execution_role_must_allow_invoking_the_function(clocked, scheduler, lam):
    iam = aws_client(clocked.url, "iam")
    name, arn = function(lam, "def handler(event, context):\n    return 'ok'\n")
    role = unique("scheduler-role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    schedule = unique("role")
    scheduler.create_schedule(Name=schedule, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
                              Target={"Arn": arn, "RoleArn": role_arn})
    label = f"default/{schedule}"
    assert wait_for(lambda: scheduled_runs(clocked.url, "schedule", label, "failed") >= 2)
    assert invocation_records(clocked.data_dir, "function = ?", (name,)) == []
    assert sum(f"schedule {label} does not invoke" in line for line in clocked.output) == 1
    iam.put_role_policy(RoleName=role, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]}))
    wait_for_records(clocked.data_dir, 2, "function = ?", (name,))
    scheduler.delete_schedule(Name=schedule)


def test_a_one_time_schedule_runs_once_then_deletes_itself_if_asked(clocked, scheduler, lam, logs):
    name, arn = function(lam)
    at = datetime.fromtimestamp(scheduler_time(clocked.url) + 120, UTC)  # 1 s from now
    expression = f"at({at:%Y-%m-%dT%H:%M:%S})"
    deleted, kept = unique("once-delete"), unique("once-keep")
    target = {"Arn": arn, "RoleArn": UNKNOWN_ROLE, "Input": '{"at": "<aws.scheduler.scheduled-time>"}'}
    scheduler.create_schedule(Name=deleted, ScheduleExpression=expression, FlexibleTimeWindow=OFF, Target=target,
                              ActionAfterCompletion="DELETE")
    kept_arn = scheduler.create_schedule(Name=kept, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
                                         Target=target)["ScheduleArn"]
    delivered = wait_for_events(logs, name, 2)
    assert [e["at"] for e in delivered] == [f"{at:%Y-%m-%dT%H:%M:%S}Z"] * 2
    assert wait_for(lambda: not scheduler.list_schedules(NamePrefix=deleted)["Schedules"])
    assert scheduler.get_schedule(Name=kept)["State"] == "ENABLED"  # NONE keeps it, with no run left
    assert next_run(clocked.data_dir, kept_arn) is None
    scheduler.delete_schedule(Name=kept)


def test_a_one_time_schedule_in_a_time_zone_runs_at_that_wall_time(clocked, scheduler, lam):
    _, arn = function(lam)
    wall = datetime.fromtimestamp(scheduler_time(clocked.url) + 86400 * 30, ZoneInfo("Asia/Kolkata"))
    expression = f"at({wall:%Y-%m-%dT%H:%M:%S})"
    schedule_arn = scheduler.create_schedule(Name=unique("kolkata"), ScheduleExpression=expression,
                                             ScheduleExpressionTimezone="Asia/Kolkata", FlexibleTimeWindow=OFF,
                                             Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})["ScheduleArn"]
    assert next_run(clocked.data_dir, schedule_arn) == (int(wall.timestamp()), int(wall.timestamp()))


def test_a_cron_in_a_time_zone_runs_at_its_wall_time_and_a_flexible_window_within_it(clocked, scheduler, lam):
    _, arn = function(lam)
    schedule_arn = scheduler.create_schedule(
        Name=unique("new-york"), ScheduleExpression="cron(30 9 * * ? *)", ScheduleExpressionTimezone="America/New_York",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target={"Arn": arn, "RoleArn": UNKNOWN_ROLE})["ScheduleArn"]
    timer = next_run(clocked.data_dir, schedule_arn)
    assert timer is not None
    slot, due = timer
    local = datetime.fromtimestamp(slot, ZoneInfo("America/New_York"))
    assert (local.hour, local.minute, local.second) == (9, 30, 0)
    assert 0 <= slot - scheduler_time(clocked.url) <= 86400
    assert slot <= due <= slot + 15 * 60


def test_a_disabled_schedule_has_no_runs_until_enabled(clocked, scheduler, lam):
    _, arn = function(lam)
    name = unique("disabled")
    target = {"Arn": arn, "RoleArn": UNKNOWN_ROLE}
    schedule_arn = scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                                             Target=target, State="DISABLED")["ScheduleArn"]
    assert next_run(clocked.data_dir, schedule_arn) is None
    before = time.time()
    scheduler.update_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF, Target=target)
    timer = next_run(clocked.data_dir, schedule_arn)
    assert timer is not None and timer[0] >= before  # a rate without a StartDate runs at once
    scheduler.delete_schedule(Name=name)
