"""Node.js handlers as AWS's Node runtime runs them: CommonJS and ESM, async, promise and callback
styles, the context object, Node's error shape, V8's heap limit, response streaming."""

from __future__ import annotations

import base64
import json
import re

import pytest
from test_streaming import read_stream

pytestmark = pytest.mark.one_mode  # no Python function: --zygote changes nothing here

CONTEXT = """exports.handler = async (event, context) => ({
  requestId: context.awsRequestId, arn: context.invokedFunctionArn, name: context.functionName,
  memory: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop, custom: context.clientContext && context.clientContext.custom,
});
"""


OUT_OF_HEAP = """const kept = [];
exports.handler = async () => {
  for (let i = 0; ; i++) kept.push({ i, items: new Array(10000).fill(i) });
};
"""


def invoke(client, name: str, event: object = None) -> tuple[dict, object]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return response, json.loads(response["Payload"].read())


@pytest.mark.parametrize(("files", "handler"), [
    ({"index.js": "exports.handler = async (e) => ({style: 'async', n: e.n});"}, "index.handler"),
    ({"index.js": "exports.handler = (e) => Promise.resolve({style: 'promise', n: e.n});"}, "index.handler"),
    ({"index.js": "exports.handler = (e, c, callback) => "
                  "{ setTimeout(() => callback(null, {style: 'callback', n: e.n}), 10); };"},
     "index.handler"),
    ({"app.mjs": "export const handler = async (e) => ({style: 'esm', n: e.n});"}, "app.handler"),
    ({"package.json": '{"type": "module"}',
      "index.js": "export const handler = async (e) => ({style: 'module', n: e.n});"},
     "index.handler"),
])
def test_handler_styles(client, deploy, files, handler):
    name = deploy(files, runtime="nodejs20.x", handler=handler)
    _, body = invoke(client, name, {"n": 7})
    assert body["n"] == 7 and body["style"] in ("async", "promise", "callback", "esm", "module")


def test_the_context_object(client, deploy):
    name = deploy({"index.js": CONTEXT}, runtime="nodejs22.x", handler="index.handler", memory=256)
    response = client.invoke(FunctionName=name, Payload=b"{}",
                             ClientContext=base64.b64encode(b'{"custom": {"k": "v"}}').decode())
    body = json.loads(response["Payload"].read())
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"] and body["name"] == name
    assert body["arn"].endswith(f":function:{name}") and body["memory"] == "256" and body["waits"] is True
    assert 0 < body["remaining"] <= 3000 and body["custom"] == {"k": "v"}


def test_nodes_error_shape_and_import_errors(client, deploy):
    failing = deploy({"index.js": "exports.handler = async () => { throw new TypeError('bad input'); };"},
                     runtime="nodejs20.x", handler="index.handler")
    response, body = invoke(client, failing)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "bad input"
    assert any("index.js" in line for line in body["trace"])
    missing = deploy({"other.js": "exports.x = 1;"}, runtime="nodejs20.x", handler="index.handler")
    _, body = invoke(client, missing)
    assert body["errorType"] == "Runtime.ImportModuleError" and "Cannot find module 'index'" in body["errorMessage"]
    not_exported = deploy({"index.js": "exports.other = () => 1;"}, runtime="nodejs20.x", handler="index.handler")
    assert invoke(client, not_exported)[1]["errorType"] == "Runtime.HandlerNotFound"
    not_there = deploy({"index.js": "const x = require('left-pad');\nexports.handler = async () => 1;"},
                       runtime="nodejs20.x", handler="index.handler")
    _, body = invoke(client, not_there)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'left-pad'")
    broken = deploy({"index.mjs": "export const handler = async () => {;"}, runtime="nodejs20.x",
                    handler="index.handler")
    _, body = invoke(client, broken)
    assert body["errorType"] == "Runtime.UserCodeSyntaxError" and body["errorMessage"].startswith("SyntaxError: ")


