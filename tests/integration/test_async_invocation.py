"""Async invocation as AWS runs it: event-invoke configs, retries, destinations, the failed-events store,
and no accepted event lost to a kill -9. The server runs with `--async-retry-scale 0.01`: AWS's 1- and
2-minute retry waits take 0.6 and 1.2 s here, and a 60 s maximum event age 0.6 s."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from botocore.exceptions import BotoCoreError
from conftest import BIN, Collector, EmberProcess, lambda_client, make_zip, wait_for, wait_for_records

from ember.cli.client import ember_api

SCALE = "0.01"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
SQS = "arn:aws:sqs:us-east-1:000000000000:failures"
SNS = "arn:aws:sns:us-east-1:000000000000:dead-letters"
SINK = Collector.SEND + """
def handler(event, context):
    send(event)
    return "ok"
"""
# Fails on an event's first attempt only: /tmp outlives the call (and the environment, within a revision).
FLAKY = Collector.SEND + """
import os, time
def handler(event, context):
    marker = "/tmp/" + context.aws_request_id
    first = not os.path.exists(marker)
    send({"attempt": context.aws_request_id, "first": first, "at": time.time()})
    if first:
        open(marker, "w").close()
        raise RuntimeError("the first attempt fails")
    return {"ok": event}
"""
FAILING = Collector.SEND + """
import os, time
def handler(event, context):
    send({"attempt": context.aws_request_id, "at": time.time(), "event": event})
    if os.environ.get("MODE") != "fixed":
        raise ValueError("not yet")
    return "fixed"
"""


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    server = EmberProcess(tmp_path_factory.mktemp("async"), "--async-retry-scale", SCALE).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(fast):
    """Overrides conftest's shared-server client, so its `deploy` creates functions on `fast`."""
    return lambda_client(fast.url)


def event(client, name: str, payload: object, **args: object) -> str:
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **args)
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["RequestId"]


def records(collector: Collector, request_id: str) -> list[dict]:
    """Invocation records the sink received for one original request."""
    return [line for line in collector.lines if isinstance(line, dict)
            and line.get("requestContext", {}).get("requestId") == request_id]


def one_record(collector: Collector, request_id: str) -> dict:
    assert wait_for(lambda: records(collector, request_id), timeout=30), \
        f"no record for {request_id}; the sink got {collector.lines}"
    found = records(collector, request_id)
    assert len(found) == 1, found
    return found[0]


def attempts(collector: Collector, request_id: str) -> list[dict]:
    return [line for line in collector.lines if isinstance(line, dict) and line.get("attempt") == request_id]


