"""Ember's Python runtime answers as AWS's awslambdaric does, byte for byte: the same handler runs on both (the
ric as a `provided` bootstrap told which python3.x it is, as AWS's managed runtimes tell it)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import pytest
from conftest import ROLE, make_zip, wait_for

HANDLER = (Path(__file__).parent / "runtimes" / "python" / "results.py").read_bytes()
CASES = ("dynamodb", "unicode", "bytes", "nested-bytes", "namedtuple", "floats", "plain", "datetime", "set")


def ric_bootstrap(runtime: str) -> bytes:
    python = os.path.normpath(sys.executable)
    return f'#!/bin/sh\nAWS_EXECUTION_ENV=AWS_Lambda_{runtime} exec {python} -m awslambdaric "$_HANDLER"\n'.encode()


@pytest.fixture(params=["python3.11", "python3.12"])
def pair(request, client):
    """(Ember's runtime, awslambdaric) functions of one python3.x, with the same handler."""
    runtime, suffix = request.param, uuid.uuid4().hex[:8]
    names = (f"ours-{suffix}", f"ric-{suffix}")
    client.create_function(FunctionName=names[0], Runtime=runtime, Role=ROLE, Handler="results.handler",
                           Code={"ZipFile": make_zip({"results.py": HANDLER})})
    client.create_function(FunctionName=names[1], Runtime="provided.al2023", Role=ROLE, Handler="results.handler",
                           Code={"ZipFile": make_zip({"results.py": HANDLER, "bootstrap": ric_bootstrap(runtime)},
                                                     {"bootstrap": 0o755})})
    yield (*names, runtime)
    for name in names:
        client.delete_function(FunctionName=name)


def answer(client, name: str, case: str) -> tuple[str | None, bytes]:
    response = client.invoke(FunctionName=name, Payload=json.dumps({"case": case}))
    return response.get("FunctionError"), response["Payload"].read()


def test_every_result_is_the_bytes_awslambdaric_answers(client, pair):
    ours, ric, runtime = pair
    for case in CASES:
        our_error, our_body = answer(client, ours, case)
        ric_error, ric_body = answer(client, ric, case)
        if ric_error:  # a MarshalError: the same type and message (the traces are each runtime's own)
            assert our_error == ric_error, (case, our_body, ric_body)
            drop = ("stackTrace", "requestId")
            assert {k: v for k, v in json.loads(our_body).items() if k not in drop} == \
                {k: v for k, v in json.loads(ric_body).items() if k not in drop}, case
        else:
            assert (our_error, our_body) == (None, ric_body), case
    raw_utf8 = "José".encode() in answer(client, ours, "unicode")[1]
    assert raw_utf8 == (runtime == "python3.12"), "raw UTF-8 from python3.12 on, \\u escapes before"


@pytest.mark.parametrize("runtime, handler, file, source", [
    ("python3.14", "index.handler", "index.py", b"def handler(event, context):\n    return 'ok'\n"),
    ("python3.12", "index.handler", "index.py", b"def handler(event, context):\n    return 'ok'\n"),
    ("nodejs24.x", "index.handler", "index.js", b"exports.handler = async () => 'ok';\n"),
])
def test_a_runtime_newer_than_what_runs_says_what_runs(ember, client, runtime, handler, file, source):
    name = f"newer-{uuid.uuid4().hex[:8]}"
    client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                           Code={"ZipFile": make_zip({file: source})})
    try:
        response = client.invoke(FunctionName=name, LogType="Tail")
        assert response["Payload"].read() == b'"ok"' and "FunctionError" not in response

        def logged() -> str:
            return "".join(json.loads(line)["m"] for path in (ember.data_dir / "logs" / name).rglob("*")
                           if path.is_file() for line in path.read_text().splitlines())

        assert wait_for(lambda: "REPORT RequestId" in logged(), timeout=10)  # written as lines arrive
        log = logged()
        if runtime.startswith("python"):
            real = f"python:3.{sys.version_info.minor}.v{sys.version_info.micro}"
            assert f"INIT_START Runtime Version: {real}\t" in log, log
            assert f"{runtime} runs on this machine's Python {sys.version.split()[0]}" in log, log
        else:
            assert "INIT_START Runtime Version: nodejs:" in log and "nodejs24.x runs on this machine's Node.js" in log
    finally:
        client.delete_function(FunctionName=name)
