"""The server's own life: durable async events, restarts keep functions, no orphans on stop or kill -9."""

from __future__ import annotations

import json
import os
import signal
import time

import psutil
import pytest
from conftest import ROLE, EmberProcess, lambda_client, make_zip

APPEND = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return "ok"
"""
SLOW_WHILE_FLAGGED = """
import json, os, time
def handler(event, context):
    while os.path.exists(os.environ["OUT"] + ".slow"):
        time.sleep(0.05)
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return "ok"
"""


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def create(client, name: str, source: str, out) -> None:
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": source})}, Timeout=30,
                           Environment={"Variables": {"OUT": str(out)}})


def test_event_invocations_run_once_each(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    try:
        client = lambda_client(server.url)
        out = tmp_path / "out.jsonl"
        create(client, "events", APPEND, out)
        for i in range(5):
            assert client.invoke(FunctionName="events", InvocationType="Event",
                                 Payload=json.dumps({"i": i}))["StatusCode"] == 202
        assert wait_for(lambda: len(lines(out)) == 5)
        time.sleep(0.5)
        assert sorted(entry["i"] for entry in lines(out)) == [0, 1, 2, 3, 4]
    finally:
        server.stop()


def test_events_accepted_before_a_kill_run_after_restart(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out.jsonl"
    flag = tmp_path / "out.jsonl.slow"
    flag.touch()
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    create(client, "durable", SLOW_WHILE_FLAGGED, out)
    for i in range(3):
        client.invoke(FunctionName="durable", InvocationType="Event", Payload=json.dumps({"i": i}))
    time.sleep(0.5)
    server.stop(signal.SIGKILL)
    assert lines(out) == [], "nothing finished before the kill"
    flag.unlink()
    restarted = EmberProcess(data).start()
    try:
        assert wait_for(lambda: len(lines(out)) == 3, timeout=30)
        assert sorted(entry["i"] for entry in lines(out)) == [0, 1, 2]
    finally:
        restarted.stop()


def test_restart_keeps_every_function(tmp_path):
    data = tmp_path / "data"
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    create(client, "keep-me", APPEND, tmp_path / "o")
    server.stop()
    restarted = EmberProcess(data).start()
    try:
        client = lambda_client(restarted.url)
        assert client.get_function(FunctionName="keep-me")["Configuration"]["FunctionName"] == "keep-me"
        assert client.invoke(FunctionName="keep-me")["Payload"].read() == b'"ok"'
    finally:
        restarted.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_no_environment_outlives_the_server(tmp_path, sig):
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    create(client, "orphans", "import os, time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return os.getpid()\n",
           tmp_path / "o")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        pids = [json.loads(f.result()["Payload"].read()) for f in
                [pool.submit(client.invoke, FunctionName="orphans", Payload=b'{"s": 0.5}') for _ in range(3)]]
    assert len(set(pids)) == 3
    children = server.child_pids()
    assert set(pids) <= children
    assert server.stop(sig) is not None
    assert wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                                    for pid in children), timeout=10), "environments outlived the server"


def test_sigterm_finishes_an_in_flight_call(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    create(client, "inflight", "import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'finished'\n",
           tmp_path / "o")
    client.invoke(FunctionName="inflight", InvocationType="DryRun")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(client.invoke, FunctionName="inflight")
        time.sleep(0.3)
        os.kill(server.proc.pid, signal.SIGTERM)
        assert call.result()["Payload"].read() == b'"finished"'
    assert server.proc.wait(timeout=20) == 0
