"""No name becomes a path outside its root: log groups and streams, function names, code digests.
Each traversal is answered with AWS's error, and a file planted outside the logs dir is never read."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from conftest import ROLE, EmberProcess, lambda_client, make_zip

SECRET = "planted-outside-the-logs-dir"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs-paths")
    planted = root / "planted"  # a sibling of the data dir: <data>/logs/../../planted
    planted.mkdir()
    (planted / "stolen.jsonl").write_text(json.dumps({"t": 1, "s": "stolen", "m": SECRET}) + "\n")
    started = EmberProcess(root / "data").start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def logs(server):
    return boto3.client("logs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def function(server):
    client = lambda_client(server.url)
    name = f"l-{uuid.uuid4().hex[:8]}"
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    print('hello')\n"})})
    client.invoke(FunctionName=name)
    return name


@pytest.mark.parametrize("group", ["/aws/lambda/../../planted", "/aws/lambda/../../../planted",
                                   "/aws/lambda/..", "/aws/lambda/.", "/aws/lambda/", "/aws/lambda/a/../../../planted",
                                   "../planted", "/aws/lambda/fn/../../../planted"])
def test_a_traversing_group_is_not_found_and_nothing_outside_is_read(logs, group):
    for call in (lambda: logs.filter_log_events(logGroupName=group),
                 lambda: logs.describe_log_streams(logGroupName=group)):
        with pytest.raises(logs.exceptions.ResourceNotFoundException) as caught:
            call()
        assert SECRET not in json.dumps(caught.value.response, default=str)


@pytest.mark.parametrize("group", ["/aws/lambda/x:y", "/aws/lambda/*", "/aws/lambda/a b", "", "a" * 513])
def test_a_group_off_awss_pattern_is_invalid_parameter(logs, group):
    with pytest.raises(logs.exceptions.InvalidParameterException, match="logGroupName"):
        logs.filter_log_events(logGroupName=group)


def test_stream_names_filter_but_never_reach_the_disk(logs, function):
    group = f"/aws/lambda/{function}"
    assert any("hello" in e["message"] for e in logs.filter_log_events(logGroupName=group)["events"])
    answer = logs.filter_log_events(logGroupName=group, logStreamNames=["../../../planted/stolen", "stolen"])
    assert answer["events"] == []
    with pytest.raises(logs.exceptions.InvalidParameterException, match="logStreamNames"):
        logs.filter_log_events(logGroupName=group, logStreamNames=["a:b"])
    with pytest.raises(logs.exceptions.InvalidParameterException, match="logStreamNamePrefix"):
        logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="*")


def signed_post(url: str, body: bytes, target: str) -> tuple[int, dict]:
    request = AWSRequest(method="POST", url=f"{url}/", data=body,
                         headers={"host": urlsplit(url).netloc, "X-Amz-Target": target,
                                  "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials("test", "test"), "logs", "us-east-1").add_auth(request)
    try:
        with urllib.request.urlopen(urllib.request.Request(request.url, body, dict(request.headers)), timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"a string"', b'{"logGroupName": ["/aws/lambda/x"]}',
                                  b'{"logGroupName": "/aws/lambda/x", "startTime": "soon"}'])
def test_a_body_that_is_not_a_proper_json_object_is_a_400(server, body):
    status, answer = signed_post(server.url, body, "Logs_20140328.FilterLogEvents")
    assert status == 400
    assert answer["__type"] == "SerializationException"


@pytest.mark.parametrize("name", ["../../planted", "..", "a/../b"])
def test_a_traversing_function_name_is_refused(server, name):
    client = lambda_client(server.url, parameter_validation=False)
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": "x = 1\n"})})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert sorted(p.name for p in (server.data_dir.parent / "planted").iterdir()) == ["stolen.jsonl"]
    assert name not in [f["FunctionName"] for f in client.list_functions()["Functions"]]


@pytest.mark.parametrize("digest", ["..%2F..%2Fember.db", "..%2Fember.db", "%2E%2E%2Fcredentials", "a" * 63])
def test_the_code_route_serves_only_a_digest(server, digest):
    request = AWSRequest(method="GET", url=f"{server.url}/ember/code/{digest}.zip",
                         headers={"host": urlsplit(server.url).netloc})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers)), timeout=10)
    assert caught.value.code in (403, 404)
    assert b"SQLite" not in caught.value.read()
