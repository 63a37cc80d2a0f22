"""EventBridge rules through boto3's `events` client: AWS's shapes and errors, targets, delivery of the Scheduled
Event only where the function's resource policy allows it, disabling and deleting, and the keep-warm ping.

The `clocked` server's scheduler runs 120 times the wall clock: `rate(1 minute)` runs every 0.5 s.
"""

from __future__ import annotations

import calendar
import json
import subprocess
import time
import uuid

import pytest
from conftest import BIN, aws_client, invocation_records, wait_for, wait_for_records
from scheduled import allow_rule, function, next_run, scheduled_runs, wait_for_events

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lam(clocked):
    return aws_client(clocked.url, "lambda")


@pytest.fixture(scope="module")
def events(clocked):
    return aws_client(clocked.url, "events")


@pytest.fixture(scope="module")
def logs(clocked):
    return aws_client(clocked.url, "logs")


def test_rules_are_created_described_listed_and_deleted_as_on_aws(events):
    prefix = f"crud-{uuid.uuid4().hex[:6]}"
    arn = events.put_rule(Name=f"{prefix}-a", ScheduleExpression="rate(5 minutes)", Description="five")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:000000000000:rule/{prefix}-a"
    events.put_rule(Name=f"{prefix}-b", ScheduleExpression="cron(0 12 * * ? *)", State="DISABLED")
    described = events.describe_rule(Name=f"{prefix}-a")
    assert {k: described[k] for k in ("Name", "Arn", "ScheduleExpression", "State", "Description", "EventBusName")} \
        == {"Name": f"{prefix}-a", "Arn": arn, "ScheduleExpression": "rate(5 minutes)", "State": "ENABLED",
            "Description": "five", "EventBusName": "default"}
    listed = events.list_rules(NamePrefix=prefix)["Rules"]
    assert [(r["Name"], r["State"]) for r in listed] == [(f"{prefix}-a", "ENABLED"), (f"{prefix}-b", "DISABLED")]
    first = events.list_rules(NamePrefix=prefix, Limit=1)
    assert [r["Name"] for r in first["Rules"]] == [f"{prefix}-a"]
    assert [r["Name"] for r in events.list_rules(NamePrefix=prefix, NextToken=first["NextToken"])["Rules"]] == \
        [f"{prefix}-b"]
    events.enable_rule(Name=f"{prefix}-b")
    events.disable_rule(Name=f"{prefix}-a")
    assert events.describe_rule(Name=f"{prefix}-b")["State"] == "ENABLED"
    # PutRule replaces the rule: what it leaves out is gone, State is ENABLED again.
    events.put_rule(Name=f"{prefix}-a", ScheduleExpression="rate(1 hour)")
    replaced = events.describe_rule(Name=f"{prefix}-a")
    assert replaced["ScheduleExpression"] == "rate(1 hour)" and replaced["State"] == "ENABLED"
    assert "Description" not in replaced
    for name in (f"{prefix}-a", f"{prefix}-b", f"{prefix}-never-there"):
        events.delete_rule(Name=name)  # deleting a rule that does not exist succeeds, as on AWS
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.describe_rule(Name=f"{prefix}-a")
    assert info.value.response["Error"]["Message"] == f"Rule {prefix}-a does not exist on EventBus default."
    for call in (events.enable_rule, events.disable_rule):
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            call(Name=f"{prefix}-a")


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(30 seconds)", "rate(0 minutes)", "cron(0 12 * * ?)",
    "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(0 24 * * ? *)", "cron(0 0 ? * 3#1,6#3 *)", "every 5 minutes",
    "at(2030-01-01T00:00:00)"])