def test_event_invoke_configs_put_update_get_list_delete(client, deploy):
    name, other = deploy(SINK), deploy(SINK)
    put = client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["FunctionArn"] == f"{ARN}{name}:$LATEST"
    assert put["MaximumRetryAttempts"] == 1 and "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert isinstance(put["LastModified"], datetime)
    updated = client.update_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=120, DestinationConfig={"OnSuccess": {"Destination": ARN + other}})
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120), "Update merges"
    updated = client.update_function_event_invoke_config(FunctionName=name,
                                                         DestinationConfig={"OnFailure": {"Destination": SQS}})
    assert updated["DestinationConfig"] == {"OnSuccess": {"Destination": ARN + other},
                                            "OnFailure": {"Destination": SQS}}
    got = client.get_function_event_invoke_config(FunctionName=name)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == \
        {k: v for k, v in updated.items() if k != "ResponseMetadata"}
    replaced = client.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in replaced, "Put replaces"
    assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert client.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)[
        "FunctionArn"] == f"{ARN}{name}:1"
    client.put_function_event_invoke_config(FunctionName=f"{name}:live", MaximumRetryAttempts=2)
    listed = client.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}{name}:$LATEST", f"{ARN}{name}:1", f"{ARN}{name}:live"]
    page = client.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2 and page["NextMarker"]

    client.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match=f"function {re.escape(ARN + name)}:1 "
                       "doesn't have an EventInvokeConfig"):
        client.get_function_event_invoke_config(FunctionName=name, Qualifier="1")
    client.delete_alias(FunctionName=name, Name="live")
    assert [c["FunctionArn"] for c in client.list_function_event_invoke_configs(FunctionName=name)[
        "FunctionEventInvokeConfigs"]] == [f"{ARN}{name}:$LATEST"], "a config goes with its alias"
    client.delete_function(FunctionName=name)
    deploy(SINK, name=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_event_invoke_config(FunctionName=name)  # and all of them with their function


def test_event_invoke_config_errors_are_aws_errors(fast, client, deploy):
    name, other = deploy(SINK), deploy(SINK)
    unchecked = lambda_client(fast.url, parameter_validation=False)  # boto3 itself refuses a value below a minimum
    with pytest.raises(client.exceptions.ClientError, match=r"Value '3' at 'maximumRetryAttempts' failed to satisfy "
                       r"constraint: Member must have value less than or equal to 2") as info:
        client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=3)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(client.exceptions.ClientError, match=r"Value '59' at 'maximumEventAgeInSeconds' failed to "
                       r"satisfy constraint: Member must have value greater than or equal to 60"):
        unchecked.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=59)
    with pytest.raises(client.exceptions.ClientError, match="less than or equal to 21600"):
        client.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=21601)
    with pytest.raises(client.exceptions.ClientError, match="at 'destinationConfig.onSuccess.destination' failed"):
        client.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
            "OnSuccess": {"Destination": "not-an-arn"}})
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="at least one of error handling"):
        client.put_function_event_invoke_config(FunctionName=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="The function doesn't exist."):
        client.put_function_event_invoke_config(FunctionName="no-such-function", MaximumRetryAttempts=1)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="The function doesn't exist."):
        client.put_function_event_invoke_config(FunctionName=name, Qualifier="7", MaximumRetryAttempts=1)
    for call in (client.get_function_event_invoke_config, client.delete_function_event_invoke_config):
        with pytest.raises(client.exceptions.ResourceNotFoundException,
                           match=re.escape(f"The function {ARN}{name}:$LATEST doesn't have an EventInvokeConfig")):
            call(FunctionName=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="doesn't have an EventInvokeConfig"):
        client.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="destination for itself"):
        client.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
            "OnFailure": {"Destination": ARN + name}})
    with pytest.raises(client.exceptions.InvalidParameterValueException,
                       match=re.escape(f"The destination ARN {ARN}missing is invalid.")):
        client.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
            "OnFailure": {"Destination": ARN + "missing"}})
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=re.escape(
            "DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::bucket), onFailure=null) is invalid.")):
        client.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
            "OnSuccess": {"Destination": "arn:aws:s3:::bucket"}})  # S3 takes failure records only
    client.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
        "OnSuccess": {"Destination": ARN + other + ":$LATEST"}, "OnFailure": {"Destination": "arn:aws:s3:::bucket"}})


def test_dead_letter_config_is_an_sqs_queue_or_sns_topic(client, deploy):
    name = deploy(SINK)
    config = client.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": SQS})
    assert config["DeadLetterConfig"] == {"TargetArn": SQS}
    assert client.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {"TargetArn": SQS}
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="dead letter"):
        client.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": ARN + name})
    assert "DeadLetterConfig" not in client.update_function_configuration(
        FunctionName=name, DeadLetterConfig={"TargetArn": ""})


