"""The spine's behaviour, the same on every runtime path: Ember's Python runtime, AWS's awslambdaric,
a bash + curl bootstrap, a Go binary, Ember's Node.js runtime (CommonJS, ES module and callback handlers),
AWS's Node.js aws-lambda-ric (a bootstrap bundling node_modules), Ember's Java runtime (RequestStreamHandler
and a RequestHandler POJO), and AWS's own libraries from their registries: aws-lambda-go's lambda.Start, Rust's
lambda_runtime and AWS's Java runtime interface client with aws-lambda-java-core; each speaking the Runtime API
(tests/integration/runtimes/)."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_ric import ric_files
from aws_libraries import go_binary, java_ric_files, rust_bootstrap
from conftest import ROLE, make_zip, wait_for
from test_metering import rows

from ember.billing.prices import get_model

RUNTIMES = Path(__file__).parent / "runtimes"
PATHS = ("python", "awslambdaric", "bash", "go", "node", "node-esm", "node-callback",
         "aws-lambda-ric", "java-stream", "java-pojo", "aws-lambda-go", "rust", "java-ric")
EXECUTABLE = {"bootstrap": 0o755}
MEMORY = {"java-stream": 1024, "java-pojo": 1024, "java-ric": 1024}  # as AWS advises for Java: 128 MB is 0.07 vCPU


def package(path: str, build: Callable[[str], Any]) -> tuple[str, str, bytes]:
    """(runtime, handler, zip) for one runtime path; `build` gets a session fixture's build by name."""
    handler = (RUNTIMES / "python" / "index.py").read_bytes()
    if path == "python":
        return "python3.11", "index.handler", make_zip({"index.py": handler})
    if path == "awslambdaric":
        bootstrap = f'#!/bin/sh\nexec {os.path.normpath(sys.executable)} -m awslambdaric "$_HANDLER"\n'.encode()
        return "provided.al2023", "index.handler", make_zip({"bootstrap": bootstrap, "index.py": handler}, EXECUTABLE)
    if path == "node":
        return "nodejs20.x", "index.handler", make_zip({"index.js": (RUNTIMES / "node" / "index.js").read_bytes()})
    if path == "node-esm":
        return "nodejs20.x", "index.handler", make_zip({"index.mjs": (RUNTIMES / "node" / "index.mjs").read_bytes()})
    if path == "node-callback":
        callback = (RUNTIMES / "node" / "callback.js").read_bytes()
        return "nodejs20.x", "callback.handler", make_zip({"callback.js": callback})
    if path == "aws-lambda-ric":  # AWS's Node.js ric as the bootstrap, node_modules in the zip
        files = {**ric_files(), "index.js": (RUNTIMES / "node" / "index.js").read_bytes()}
        return "provided.al2023", "index.handler", make_zip(files, EXECUTABLE)
    if path == "bash":
        return "provided.al2023", "function.handler", make_zip(
            {"bootstrap": (RUNTIMES / "bash" / "bootstrap").read_bytes()}, EXECUTABLE)
    if path == "java-stream":
        return "java17", "example.StreamHandler::handleRequest", java_zip(build("java_classes"), "Stream")
    if path == "java-pojo":
        return "java21", "example.PojoHandler", java_zip(build("java_classes"), "Pojo")
    if path == "aws-lambda-go":
        return "provided.al2023", "bootstrap", make_zip({"bootstrap": go_binary("behaviour")}, EXECUTABLE)
    if path == "rust":
        return "provided.al2023", "bootstrap", make_zip({"bootstrap": rust_bootstrap()}, EXECUTABLE)
    if path == "java-ric":
        return "provided.al2023", "example.AwsHandler::handleRequest", make_zip(java_ric_files(), EXECUTABLE)
    return "provided.al2023", "main", make_zip({"bootstrap": build("go_bootstrap")}, EXECUTABLE)


def java_zip(classes: Path, style: str) -> bytes:
    """Lambda's Java layout: the handler's classes at the root."""
    return make_zip({str(c.relative_to(classes)): c.read_bytes() for c in (classes / "example").glob("*.class")
                     if c.name.startswith((style, "Uid"))})


@pytest.fixture(params=PATHS)
def runtime_function(request, client):
    """Creates functions of one runtime path; deleted after the test."""
    created = []

    def _create(timeout: int = 5, env: dict[str, str] | None = None) -> str:
        runtime, handler, code = package(request.param, request.getfixturevalue)
        name = f"rt-{request.param}-{uuid.uuid4().hex[:8]}"
        client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Timeout=timeout,
                               MemorySize=MEMORY.get(request.param, 128), Code={"ZipFile": code},
                               Environment={"Variables": env or {}})
        created.append(name)
        return name

    yield _create
    for name in created:
        client.delete_function(FunctionName=name)