def test_a_schedule_expression_aws_refuses_is_a_validation_error(events, expression):
    with pytest.raises(events.exceptions.ClientError) as info:
        events.put_rule(Name="refused", ScheduleExpression=expression)
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", "Parameter ScheduleExpression is not valid.")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_what_ember_does_not_route_yet_is_refused_clearly(events):
    with pytest.raises(events.exceptions.ClientError) as info:
        events.put_rule(Name="pattern", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "EventPattern is not supported by Ember" in info.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.ClientError) as info:
        events.put_events(Entries=[{"Source": "app", "DetailType": "thing", "Detail": "{}"}])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "PutEvents is not supported by Ember" in info.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.ClientError) as info:
        events.put_rule(Name="nothing")
    assert info.value.response["Error"]["Message"] == \
        "Parameter(s) EventPattern or ScheduleExpression must be specified."
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_rule(Name="elsewhere", ScheduleExpression="rate(1 hour)", EventBusName="orders")


def test_targets_are_limited_to_five_and_refused_ones_come_back_as_failed_entries(events, lam):
    rule = f"targets-{uuid.uuid4().hex[:6]}"
    events.put_rule(Name=rule, ScheduleExpression="rate(1 day)")
    _, arn = function(lam)
    put = events.put_targets(Rule=rule, Targets=[
        {"Id": "one", "Arn": arn}, {"Id": "bad id", "Arn": arn},
        {"Id": "queue", "Arn": "arn:aws:sqs:us-east-1:000000000000:jobs"},
        {"Id": "other-region", "Arn": arn.replace("us-east-1", "eu-west-1")},
        {"Id": "alias", "Arn": f"{arn}:live", "Input": '{"constant": true}'}])
    assert put["FailedEntryCount"] == 3
    assert [(e["TargetId"], e["ErrorCode"]) for e in put["FailedEntries"]] == \
        [("bad id", "ValidationException"), ("queue", "ValidationException"), ("other-region", "ValidationException")]
    assert put["FailedEntries"][0]["ErrorMessage"].startswith("Value 'bad id' at 'targets.2.member.id' failed to")
    listed = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert listed == [{"Id": "one", "Arn": arn}, {"Id": "alias", "Arn": f"{arn}:live", "Input": '{"constant": true}'}]
    events.put_targets(Rule=rule, Targets=[{"Id": f"t{i}", "Arn": arn} for i in range(3)])  # five now
    with pytest.raises(events.exceptions.LimitExceededException) as info:
        events.put_targets(Rule=rule, Targets=[{"Id": "sixth", "Arn": arn}])
    assert info.value.response["Error"]["Message"] == "The requested resource exceeds the maximum number allowed."
    assert events.put_targets(Rule=rule, Targets=[{"Id": "one", "Arn": arn, "Input": "[1]"}])["FailedEntryCount"] == 0
    assert len(events.list_targets_by_rule(Rule=rule)["Targets"]) == 5  # replaced by Id, not added
    with pytest.raises(events.exceptions.ClientError) as info:
        events.put_targets(Rule=rule, Targets=[{"Id": "both", "Arn": arn, "Input": "{}", "InputPath": "$.detail"}])
    assert info.value.response["Error"]["Message"] == \
        "Only one of Input, InputPath, or InputTransformer must be provided for target both."
    with pytest.raises(events.exceptions.ClientError) as info:
        events.delete_rule(Name=rule)
    assert info.value.response["Error"]["Message"] == "Rule can't be deleted since it has targets."
    removed = events.remove_targets(Rule=rule, Ids=["one", "alias", "t0", "t1", "t2", "ghost"])
    assert removed["FailedEntryCount"] == 1 and removed["FailedEntries"][0]["TargetId"] == "ghost"
    assert events.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == []
    events.delete_rule(Name=rule)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_targets(Rule=rule, Targets=[{"Id": "one", "Arn": arn}])