def test_a_function_error_is_retried_a_minute_later_then_succeeds(fast, client, deploy, collector):
    sink = deploy(SINK, env={"OUT": collector.url})
    name = deploy(FLAKY, env={"OUT": collector.url})
    client.put_function_event_invoke_config(FunctionName=name,
                                            DestinationConfig={"OnSuccess": {"Destination": ARN + sink}})
    request_id = event(client, name, {"n": 1})
    record = one_record(collector, request_id)
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}{name}:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 2}
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": {"n": 1}}
    first, second = attempts(collector, request_id)
    assert (first["first"], second["first"]) == (True, False), "both attempts carry the event's request id"
    assert second["at"] - first["at"] >= 60 * float(SCALE) * 0.95, "AWS waits a minute before the first retry"
    rows = wait_for_records(fast.data_dir, 2, "request_id = ?", (request_id,))
    assert sorted((row["status"], row["source"]) for row in rows) == [("error", "event"), ("success", "event")]


def test_retries_exhausted_send_aws_record_to_the_on_failure_function(fast, client, deploy, collector):
    sink = deploy(SINK, env={"OUT": collector.url})
    name = deploy(FAILING, env={"OUT": collector.url})
    client.put_function_event_invoke_config(FunctionName=name,
                                            DestinationConfig={"OnFailure": {"Destination": ARN + sink}})
    request_id = event(client, name, {"order": 42})
    record = one_record(collector, request_id)
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}{name}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"order": 42}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    times = [line["at"] for line in attempts(collector, request_id)]
    assert len(times) == 3
    assert times[1] - times[0] >= 60 * float(SCALE) * 0.95 and times[2] - times[1] >= 120 * float(SCALE) * 0.95
    assert len(wait_for_records(fast.data_dir, 3, "request_id = ?", (request_id,))) == 3


def test_maximum_retry_attempts_zero_gives_up_after_one_attempt(fast, client, deploy, collector):
    sink = deploy(SINK, env={"OUT": collector.url})
    name = deploy(FAILING, env={"OUT": collector.url})
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                            DestinationConfig={"OnFailure": {"Destination": ARN + sink}})
    request_id = event(client, name, {})
    record = one_record(collector, request_id)
    assert (record["requestContext"]["condition"], record["requestContext"]["approximateInvokeCount"]) == \
        ("RetriesExhausted", 1)
    assert len(attempts(collector, request_id)) == 1, "the record comes after the last attempt"


def test_a_throttled_event_expires_at_its_maximum_age(fast, client, deploy, collector):
    sink = deploy(SINK, env={"OUT": collector.url})
    name = deploy(FAILING, env={"OUT": collector.url})
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)  # every call throttles
    client.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60,
                                            DestinationConfig={"OnFailure": {"Destination": ARN + sink}})
    accepted = time.time()
    request_id = event(client, name, {"late": True})
    record = one_record(collector, request_id)
    assert time.time() - accepted >= 60 * float(SCALE) * 0.95
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"late": True}
    assert "responseContext" not in record and "responsePayload" not in record, "it never reached the function"
    assert attempts(collector, request_id) == []


def ember_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMBER_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "COLUMNS": "300"}
    return subprocess.run([str(BIN / "ember"), *args], capture_output=True, text=True, env=env, timeout=60)


