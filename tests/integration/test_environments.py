"""Execution environments: one request each, warm reuse (most recent first), state, keep-alive."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from conftest import ROLE, lambda_client, make_zip, wait_for

# Which environment answered: its pid is 1 inside its own pid namespace, so each draws a name.
PID_AFTER_SLEEP = """
import time, uuid
ENVIRONMENT = uuid.uuid4().hex
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return ENVIRONMENT
"""
COUNTER = """
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise RuntimeError(f"failing at {COUNT}")
    return COUNT
"""


def pids_of_burst(client, name: str, n: int, sleep: float) -> list[int]:
    payload = json.dumps({"sleep": sleep})
    with ThreadPoolExecutor(n) as pool:
        calls = [pool.submit(client.invoke, FunctionName=name, Payload=payload) for _ in range(n)]
        return [json.loads(call.result()["Payload"].read()) for call in calls]


def test_concurrent_calls_get_separate_environments_then_reuse_them(client, deploy):
    name = deploy(PID_AFTER_SLEEP, timeout=10)
    first = pids_of_burst(client, name, 4, sleep=0.7)
    assert len(set(first)) == 4, "one request per environment: 4 concurrent calls need 4 environments"
    second = pids_of_burst(client, name, 4, sleep=0.7)
    assert set(second) == set(first), "a later burst reuses the warm environments"


def test_warm_environment_reuse_is_most_recent_first(client, deploy):
    name = deploy(PID_AFTER_SLEEP, timeout=10)
    pids_of_burst(client, name, 2, sleep=0.5)
    serial = {json.loads(client.invoke(FunctionName=name)["Payload"].read()) for _ in range(5)}
    assert len(serial) == 1, "sequential calls keep landing on the most recently used environment"


def test_module_state_survives_warm_calls_and_a_raised_exception(client, deploy):
    name = deploy(COUNTER)
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == 1
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == 2
    failed = client.invoke(FunctionName=name, Payload=b'{"fail": true}')
    assert json.loads(failed["Payload"].read())["errorMessage"] == "failing at 3"
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == 4


def test_updating_code_starts_fresh_environments(client, deploy):
    name = deploy(COUNTER)
    client.invoke(FunctionName=name)
    client.invoke(FunctionName=name)
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": COUNTER + "\n# v2\n"}))
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == 1


def test_state_reuse_example_pays_the_slow_client_at_init_only(client):
    from pathlib import Path

    from ember.cli.packaging import zip_folder

    folder = Path(__file__).resolve().parents[2] / "examples" / "state-reuse"
    name = "state-reuse-example"
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": zip_folder(folder)})
    try:
        import base64
        import re

        logs = []
        for _ in range(3):
            response = client.invoke(FunctionName=name, LogType="Tail")
            logs.append(base64.b64decode(response["LogResult"]).decode())
        init = re.search(r"Init Duration: ([\d.]+) ms", logs[0])
        assert init and float(init[1]) >= 400, logs[0]
        for warm in logs[1:]:
            assert "Init Duration" not in warm
            assert float(re.search(r"\tDuration: ([\d.]+) ms", warm)[1]) < 100
    finally:
        client.delete_function(FunctionName=name)


@pytest.fixture
def short_keep_alive(ember_with):
    return ember_with("--keep-alive", "1")


def test_idle_environments_are_reaped_but_busy_ones_never(short_keep_alive):
    client = lambda_client(short_keep_alive.url)
    client.create_function(FunctionName="reap", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": PID_AFTER_SLEEP})}, Timeout=10)
    before = json.loads(client.invoke(FunctionName="reap")["Payload"].read())
    assert len(short_keep_alive.environment_pids()) == 1
    busy = json.loads(client.invoke(FunctionName="reap", Payload=b'{"sleep": 3}')["Payload"].read())
    assert busy == before, "a busy environment outlives its keep-alive while it works"
    assert wait_for(lambda: not short_keep_alive.environment_pids(), timeout=10), \
        "idle environment past keep-alive was not reaped"
    after = json.loads(client.invoke(FunctionName="reap")["Payload"].read())
    assert after != before


@pytest.mark.local_backend
def test_reaped_environments_leave_no_descriptor_in_the_server(short_keep_alive):
    """Each environment costs the server a listener, a pipe and a pidfd: all closed again once it is reaped."""
    server = psutil.Process(short_keep_alive.proc.pid)
    client = lambda_client(short_keep_alive.url)
    client.create_function(FunctionName="fds", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": PID_AFTER_SLEEP})}, Timeout=10)

    def four_at_once() -> int:
        """Four environments side by side; the server's descriptors while they live."""
        with ThreadPoolExecutor(4) as pool:
            calls = [pool.submit(client.invoke, FunctionName="fds", Payload=b'{"sleep": 2}') for _ in range(4)]
            assert wait_for(lambda: len(short_keep_alive.environment_pids()) == 4, timeout=10)
            alive = server.num_fds()
            assert len({json.loads(c.result()["Payload"].read()) for c in calls}) == 4
        assert wait_for(lambda: not short_keep_alive.environment_pids(), timeout=10), "not reaped"
        return alive

    four_at_once()  # what is opened once (connections, the database, the zygote's channel) is open from here
    baseline = server.num_fds()
    assert four_at_once() >= baseline + 4, "the measure sees environments"
    assert wait_for(lambda: server.num_fds() <= baseline, timeout=5), \
        f"{server.num_fds() - baseline} descriptors left behind by 4 reaped environments"
