"""Invoke through boto3: payloads, function errors in Lambda's shapes, service errors, Tail, REPORT."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest
from conftest import lambda_client

from ember.billing.prices import get_model

ECHO = "def handler(event, context):\n    return event\n"
REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?(?:Status: (?P<status>\w+))?\n?$")


def tail(response) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def report(response) -> re.Match:
    lines = [line for line in tail(response).splitlines(keepends=True) if line.startswith("REPORT")]
    assert len(lines) == 1, tail(response)
    match = REPORT_RE.match(lines[0])
    assert match, repr(lines[0])
    return match


def test_request_response_returns_the_handler_result(client, deploy):
    name = deploy(ECHO)
    response = client.invoke(FunctionName=name, Payload=json.dumps({"a": [1, 2]}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"a": [1, 2]}


def test_none_result_is_null(client, deploy):
    name = deploy("def handler(event, context):\n    return None\n")
    assert client.invoke(FunctionName=name)["Payload"].read() == b"null"


def test_event_returns_202_and_dry_run_204(client, deploy):
    name = deploy(ECHO)
    assert client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    assert client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_context_has_every_lambda_attribute(client, deploy):
    name = deploy("""
        def handler(event, context):
            return {
                "aws_request_id": context.aws_request_id, "function_name": context.function_name,
                "function_version": context.function_version, "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb, "group": context.log_group_name,
                "stream": context.log_stream_name, "remaining": context.get_remaining_time_in_millis(),
                "identity": context.identity.cognito_identity_id,
                "client_custom": context.client_context.custom if context.client_context else None,
            }
    """, memory=256, timeout=7)
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = client.invoke(FunctionName=name, ClientContext=client_context)
    body = json.loads(response["Payload"].read())
    assert body["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == name and body["function_version"] == "$LATEST"
    assert body["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert body["memory"] == "256"
    assert body["group"] == f"/aws/lambda/{name}"
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", body["stream"])
    assert 5000 < body["remaining"] <= 7000
    assert body["identity"] is None and body["client_custom"] == {"k": "v"}


def test_lambda_environment_variables_and_the_functions_own(client, deploy):
    name = deploy("import os\ndef handler(e, c):\n    return dict(os.environ)\n", env={"MINE": "1"})
    env = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert env["MINE"] == "1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name and env["AWS_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "index.handler" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128" and env["TZ"] == ":UTC"
    assert re.match(r"^127\.0\.0\.1:\d+$", env["AWS_LAMBDA_RUNTIME_API"])


def test_exception_is_200_with_lambda_error_payload(client, deploy):
    name = deploy("def handler(event, context):\n    raise ValueError('bad input')\n")
    response = client.invoke(FunctionName=name)
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad input"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("raise ValueError('bad input')" in frame for frame in body["stackTrace"])
    assert not any("bootstrap.py" in frame for frame in body["stackTrace"])


def test_init_error_has_empty_request_id_and_next_call_retries_init(client, deploy):
    name = deploy("import no_such_module\ndef handler(e, c):\n    return 1\n")
    for _ in range(2):
        response = client.invoke(FunctionName=name, LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
        body = json.loads(response["Payload"].read())
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"].startswith("Unable to import module 'index'")
        assert body["requestId"] == ""
        assert report(response)["init"] is not None


def test_handler_missing_is_reported(client, deploy):
    name = deploy("def other(e, c):\n    return 1\n")
    body = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert body["errorType"] == "Runtime.HandlerNotFound"


def test_timeout_returns_sandbox_timedout_and_next_call_is_cold(client, deploy):
    name = deploy("import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'done'\n", timeout=1)
    response = client.invoke(FunctionName=name, Payload=b'{"s": 5}', LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"].read())
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"}
    match = report(response)
    assert match["status"] == "timeout" and match["duration"] == "1000.00"
    init = float(match["init"])  # rounded to 0.01 ms in REPORT; billing ceils the unrounded figure
    assert math.ceil(1000 + init - 0.005) <= int(match["billed"]) <= math.ceil(1000 + init + 0.005), \
        "a cold start's Init is billed too (2025)"
    again = client.invoke(FunctionName=name, Payload=b'{"s": 0}', LogType="Tail")
    assert again["Payload"].read() == b'"done"'
    assert report(again)["init"] is not None, "the timed-out environment must have been replaced"


def test_crash_is_runtime_exit_error_and_environment_is_replaced(client, deploy):
    name = deploy("import os, uuid\nME = uuid.uuid4().hex\n"
                  "def handler(e, c):\n    if e.get('crash'):\n        os._exit(3)\n    return ME\n")
    first = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    response = client.invoke(FunctionName=name, Payload=b'{"crash": true}')
    body = json.loads(response["Payload"].read())
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3"}
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) != first


def test_unknown_function_is_404(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Function not found"):
        client.invoke(FunctionName="does-not-exist")


def test_non_json_body_is_400(client, deploy):
    name = deploy(ECHO)
    with pytest.raises(client.exceptions.InvalidRequestContentException, match="Could not parse request body"):
        client.invoke(FunctionName=name, Payload=b"{not json")


def test_request_over_6mb_is_413(client, deploy):
    name = deploy(ECHO)
    with pytest.raises(client.exceptions.ClientError) as info:
        client.invoke(FunctionName=name, Payload=json.dumps("x" * (6 * 1024 * 1024 + 10)))
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Code"] == "RequestEntityTooLargeException"
    assert error["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_response_over_6mb_is_function_response_size_too_large(client, deploy):
    name = deploy("def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n")
    response = client.invoke(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."}


def test_tail_has_this_calls_lines_start_to_report(client, deploy):
    name = deploy("import logging, sys\nlogging.getLogger().setLevel(logging.INFO)\n"
                  "def handler(e, c):\n    print('hello from print')\n    sys.stderr.write('to stderr\\n')\n"
                  "    logging.info('from logging')\n    return 1\n")
    response = client.invoke(FunctionName=name, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    lines = tail(response).splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines.index("hello from print") < lines.index("to stderr"), "stdout and stderr keep their order"
    assert any(re.match(rf"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tfrom logging$", line)
               for line in lines), lines
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\t")
    assert not any(line.startswith("INIT_START") for line in lines)


def test_tail_keeps_only_the_last_4kb(client, deploy):
    name = deploy("def handler(e, c):\n    for i in range(500):\n        print(f'line {i:04d}')\n    return 1\n")
    text = tail(client.invoke(FunctionName=name, LogType="Tail"))
    assert len(text.encode()) <= 4096
    assert "line 0499" in text and "line 0000" not in text and text.rstrip("\t\n").split("\n")[-1].startswith("REPORT")


def test_report_line_format_cold_then_warm(client, deploy):
    name = deploy(ECHO, memory=192)
    cold = report(client.invoke(FunctionName=name, LogType="Tail"))
    warm = report(client.invoke(FunctionName=name, LogType="Tail"))
    assert cold["init"] is not None and warm["init"] is None
    prices = get_model("2025")  # the server's default: a cold start's Init is billed with the call
    for match in (cold, warm):
        assert match["memory"] == "192"
        init = float(match["init"]) if match["init"] else None
        # REPORT rounds Duration and Init to 0.01 ms; billing ceils the unrounded sum (4.003 ms: "4.00", billed 5)
        duration = float(match["duration"])
        low, high = prices.billed_ms(duration - 0.01, init), prices.billed_ms(duration + 0.01, init)
        assert low <= int(match["billed"]) <= high
        assert 1 <= int(match["used"]) <= 192
        assert match["status"] is None


def test_wrong_secret_is_403(ember, deploy):
    name = deploy(ECHO)
    bad = lambda_client(ember.url, secret="wrong")
    with pytest.raises(bad.exceptions.ClientError) as info:
        bad.invoke(FunctionName=name)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_unsigned_request_is_403(ember):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{ember.url}/2015-03-31/functions/")
    with info.value as error:  # it holds the unread answer and its socket: closed here, not by the GC
        assert error.code == 403
        assert error.headers["X-Amzn-ErrorType"] == "UnrecognizedClientException"


@pytest.mark.timeout(60)
@pytest.mark.one_mode  # the cap is the Environment's, whatever started its runtime; 10 s of the suite's time each
def test_init_is_capped_at_10_seconds(client, deploy):
    name = deploy("import time\ntime.sleep(30)\ndef handler(e, c):\n    return 1\n", timeout=30)
    response = client.invoke(FunctionName=name, LogType="Tail")
    body = json.loads(response["Payload"].read())
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Init timed out after 10.00 seconds"}
    assert 10000 <= float(report(response)["init"]) < 12000


def test_server_timing_names_every_phase(client, deploy):
    name = deploy("import time\ndef handler(e, c):\n    time.sleep(0.05)\n    return 1\n")
    cold = client.invoke(FunctionName=name, LogType="Tail")
    warm = client.invoke(FunctionName=name, LogType="Tail")
    for response in (cold, warm):
        header = response["ResponseMetadata"]["HTTPHeaders"]["server-timing"]
        phases = dict(item.split(";dur=") for item in header.split(", "))
        assert list(phases) == ["resolve", "acquire", "thaw", "init", "deliver", "run", "finish"]
        assert abs(float(phases["run"]) - float(report(response)["duration"])) < 0.5
        assert float(phases["run"]) >= 50
    cold_phases = dict(i.split(";dur=") for i in cold["ResponseMetadata"]["HTTPHeaders"]["server-timing"].split(", "))
    warm_phases = dict(i.split(";dur=") for i in warm["ResponseMetadata"]["HTTPHeaders"]["server-timing"].split(", "))
    # a cold start's runtime may finish Init while the server is still in `acquire`: read them together
    assert float(cold_phases["acquire"]) + float(cold_phases["init"]) > 1
    assert float(warm_phases["init"]) < 1