def test_failed_events_are_kept_listed_and_redriven(fast, client, deploy, collector, monkeypatch):
    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                       ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(key, value)  # the keys `ember_api` signs with, as the CLI's are below
    queued = deploy(FAILING, env={"OUT": collector.url})  # its records were meant for SQS and SNS
    client.put_function_event_invoke_config(FunctionName=queued, MaximumRetryAttempts=0,
                                            DestinationConfig={"OnFailure": {"Destination": SQS}})
    client.update_function_configuration(FunctionName=queued, DeadLetterConfig={"TargetArn": SNS})
    bare = deploy(FAILING, env={"OUT": collector.url})  # no destination at all
    client.put_function_event_invoke_config(FunctionName=bare, MaximumRetryAttempts=0)
    first, second, third = event(client, queued, {"i": 1}), event(client, queued, {"i": 2}), event(client, bare, {})

    def listed(name: str) -> str:
        result = ember_cli(fast.url, "events", name)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stored(name: str) -> set[str]:  # in-process, as the CLI asks: each `ember` run costs a second
        return {e["RequestId"] for e in ember_api(fast.url, "GET", f"/ember/functions/{name}/failed-events")[
            "FailedEvents"]}

    assert wait_for(lambda: stored(queued) == {first, second} and stored(bare) == {third})
    row = next(line for line in listed(queued).splitlines() if first in line)
    assert re.search(rf"{first}\s+\S+ \S+\s+RetriesExhausted\s+1\s+ValueError\s+{SQS} {SNS}$", row), row
    assert re.search(rf"{third}\s+\S+ \S+\s+RetriesExhausted\s+1\s+ValueError\s+-$", listed(bare)), listed(bare)

    client.update_function_configuration(FunctionName=queued, Environment={"Variables": {
        "OUT": collector.url, "MODE": "fixed"}})
    redriven = ember_cli(fast.url, "events", queued, "--redrive")
    assert redriven.returncode == 0 and "redrove 2 failed events" in redriven.stderr, redriven.stderr
    new_ids = dict(line.split(" -> ") for line in redriven.stdout.splitlines())
    assert set(new_ids) == {first, second}
    assert wait_for(lambda: all(attempts(collector, new) for new in new_ids.values()))
    assert attempts(collector, new_ids[first])[0]["event"] == {"i": 1}
    assert stored(queued) == set(), "a redriven event leaves the store"
    result = ember_cli(fast.url, "events", queued)
    assert result.returncode == 0 and first not in result.stdout and "0 failed events" in result.stderr
    missing = ember_cli(fast.url, "events", "no-such-function")
    assert missing.returncode == 2
    assert missing.stderr.startswith("ember: ResourceNotFoundException: Function not found") and \
        len(missing.stderr.splitlines()) == 1


RECORDER = Collector.SEND + """
import time
def handler(event, context):
    time.sleep(0.05)
    send(context.aws_request_id)
    return "ok"
"""


def test_every_accepted_event_runs_after_a_kill_9_mid_load(tmp_path, collector):
    """200 events sent 8 at a time; the server is killed with -9 once 100 were accepted (most of them not
    run yet: the function may run 2 at a time, 50 ms each). After a restart on the same data dir, every
    event that was answered 202 runs at least once; configs survive too."""
    data = tmp_path / "data"
    server = EmberProcess(data, "--async-retry-scale", SCALE).start()
    client = lambda_client(server.url)
    client.create_function(FunctionName="recorder", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/t",
                           Handler="index.handler", Code={"ZipFile": make_zip({"index.py": RECORDER})}, Timeout=10,
                           Environment={"Variables": {"OUT": collector.url}})
    client.put_function_concurrency(FunctionName="recorder", ReservedConcurrentExecutions=2)
    client.put_function_event_invoke_config(FunctionName="recorder", MaximumRetryAttempts=1)
    accepted: list[str] = []

    def send(i: int) -> None:
        try:
            accepted.append(event(client, "recorder", {"i": i}))
        except BotoCoreError:
            pass  # the server is gone: this one was never accepted

    with ThreadPoolExecutor(8) as pool:
        for i in range(200):
            pool.submit(send, i)
        assert wait_for(lambda: len(accepted) >= 100, timeout=60)
        server.stop(signal.SIGKILL)
    ran_before = set(collector.lines)
    assert len(ran_before) < len(accepted), "the kill came while accepted events were still queued"
    restarted = EmberProcess(data, "--async-retry-scale", SCALE).start()
    try:
        missing = lambda: set(accepted) - set(collector.lines)  # noqa: E731
        assert wait_for(lambda: not missing(), timeout=60), f"{len(missing())} of {len(accepted)} accepted never ran"
        config = lambda_client(restarted.url).get_function_event_invoke_config(FunctionName="recorder")
        assert config["MaximumRetryAttempts"] == 1
    finally:
        restarted.stop()
