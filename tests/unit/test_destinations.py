"""AWS's invocation record, and which destination ARNs are functions."""

from __future__ import annotations

import json

from ember.arns import FunctionRef
from ember.events.destinations import Response, function_destination, invocation_record, service_of

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST"


def test_a_failure_record_carries_the_response_and_its_function_error():
    body = invocation_record("r-1", ARN, "RetriesExhausted", 3, b'{"order": 1}',
                             Response("$LATEST", b'{"errorType": "ValueError"}', "Unhandled"), now=1574636905.651)
    assert json.loads(body) == {
        "version": "1.0", "timestamp": "2019-11-24T23:08:25.651Z",
        "requestContext": {"requestId": "r-1", "functionArn": ARN, "condition": "RetriesExhausted",
                           "approximateInvokeCount": 3},
        "requestPayload": {"order": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "ValueError"},
    }


def test_a_success_record_has_no_function_error_and_an_expired_one_no_response():
    success = json.loads(invocation_record("r", ARN, "Success", 1, b"{}", Response("3", b"null"), now=0))
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "3"}
    assert success["responsePayload"] is None
    expired = json.loads(invocation_record("r", ARN, "EventAgeExceeded", 0, b"{}", None, now=0))
    assert "responseContext" not in expired and "responsePayload" not in expired


def test_a_payload_that_is_not_json_travels_as_a_string():
    record = json.loads(invocation_record("r", ARN, "Success", 1, b"plain text", Response("1", b"\xff"), now=0))
    assert record["requestPayload"] == "plain text"
    assert record["responsePayload"] == "\ufffd"


def test_only_lambda_function_arns_are_function_destinations():
    assert function_destination("arn:aws:lambda:us-east-1:000000000000:function:dest") == FunctionRef("dest")
    assert function_destination("arn:aws:lambda:us-east-1:000000000000:function:dest:2") == FunctionRef("dest", "2")
    assert function_destination("arn:aws:sqs:us-east-1:000000000000:queue") is None
    assert function_destination("arn:aws:lambda:us-east-1:000000000000:layer:x:1") is None
    assert [service_of(a) for a in ("arn:aws:sns:us-east-1:1:t", "arn:aws:s3:::b", "kafka://x", "")] == \
        ["sns", "s3", "", ""]