def call(client, name: str, event: dict, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_state_survives_warm_calls_and_the_log_has_report(client, runtime_function):
    name = runtime_function()
    first, body = call(client, name, {"op": "count"}, LogType="Tail")
    assert body == {"count": 1}
    log = base64.b64decode(first["LogResult"]).decode()
    assert "handling count" in log and "REPORT RequestId:" in log and "Init Duration" in log
    second, body = call(client, name, {"op": "count"}, LogType="Tail")
    assert body == {"count": 2}, "the same environment, its state kept"
    assert "Init Duration" not in base64.b64decode(second["LogResult"]).decode()


def test_a_function_error_is_lambdas_error_payload(client, runtime_function):
    response, body = call(client, runtime_function(), {"op": "fail"})
    assert response["FunctionError"] == "Unhandled" and body["errorMessage"] == "bad input"


def test_an_init_error_fails_the_call(client, runtime_function):
    response, body = call(client, runtime_function(env={"FAIL_INIT": "1"}), {"op": "count"})
    # AWS's Java RIC names only the class ("Error loading class …"); the cause is in the log, as on AWS
    assert response["FunctionError"] == "Unhandled" and ("init failed" in body["errorMessage"] or
                                                         body["errorType"] == "java.lang.ExceptionInInitializerError")


def test_timeout_and_crash_end_only_that_environment(client, runtime_function):
    name = runtime_function(timeout=1)
    _, timed_out = call(client, name, {"op": "sleep", "s": 3})
    assert timed_out["errorType"] == "Sandbox.Timedout"
    _, crashed = call(client, name, {"op": "exit"})
    assert crashed["errorType"] == "Runtime.ExitError" and crashed["errorMessage"].endswith("exit status 3")
    assert call(client, name, {"op": "count"})[1] == {"count": 1}, "a fresh environment replaced it"


def test_concurrent_calls_get_their_own_environments(ember, client, runtime_function):
    name = runtime_function()
    with ThreadPoolExecutor(3) as pool:
        calls = [pool.submit(call, client, name, {"op": "sleep", "s": 0.5}) for _ in range(3)]
        assert [c.result()[1] for c in calls] == ["slept"] * 3
    streams = ember.data_dir / "logs" / name
    assert wait_for(lambda: len(list(streams.iterdir())) >= 3, timeout=10)
    assert len(list(streams.iterdir())) == 3, "one log stream per environment"


def test_every_path_runs_in_the_sandbox(client, runtime_function):
    _, who = call(client, runtime_function(), {"op": "whoami"})
    assert who["uid"] >= 100_000 and who["task_root"] == "/var/task"


def test_every_call_is_metered_as_its_report_says(ember, client, runtime_function):
    name = runtime_function()
    responses = [call(client, name, {"op": "count"}, LogType="Tail")[0] for _ in range(2)]
    records = rows(ember.data_dir, [r["ResponseMetadata"]["RequestId"] for r in responses])
    memory = client.get_function_configuration(FunctionName=name)["MemorySize"]
    for response, cold in zip(responses, (1, 0), strict=True):
        record = records[response["ResponseMetadata"]["RequestId"]]
        report = base64.b64decode(response["LogResult"]).decode()
        assert record["billed_ms"] == int(re.search(r"Billed Duration: (\d+) ms", report)[1])
        assert record["cold"] == cold and record["memory_mb"] == memory
        expected = get_model(record["price_model"]).call_cost(record["memory_mb"], record["billed_ms"])
        assert abs(Decimal(str(record["cost_usd"])) - expected) < Decimal("1e-15")
    cold_record = records[responses[0]["ResponseMetadata"]["RequestId"]]
    assert cold_record["init_ms"] > 0 and cold_record["billed_ms"] >= cold_record["init_ms"], "Init is billed (2025)"


# The others answer "context" with an echo.
CONTEXT_PATHS = {"python", "awslambdaric", "aws-lambda-go", "rust", "java-ric"}


def test_the_context_names_the_request_and_its_deadline(client, runtime_function, request):
    if request.node.callspec.params["runtime_function"] not in CONTEXT_PATHS:
        pytest.skip("this path's handler has no context operation")
    name = runtime_function(timeout=5)
    response, found = call(client, name, {"op": "context"})
    arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert found["request_id"] == response["ResponseMetadata"]["RequestId"] and found["function_arn"] == arn
    assert 3000 < found["remaining_ms"] <= 5000
