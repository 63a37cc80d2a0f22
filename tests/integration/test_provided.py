"""Custom runtimes (`provided.al2023`): the function's own `bootstrap` speaks the Runtime API.

Clients Ember did not write: a bash + curl bootstrap in the style of AWS's custom-runtime tutorial,
and AWS's Python runtime interface client (`python -m awslambdaric`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN

pytestmark = pytest.mark.one_mode  # every bootstrap is exec'd (awslambdaric too) whatever --zygote says

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TUTORIAL_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
# Initialization: load the function handler (AWS's custom-runtime tutorial)
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE"
done
"""
TUTORIAL_FUNCTION = """function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"
  echo $RESPONSE
}
"""
RIC_BOOTSTRAP = f"""#!/bin/sh
exec {os.path.normpath(sys.executable)} -m awslambdaric "$_HANDLER"
"""
RIC_APP = """import os
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise ValueError("bad input")
    return {"count": COUNT, "task_root": os.environ["LAMBDA_TASK_ROOT"], "request_id": context.aws_request_id}
"""


@pytest.fixture
def provided(deploy):
    """A `provided.al2023` function from files; deleted after the test (conftest's `deploy`)."""
    return lambda name, files, modes, handler: deploy(files, name=name, runtime="provided.al2023", handler=handler,
                                                      modes=modes, timeout=10)


def test_the_tutorials_bash_and_curl_bootstrap_runs(client, provided):
    name = provided("tutorial-bash", {"bootstrap": TUTORIAL_BOOTSTRAP, "function.sh": TUTORIAL_FUNCTION},
                    {"bootstrap": 0o755}, "function.handler")
    response = client.invoke(FunctionName=name, Payload=b'{"text": "Hello"}', LogType="Tail")
    assert response["Payload"].read() == b"""Echoing request: '{"text": "Hello"}'"""
    log = base64.b64decode(response["LogResult"]).decode()
    assert '{"text": "Hello"}' in log and "Init Duration" in log, "the handler's stderr and a cold start"
    again = client.invoke(FunctionName=name, Payload=b'{"n": 2}')
    assert again["Payload"].read() == b"""Echoing request: '{"n": 2}'"""


def test_awslambdaric_runs_as_the_bootstrap(client, provided):
    name = provided("ric", {"bootstrap": RIC_BOOTSTRAP, "app.py": RIC_APP}, {"bootstrap": 0o755}, "app.handler")
    first = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    second = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert first["count"] == 1 and second["count"] == 2, "state kept across warm calls"
    assert first["task_root"] == "/var/task"
    failed = client.invoke(FunctionName=name, Payload=b'{"fail": true}')
    body = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad input"


def test_a_bootstrap_that_is_not_executable_is_an_invalid_entrypoint(client, provided):
    name = provided("not-executable", {"bootstrap": TUTORIAL_BOOTSTRAP}, {"bootstrap": 0o644}, "function.handler")
    response = client.invoke(FunctionName=name)
    body = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert body["errorMessage"].endswith("Error: fork/exec /var/task/bootstrap: permission denied")


def test_a_missing_bootstrap_exits_127(client, provided):
    name = provided("no-bootstrap", {"function.sh": TUTORIAL_FUNCTION}, {}, "function.handler")
    body = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 127")


def greets(greeting: str) -> Callable[[Any, str], None]:
    """A hello example's check: it greets the event's name, saying what it runs on."""
    def check(client, name: str) -> None:
        body = json.loads(client.invoke(FunctionName=name, Payload=b'{"name": "Ada"}')["Payload"].read())
        assert body == {"message": f"Hello, Ada from {greeting}!"}
    return check


def reuses_its_client(client, name: str) -> None:
    """state-reuse-node's check: the slow client is made once, during Init; warm calls count on."""
    cold = client.invoke(FunctionName=name, LogType="Tail")
    warm = client.invoke(FunctionName=name, LogType="Tail")
    first, second = json.loads(cold["Payload"].read()), json.loads(warm["Payload"].read())
    init_ms = float(base64.b64decode(cold["LogResult"]).decode().split("Init Duration: ")[1].split(" ms")[0])
    assert init_ms >= 400, "the top-level await makes the client during Init"
    assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode()
    assert (first["calls_in_this_environment"], first["cold"], second["calls_in_this_environment"],
            second["cold"]) == (1, True, 2, False)
    assert second["client_created_at"] == first["client_created_at"] and len(second["brokers"]) == 2


def test_the_examples_deploy_and_answer(ember, client, tmp_path):
    """examples/hello-provided and the Node ones as they are; examples/hello-go built as `make examples` builds it."""
    go_example = tmp_path / "hello-go"
    shutil.copytree(EXAMPLES / "hello-go", go_example, ignore=shutil.ignore_patterns("bootstrap"))
    subprocess.run(["go", "build", "-o", "bootstrap", "."], cwd=go_example, check=True, timeout=300,
                   env={**os.environ, "CGO_ENABLED": "0"})  # Go's own build cache, as `make examples` has
    for folder, name, check in ((EXAMPLES / "hello-provided", "hello-provided", greets("bash")),
                                (go_example, "hello-go", greets("Go")),
                                (EXAMPLES / "hello-node", "hello-node", greets("Node.js")),
                                (EXAMPLES / "state-reuse-node", "state-reuse-node", reuses_its_client)):
        deployed = subprocess.run([str(BIN / "ember"), "deploy", str(folder), "--name", name], capture_output=True,
                                  text=True, timeout=60, env={**os.environ, "EMBER_ENDPOINT_URL": ember.url})
        assert deployed.returncode == 0, deployed.stderr
        try:
            check(client, name)
        finally:
            client.delete_function(FunctionName=name)


CONTEXT_APP = """import os
def handler(event, context):
    return {"request_id": context.aws_request_id, "arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(), "memory": context.memory_limit_in_mb,
            "custom": context.client_context.custom if context.client_context else None,
            "trace": os.environ.get("_X_AMZN_TRACE_ID", ""), "log_stream": context.log_stream_name}
"""


def test_every_runtime_api_header_reaches_awslambdarics_context(client, provided):
    name = provided("ric-context", {"bootstrap": RIC_BOOTSTRAP, "app.py": CONTEXT_APP}, {"bootstrap": 0o755},
                    "app.handler")
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = client.invoke(FunctionName=name, ClientContext=context)
    seen = json.loads(response["Payload"].read())
    assert seen["request_id"] == response["ResponseMetadata"]["RequestId"]
    assert seen["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert 0 < seen["remaining"] <= 10_000, "from Lambda-Runtime-Deadline-Ms (Timeout 10 s)"
    assert seen["memory"] in ("128", 128) and seen["custom"] == {"k": "v"}
    assert seen["trace"].startswith("Root=1-"), "Lambda-Runtime-Trace-Id"
    assert seen["log_stream"].startswith(time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()))
