"""Response streaming: a runtime streams its response (chunked, response mode `streaming`) and boto3's
`invoke_with_response_stream` reads it as it is produced, in AWS's event-stream framing."""

from __future__ import annotations

import base64
import json
import time

import pytest
from conftest import ROLE, make_zip

STREAMING_BOOTSTRAP = """#!/bin/bash
# A custom runtime that streams: three chunks, 0.4 s apart, as one chunked response.
set -uo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" "$API/invocation/next" >/dev/null
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  echo "streaming $REQUEST_ID" >&2
  { printf 'one '; sleep 0.4; printf 'two '; sleep 0.4; printf 'three'; } | curl -sS -X POST -T - \\
    -H "Lambda-Runtime-Function-Response-Mode: streaming" -H "Transfer-Encoding: chunked" \\
    "$API/invocation/$REQUEST_ID/response" >/dev/null
done
"""


@pytest.fixture
def function(deploy):
    """A function from files; deleted after the test (conftest's `deploy`)."""
    return lambda name, runtime, handler, files, modes: deploy(files, name=name, runtime=runtime, handler=handler,
                                                               modes=modes, timeout=10)


def read_stream(response) -> tuple[list[tuple[float, bytes]], dict]:
    chunks, complete, start = [], {}, time.monotonic()
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append((time.monotonic() - start, event["PayloadChunk"]["Payload"]))
        if "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    return chunks, complete


def test_a_streamed_response_arrives_as_it_is_produced(client, function):
    name = function("streamer", "provided.al2023", "stream.handler", {"bootstrap": STREAMING_BOOTSTRAP},
                    {"bootstrap": 0o755})
    client.invoke(FunctionName=name)  # a cold start first, so the timing below is the stream's own
    response = client.invoke_with_response_stream(FunctionName=name, LogType="Tail")
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    chunks, complete = read_stream(response)
    assert b"".join(chunk for _, chunk in chunks) == b"one two three"
    assert len(chunks) >= 2, "more than one PayloadChunk"
    assert chunks[-1][0] - chunks[0][0] >= 0.5, "the first chunk came before the last was written"
    assert "ErrorCode" not in complete and "streaming" in base64.b64decode(complete["LogResult"]).decode()


def test_a_whole_response_is_one_chunk_and_a_sync_invoke_of_a_streamer_gets_it_whole(client, function):
    name = function("whole", "python3.11", "index.handler",
                    {"index.py": "def handler(e, c):\n    return {'whole': True}\n"}, {})
    chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name))
    assert [json.loads(chunk) for _, chunk in chunks] == [{"whole": True}] and complete == {}
    streamer = function("streamer-sync", "provided.al2023", "stream.handler", {"bootstrap": STREAMING_BOOTSTRAP},
                        {"bootstrap": 0o755})
    assert client.invoke(FunctionName=streamer)["Payload"].read() == b"one two three"


def test_a_function_error_ends_the_stream_with_its_error(client, function):
    name = function("stream-fail", "python3.11", "index.handler",
                    {"index.py": "def handler(e, c):\n    raise ValueError('bad input')\n"}, {})
    chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name))
    assert chunks == [] and complete["ErrorCode"] == "ValueError"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "bad input"


def test_unknown_function_is_a_plain_404(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke_with_response_stream(FunctionName="no-such-streamer")


def go_streamer(client, go_bootstrap) -> str:
    name = "go-streamer"
    client.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="main", Timeout=10,
                           Code={"ZipFile": make_zip({"bootstrap": go_bootstrap}, {"bootstrap": 0o755})})
    return name


def test_a_go_runtime_streams_and_reports_a_mid_stream_error_in_trailers(client, go_bootstrap):
    name = go_streamer(client, go_bootstrap)
    try:
        chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name,
                                                                          Payload=b'{"op": "stream"}'))
        assert b"".join(c for _, c in chunks) == b"one two" and complete == {}
        chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name,
                                                                          Payload=b'{"op": "stream-fail"}'))
        assert b"".join(c for _, c in chunks) == b"one two", "what was streamed before the error"
        assert complete["ErrorCode"] == "StreamError"
        assert json.loads(complete["ErrorDetails"])["errorMessage"] == "broke mid-stream"
        failed = client.invoke(FunctionName=name, Payload=b'{"op": "stream-fail"}')
        assert failed["FunctionError"] == "Unhandled"
        assert json.loads(failed["Payload"].read())["errorType"] == "StreamError"
    finally:
        client.delete_function(FunctionName=name)


def test_a_stream_through_a_weighted_alias_names_the_version_that_ran(client, function):
    name = function("stream-alias", "python3.11", "index.handler",
                    {"index.py": "import os\n"
                                 "def handler(e, c):\n    return os.environ['AWS_LAMBDA_FUNCTION_VERSION']\n"},
                    {})
    one = client.publish_version(FunctionName=name)["Version"]
    client.update_function_code(FunctionName=name, ZipFile=make_zip(
        {"index.py": "import os\ndef handler(e, c):\n    return os.environ['AWS_LAMBDA_FUNCTION_VERSION']\n#2\n"}))
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    two = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=one,
                        RoutingConfig={"AdditionalVersionWeights": {two: 0.5}})
    for _ in range(6):
        response = client.invoke_with_response_stream(FunctionName=name, Qualifier="live")
        chunks, _ = read_stream(response)
        assert json.loads(b"".join(c for _, c in chunks)) == response["ExecutedVersion"]
