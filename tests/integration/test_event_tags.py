"""Tags on EventBridge rules (and the default bus) and on Scheduler schedule groups, through boto3 and the AWS CLI:
AWS's shapes, limits and errors, tags kept across a restart and gone with their resource."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config
from conftest import BIN, EmberProcess, aws_client

pytestmark = pytest.mark.integration
ARN = "arn:aws:{service}:us-east-1:000000000000:{resource}"
TOO_MANY = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("ember-tags")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def events(server):
    return aws_client(server.url, "events")


@pytest.fixture(scope="module")
def scheduler(server):
    return aws_client(server.url, "scheduler")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _error(info: pytest.ExceptionInfo) -> tuple[str, str, int]:
    response = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_rules_tags_are_set_at_creation_added_replaced_and_removed(events, server):
    name = _name("tagged")
    arn = events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)",
                          Tags=[{"Key": "team", "Value": "core"}, {"Key": "empty", "Value": ""}])["RuleArn"]
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "core"}, {"Key": "empty", "Value": ""}]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "edge"}, {"Key": "cost", "Value": "7"}])
    events.untag_resource(ResourceARN=arn, TagKeys=["empty", "never-set"])  # a key it does not have: no error
    expected = [{"Key": "team", "Value": "edge"}, {"Key": "cost", "Value": "7"}]
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == expected
    # PutRule on an existing rule ignores Tags (AWS's PutRule documentation): the rule keeps its own.
    events.put_rule(Name=name, ScheduleExpression="rate(1 hour)", Tags=[{"Key": "ignored", "Value": "x"}])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == expected
    cli = subprocess.run([str(BIN / "aws"), "events", "list-tags-for-resource", "--endpoint-url", server.url,
                          "--resource-arn", arn, "--output", "json"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                              "AWS_DEFAULT_REGION": "us-east-1"})
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == {"Tags": expected}


def test_the_default_bus_takes_tags(events):
    arn = ARN.format(service="events", resource="event-bus/default")
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "bus", "Value": "default"}])
    assert {"Key": "bus", "Value": "default"} in events.list_tags_for_resource(ResourceARN=arn)["Tags"]
    events.untag_resource(ResourceARN=arn, TagKeys=["bus"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


def test_deleting_a_rule_deletes_its_tags(events):
    name = _name("deleted")
    arn = events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)", Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
    events.delete_rule(Name=name)
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.list_tags_for_resource(ResourceARN=arn)
    assert _error(info) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.", 400)
    events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)")
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


def test_events_tag_errors_are_awss(events):
    missing = _name("missing")
    for call in (lambda arn: events.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "b"}]),
                 lambda arn: events.untag_resource(ResourceARN=arn, TagKeys=["a"]),
                 lambda arn: events.list_tags_for_resource(ResourceARN=arn)):
        with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
            call(ARN.format(service="events", resource=f"rule/{missing}"))
        assert _error(info) == ("ResourceNotFoundException", f"Rule {missing} does not exist on EventBus default.",
                                400)
    with pytest.raises(events.exceptions.ResourceNotFoundException) as info:
        events.list_tags_for_resource(ResourceARN=ARN.format(service="events", resource="rule/other-bus/r"))
    assert _error(info)[1] == "Event bus other-bus does not exist."
    with pytest.raises(events.exceptions.ClientError) as info:
        events.list_tags_for_resource(ResourceARN="arn:aws:lambda:us-east-1:000000000000:function:f")
    assert _error(info) == ("ValidationException", "Parameter ResourceARN is not valid.", 400)

    name = _name("limits")
    arn = events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)")["RuleArn"]
    refusals = {}
    for tags in (TOO_MANY, [{"Key": "aws:reserved", "Value": "v"}], [{"Key": "k" * 129, "Value": "v"}],
                 [{"Key": "k", "Value": "v" * 257}]):
        with pytest.raises(events.exceptions.ClientError) as info:
            events.tag_resource(ResourceARN=arn, Tags=tags)
        refusals[tags[0]["Key"][:4]] = _error(info)
    assert {code for code, _, _ in refusals.values()} == {"ValidationException"}
    assert "at most 50 tags" in refusals["k0"][1] and "reserved for AWS use" in refusals["aws:"][1]
    assert "Member must have length less than or equal to 128" in refusals["kkkk"][1]
    events.tag_resource(ResourceARN=arn, Tags=TOO_MANY[:50])  # exactly 50 is allowed, and re-setting one too
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k0", "Value": "again"}])
    assert len(events.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 50
    refused = _name("refused")
    with pytest.raises(events.exceptions.ClientError):
        events.put_rule(Name=refused, ScheduleExpression="rate(5 minutes)", Tags=TOO_MANY)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name=refused)  # a refused PutRule created nothing


def test_a_schedule_groups_tags_are_set_at_creation_added_and_removed(scheduler):
    name = _name("group")
    arn = scheduler.create_schedule_group(Name=name, Tags=[{"Key": "env", "Value": "dev"}])["ScheduleGroupArn"]
    assert arn == ARN.format(service="scheduler", resource=f"schedule-group/{name}")
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "me"}])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "me"}]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["env", "never-set"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "me"}]
    default = ARN.format(service="scheduler", resource="schedule-group/default")
    assert scheduler.list_tags_for_resource(ResourceArn=default)["Tags"] == []
    scheduler.delete_schedule_group(Name=name)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException) as info:
        scheduler.list_tags_for_resource(ResourceArn=arn)
    assert _error(info) == ("ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)
    scheduler.create_schedule_group(Name=name)
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


def test_scheduler_tag_errors_are_awss(scheduler, server):
    schedule = ARN.format(service="scheduler", resource="schedule/default/nightly")
    with pytest.raises(scheduler.exceptions.ValidationException) as info:
        scheduler.tag_resource(ResourceArn=schedule, Tags=[{"Key": "a", "Value": "b"}])  # schedules take no tags
    assert _error(info) == ("ValidationException", f"1 validation error detected: Value '{schedule}' at "
                            "'resourceArn' failed to satisfy constraint: Member must satisfy regular expression "
                            "pattern: ^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\\-]+:\\d{12}:schedule-group\\/"
                            "[0-9a-zA-Z-_.]+$", 400)
    missing = ARN.format(service="scheduler", resource=f"schedule-group/{_name('missing')}")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.untag_resource(ResourceArn=missing, TagKeys=["a"])
    name = _name("limits")
    arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
    for tags in (TOO_MANY, [{"Key": "AWS:x", "Value": "v"}]):
        with pytest.raises(scheduler.exceptions.ValidationException):
            scheduler.tag_resource(ResourceArn=arn, Tags=tags)
    unchecked = boto3.client("scheduler", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                             aws_secret_access_key="test", config=Config(parameter_validation=False))
    with pytest.raises(unchecked.exceptions.ValidationException) as info:  # the Scheduler's values need 1 character
        unchecked.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": ""}])
    assert "Member must have length greater than or equal to 1" in _error(info)[1]
    with pytest.raises(scheduler.exceptions.ValidationException):
        scheduler.create_schedule_group(Name=_name("refused"), Tags=TOO_MANY)
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


def test_tags_survive_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    first = EmberProcess(data_dir).start()
    try:
        rule = aws_client(first.url, "events").put_rule(Name="kept", ScheduleExpression="rate(5 minutes)",
                                                        Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
        group = aws_client(first.url, "scheduler").create_schedule_group(
            Name="kept", Tags=[{"Key": "b", "Value": "2"}])["ScheduleGroupArn"]
    finally:
        first.stop()
    second = EmberProcess(data_dir).start()
    try:
        assert aws_client(second.url, "events").list_tags_for_resource(ResourceARN=rule)["Tags"] == [
            {"Key": "a", "Value": "1"}]
        assert aws_client(second.url, "scheduler").list_tags_for_resource(ResourceArn=group)["Tags"] == [
            {"Key": "b", "Value": "2"}]
    finally:
        second.stop()