def test_a_rule_invokes_only_where_the_resource_policy_lets_eventbridge(clocked, events, lam, logs):
    name, arn = function(lam)
    rule = f"policy-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])
    assert wait_for(lambda: scheduled_runs(clocked.url, "rule", rule, "failed") >= 3)
    assert invocation_records(clocked.data_dir, "function = ?", (name,)) == []  # refused runs never ran
    assert sum(f"rule {rule} does not invoke" in line for line in clocked.output) == 1  # said once
    # A statement for another rule does not do.
    lam.add_permission(FunctionName=name, StatementId="other", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=f"{rule_arn}-other")
    refused = scheduled_runs(clocked.url, "rule", rule, "failed")
    assert wait_for(lambda: scheduled_runs(clocked.url, "rule", rule, "failed") >= refused + 3)
    assert invocation_records(clocked.data_dir, "function = ?", (name,)) == []
    allow_rule(lam, name, rule_arn)
    delivered = wait_for_events(logs, name, 2)
    event = delivered[0]
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["detail-type"], event["source"], event["account"], event["region"]) == \
        ("0", "Scheduled Event", "aws.events", "000000000000", "us-east-1")
    assert event["resources"] == [rule_arn] and event["detail"] == {}
    assert len(event["time"]) == 20 and event["time"].endswith("Z")
    assert len({e["id"] for e in delivered}) == len(delivered)
    rows = wait_for_records(clocked.data_dir, 2, "function = ?", (name,))
    assert {row["source"] for row in rows} == {"schedule"}
    events.remove_targets(Rule=rule, Ids=["echo"])
    events.delete_rule(Name=rule)


def test_input_input_path_and_input_transformer_shape_what_the_function_gets(clocked, events, lam, logs):
    names = [function(lam) for _ in range(3)]
    rule = f"inputs-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    for name, _ in names:
        allow_rule(lam, name, rule_arn)
    template = '{"rule": <aws.events.rule-name>, "when": "at <time>", "kind": <type>, "constant": 7}'
    events.put_targets(Rule=rule, Targets=[
        {"Id": "input", "Arn": names[0][1], "Input": json.dumps({"warm": True})},
        {"Id": "path", "Arn": names[1][1], "InputPath": "$.resources"},
        {"Id": "transformer", "Arn": names[2][1], "InputTransformer": {
            "InputPathsMap": {"time": "$.time", "type": "$.detail-type"}, "InputTemplate": template}}])
    constant = wait_for_events(logs, names[0][0], 1)[0]
    path = wait_for_events(logs, names[1][0], 1)[0]
    transformed = wait_for_events(logs, names[2][0], 1)[0]
    events.remove_targets(Rule=rule, Ids=["input", "path", "transformer"])
    events.delete_rule(Name=rule)
    assert constant == {"warm": True}
    assert path == [rule_arn]
    assert transformed["rule"] == rule and transformed["kind"] == "Scheduled Event" and transformed["constant"] == 7
    assert transformed["when"].startswith("at ") and transformed["when"].endswith("Z")


def test_a_cron_rule_runs_every_minute_it_names(clocked, events, lam, logs):
    name, arn = function(lam)
    rule = f"cron-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="cron(0/2 * * * ? *)")["RuleArn"]
    allow_rule(lam, name, rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])
    times = [e["time"] for e in wait_for_events(logs, name, 3)][:3]
    events.disable_rule(Name=rule)
    minutes = [int(t[14:16]) for t in times]
    assert all(m % 2 == 0 and t.endswith(":00Z") for m, t in zip(minutes, times, strict=True))
    assert len(set(times)) == 3


def test_disabling_stops_a_rule_and_enabling_starts_it_afresh(clocked, events, lam, logs):
    name, arn = function(lam)
    rule = f"toggle-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    allow_rule(lam, name, rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])
    wait_for_events(logs, name, 2)
    events.disable_rule(Name=rule)
    assert next_run(clocked.data_dir, rule_arn) is None  # a disabled rule has no timer
    sent = scheduled_runs(clocked.url, "rule", rule, "sent")
    time.sleep(1)  # two periods: none runs
    assert scheduled_runs(clocked.url, "rule", rule, "sent") == sent
    events.enable_rule(Name=rule)
    assert next_run(clocked.data_dir, rule_arn) is not None
    assert wait_for(lambda: scheduled_runs(clocked.url, "rule", rule, "sent") >= sent + 2)
    events.remove_targets(Rule=rule, Ids=["echo"])
    events.delete_rule(Name=rule)
    assert next_run(clocked.data_dir, rule_arn) is None


