"""Ember's Java runtime maps POJOs and aws-lambda-java-events classes as Lambda's Java runtime does, with AWS's
own aws-lambda-java-serialization: each handler of runtimes/java-aws/example/Mapping.java runs on Ember's java17
runtime and under AWS's Java runtime interface client (a provided.al2023 bootstrap, the behaviour suite's
java-aws build), and both answer the same bytes."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from aws_libraries import java_ric_files
from conftest import ROLE, make_zip

pytestmark = pytest.mark.integration

# What a function built on aws-lambda-java-core and -events carries in lib/; the runtime brings the rest.
FUNCTION_LIBS = ("lib/aws-lambda-java-core-", "lib/aws-lambda-java-events-", "lib/joda-time-")
ANDROID = base64.b64encode(json.dumps({"client": {"app_title": "app"}, "custom": {},
                                       "env": {"platform": "Android"}}).encode()).decode()
SCHEDULED = {"version": "0", "id": "8d1a4c3e-0000-4000-8000-000000000000", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "time": "2026-01-01T00:00:00Z",
             "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"],
             "detail": {"job": "nightly", "n": 1}}
SQS = {"Records": [{"messageId": "m1", "receiptHandle": "r1", "body": "hello", "md5OfBody": "5d41",
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
                    "messageAttributes": {"blob": {"binaryValue": base64.b64encode(b"\x00\xffbytes").decode(),
                                                   "dataType": "Binary"},
                                          "text": {"stringValue": "v", "dataType": "String"}},
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                    "awsRegion": "us-east-1"}]}
HTTP = {"version": "2.0", "routeKey": "GET /hello", "rawPath": "/hello", "rawQueryString": "name=Ada",
        "queryStringParameters": {"name": "Ada"}, "headers": {"host": "example.com"}, "isBase64Encoded": False,
        "requestContext": {"accountId": "000000000000", "apiId": "api", "domainName": "example.com",
                           "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "curl"},
                           "requestId": "id", "routeKey": "GET /hello", "stage": "$default",
                           "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000}}


def ember_files() -> dict[str, bytes]:
    """The Mapping handler's classes at the root and the libraries it was built with in lib/."""
    return {path: data for path, data in java_ric_files().items()
            if path.startswith("example/Mapping") or path.startswith(FUNCTION_LIBS)}


@pytest.fixture(scope="module")
def pair(client):
    """Per Mapping method, (Ember's java17 function, the RIC's function), each created on first use."""
    created: dict[str, tuple[str, str]] = {}

    def create(runtime: str, handler: str, code: bytes) -> str:
        name = f"map-{uuid.uuid4().hex[:10]}"
        client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Timeout=20,
                               MemorySize=1024, Code={"ZipFile": code})
        return name

    def _pair(method: str) -> tuple[str, str]:
        if method not in created:
            handler = f"example.Mapping::{method}"
            created[method] = (create("java17", handler, make_zip(ember_files())),
                               create("provided.al2023", handler, make_zip(java_ric_files(), {"bootstrap": 0o755})))
        return created[method]

    yield _pair
    for names in created.values():
        for name in names:
            client.delete_function(FunctionName=name)


def answers(client, pair, method: str, event: object, **kwargs) -> tuple[bytes, bytes, dict]:
    """(Ember's bytes, the RIC's bytes, Ember's Invoke response) for one event."""
    got = []
    for name in pair(method):
        response = client.invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
        got.append((response["Payload"].read(), response))
    return got[0][0], got[1][0], got[0][1]


@pytest.mark.parametrize(("event", "expected"), [
    ({"name": "Ada", "age": 36, "tags": ["a", "b"]}, {"name": "Ada", "age": 36, "tags": ["a", "b"], "adult": True}),
    # Names are case-sensitive and the private fields are no properties: all five are unknown, and ignored.
    ({"name": "Ada", "Name": "other", "AGE": 99, "fullName": "field", "years": 40, "extra": {"deep": [1]}},
     {"name": "Ada", "age": 0, "adult": False}),
    ({"tags": "solo"}, {"age": 0, "tags": ["solo"], "adult": False}),  # a single value read as a list
], ids=["getters-and-setters", "unknown-and-other-case-ignored", "single-value-as-list"])
def test_a_bean_is_mapped_through_its_getters_and_setters_with_nulls_left_out(client, pair, event, expected):
    ember, ric, response = answers(client, pair, "person", event)
    assert "FunctionError" not in response, ember
    assert ember == ric, "the bytes AWS's runtime answers"
    assert json.loads(ember) == expected, "nickname (and name, tags when absent) are null: left out"


def test_a_null_in_a_returned_map_is_left_out_too(client, pair):
    ember, ric, _ = answers(client, pair, "described", {"name": "Ada"})
    assert ember == ric
    assert json.loads(ember) == {"name": "Ada", "type": "Person"}, "AWS's mapper leaves out null Map values"


def test_an_android_clients_call_is_mapped_by_fields_with_gson(client, pair):
    """Lambda's Java runtime maps a call whose client context says platform Android with Gson: fields, not
    properties."""
    ember, ric, _ = answers(client, pair, "person", {"fullName": "Ada", "years": 20, "name": "ignored"},
                            ClientContext=ANDROID)
    assert ember == ric
    assert json.loads(ember) == {"fullName": "Ada", "years": 20}


@pytest.mark.parametrize(("method", "event"), [("scheduled", SCHEDULED), ("sqs", SQS), ("http", HTTP)])
def test_an_events_class_goes_in_and_out_as_aws_maps_it(client, pair, method, event):
    ember, ric, response = answers(client, pair, method, event)
    assert "FunctionError" not in response, ember
    assert ember == ric, "the same bytes: the events library's mixins, date module and ByteBuffers"
    assert json.loads(ember)  # a real answer, not an empty object


def test_a_scheduled_events_time_is_joda_time_and_its_detail_type_is_mapped(client, pair):
    ember, ric, _ = answers(client, pair, "schedule", SCHEDULED)
    assert ember == ric
    assert json.loads(ember) == {"detailType": "Scheduled Event", "time": "2026-01-01T00:00:00.000Z",
                                 "timeClass": "org.joda.time.DateTime", "detail": {"job": "nightly", "n": 1}}


def test_an_event_that_does_not_fit_fails_as_aws_runtime_fails(client, pair):
    ember, ric, response = answers(client, pair, "person", ["not", "a", "person"])
    assert response["FunctionError"] == "Unhandled"
    mine, theirs = json.loads(ember), json.loads(ric)
    assert (mine["errorType"], mine["errorMessage"]) == (theirs["errorType"], theirs["errorMessage"])
    assert mine["errorMessage"] == "An error occurred during JSON parsing"