def test_console_lines_carry_the_request_id(client, deploy):
    name = deploy({"index.js": "exports.handler = async () => { console.log('hello', {a: 1}); return 1; };"},
                  runtime="nodejs20.x", handler="index.handler")
    response = client.invoke(FunctionName=name, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"\t{request_id}\tINFO\thello {{ a: 1 }}" in log


def test_v8_runs_out_of_heap_before_the_cgroup_oom_kills_it(client, deploy):
    """V8's heap limits sit inside MemorySize: a leak ends in Node's own fatal error, with memory to spare."""
    name = deploy({"index.js": OUT_OF_HEAP}, runtime="nodejs20.x", handler="index.handler", memory=128, timeout=60)
    response = client.invoke(FunctionName=name, LogType="Tail")
    body = json.loads(response["Payload"].read())
    log = base64.b64decode(response["LogResult"]).decode()
    assert "FATAL ERROR: " in log and "JavaScript heap out of memory" in log, log
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError", f"V8 aborted, the OOM killer did not: {body}"
    assert "signal: killed" not in body["errorMessage"]
    assert int(re.search(r"Max Memory Used: (\d+) MB", log)[1]) < 128


STREAMER = """exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write(`first ${context.functionName} `);
  await new Promise((r) => setTimeout(r, 600));
  if (event.fail) throw new TypeError("broke mid-stream");
  responseStream.write("last");
  responseStream.end();
});
"""
URL_STREAMER = """export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { "x-a": "b" } });
  responseStream.write("body");
  responseStream.end();
});
"""


def test_a_streamify_response_handler_streams_as_it_writes(client, deploy):
    name = deploy({"index.js": STREAMER}, runtime="nodejs20.x", handler="index.handler", timeout=10)
    assert client.invoke(FunctionName=name)["Payload"].read() == f"first {name} last".encode(), "a plain Invoke"
    chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name, Payload=b"{}"))
    assert b"".join(chunk for _, chunk in chunks) == f"first {name} last".encode() and "ErrorCode" not in complete
    assert chunks[-1][0] - chunks[0][0] >= 0.5, "the first write arrived before the handler finished"


def test_a_streaming_handler_that_throws_ends_the_stream_with_its_error(client, deploy):
    name = deploy({"index.js": STREAMER}, runtime="nodejs20.x", handler="index.handler", timeout=10)
    chunks, complete = read_stream(client.invoke_with_response_stream(FunctionName=name, Payload=b'{"fail": true}'))
    assert b"".join(chunk for _, chunk in chunks) == f"first {name} ".encode()
    assert complete["ErrorCode"] == "TypeError"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "broke mid-stream"
    again, _ = read_stream(client.invoke_with_response_stream(FunctionName=name, Payload=b"{}", LogType="Tail"))
    assert b"".join(chunk for _, chunk in again) == f"first {name} last".encode(), "the same runtime goes on"


def test_http_response_stream_puts_the_prelude_ahead_of_the_body(client, deploy):
    name = deploy({"index.mjs": URL_STREAMER}, runtime="nodejs20.x", handler="index.handler")
    body = client.invoke(FunctionName=name)["Payload"].read()
    prelude, rest = body.split(b"\0" * 8, 1)
    assert json.loads(prelude) == {"statusCode": 201, "headers": {"x-a": "b"}} and rest == b"body"


WAITS = """exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => console.log("timer fired"), 400);
  callback(null, "done");
};
"""


@pytest.mark.parametrize("wait", [True, False])
def test_a_callbacks_result_waits_for_an_empty_event_loop_unless_told_not_to(client, deploy, wait):
    name = deploy({"index.js": WAITS}, runtime="nodejs20.x", handler="index.handler")
    client.invoke(FunctionName=name, Payload=json.dumps({"wait": wait}))  # the cold start
    response = client.invoke(FunctionName=name, Payload=json.dumps({"wait": wait}), LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert json.loads(response["Payload"].read()) == "done"
    duration = float(re.search(r"\tDuration: ([\d.]+) ms", log)[1])
    if wait:
        assert duration >= 400 and "timer fired" in log, log
    else:
        assert duration < 400 and "timer fired" not in log.split("END RequestId")[0], log