def test_a_cron_with_l_w_and_hash_is_timed_for_the_day_it_names(clocked, events):
    """Days months apart can't be waited for: `ember schedules` shows each rule's next run."""
    names = {f"last-{uuid.uuid4().hex[:6]}": "cron(0 12 L * ? *)",
             f"weekday-{uuid.uuid4().hex[:6]}": "cron(30 8 15W * ? *)",
             f"second-tuesday-{uuid.uuid4().hex[:6]}": "cron(0 9 ? * 3#2 *)",
             f"last-friday-{uuid.uuid4().hex[:6]}": "cron(15 10 ? * 6L *)"}
    for name, expression in names.items():
        events.put_rule(Name=name, ScheduleExpression=expression, State="ENABLED")
    shown = subprocess.run([str(BIN / "ember"), "schedules", "--data-dir", str(clocked.data_dir)],
                           capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert "120 times faster than the wall clock" in shown.stderr
    rows = {line.split()[1]: line.split() for line in shown.stdout.splitlines()[1:]}
    for name, expression in names.items():
        kind, _, *middle, state, targets, day, clock = rows[name]
        assert (kind, " ".join(middle), state, targets) == ("rule", expression, "ENABLED", "-")
        at = time.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S")
        weekday = (at.tm_wday + 1) % 7 + 1  # AWS's numbering: 1 = Sunday
        if name.startswith("last-friday"):
            assert (weekday, at.tm_hour, at.tm_min) == (6, 10, 15) and at.tm_mday + 7 > _days_in(at)
        elif name.startswith("last"):
            assert at.tm_mday == _days_in(at) and (at.tm_hour, at.tm_min) == (12, 0)
        elif name.startswith("weekday"):
            assert 2 <= weekday <= 6 and 14 <= at.tm_mday <= 16 and (at.tm_hour, at.tm_min) == (8, 30)
        else:
            assert weekday == 3 and 8 <= at.tm_mday <= 14 and (at.tm_hour, at.tm_min) == (9, 0)
        events.delete_rule(Name=name)


def _days_in(at: time.struct_time) -> int:
    return calendar.monthrange(at.tm_year, at.tm_mon)[1]


def test_a_five_minute_ping_keeps_one_environment_warm_past_the_keep_alive(clocked, events, lam):
    """The seed's keep-warm trick: the clocked server's keep-alive is 4 s and `rate(5 minutes)` pings every
    2.5 s, so the pinged function keeps its environment while an unpinged twin goes cold."""
    warm, warm_arn = function(lam, "def handler(event, context):\n    return 'ok'\n")
    cold, _ = function(lam, "def handler(event, context):\n    return 'ok'\n")
    rule = f"keep-warm-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(5 minutes)")["RuleArn"]
    allow_rule(lam, warm, rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "warmer", "Arn": warm_arn}])
    for name in (warm, cold):
        lam.invoke(FunctionName=name, Payload=b"{}")
    pings = wait_for_records(clocked.data_dir, 3, "function = ? AND source = 'schedule'", (warm,), timeout=20)
    for name in (warm, cold):
        lam.invoke(FunctionName=name, Payload=b"{}")
    events.remove_targets(Rule=rule, Ids=["warmer"])
    events.delete_rule(Name=rule)
    warm_rows = wait_for_records(clocked.data_dir, len(pings) + 2, "function = ?", (warm,))
    cold_rows = wait_for_records(clocked.data_dir, 2, "function = ?", (cold,))
    assert sum(row["cold"] for row in warm_rows) == 1, [(r["source"], r["cold"]) for r in warm_rows]
    assert [row["cold"] for row in cold_rows] == [1, 1]
