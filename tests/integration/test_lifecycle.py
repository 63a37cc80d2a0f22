"""The server's own life: durable async events, restarts keep functions, no orphans on stop or kill -9."""

from __future__ import annotations

import base64
import json
import os
import signal
import time

import psutil
import pytest
from conftest import CLUSTER, ROLE, Collector, EmberProcess, lambda_client, make_zip, wait_for

APPEND = Collector.SEND + """
def handler(event, context):
    send(event)
    return "ok"
"""
SLOW_WHILE_HELD = Collector.SEND + """
import time
def handler(event, context):
    while held():
        time.sleep(0.05)
    send(event)
    return "ok"
"""


def create(client, name: str, source: str, out: str = "http://127.0.0.1:9/") -> None:
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": source})}, Timeout=30,
                           Environment={"Variables": {"OUT": out}})


def test_event_invocations_run_once_each(tmp_path, collector):
    server = EmberProcess(tmp_path / "data").start()
    try:
        client = lambda_client(server.url)
        create(client, "events", APPEND, collector.url)
        for i in range(5):
            assert client.invoke(FunctionName="events", InvocationType="Event",
                                 Payload=json.dumps({"i": i}))["StatusCode"] == 202
        assert wait_for(lambda: len(collector.lines) == 5)
        time.sleep(0.5)  # deliberate: any duplicate would arrive meanwhile
        assert sorted(entry["i"] for entry in collector.lines) == [0, 1, 2, 3, 4]
    finally:
        server.stop()


def test_events_accepted_before_a_kill_run_after_restart(tmp_path, collector):
    data = tmp_path / "data"
    collector.hold = True
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    create(client, "durable", SLOW_WHILE_HELD, collector.url)
    for i in range(3):
        client.invoke(FunctionName="durable", InvocationType="Event", Payload=json.dumps({"i": i}))
    assert wait_for(server.environment_pids, timeout=10), "an event is running (held) when the server is killed"
    server.stop(signal.SIGKILL)
    assert collector.lines == [], "nothing finished before the kill"
    collector.hold = False
    restarted = EmberProcess(data).start()
    try:
        assert wait_for(lambda: {entry["i"] for entry in collector.lines} == {0, 1, 2}, timeout=30)
        time.sleep(0.5)  # deliberate: a duplicate would arrive meanwhile
        if not CLUSTER:  # environments die with the server: what ran at the kill ran again, once
            assert sorted(entry["i"] for entry in collector.lines) == [0, 1, 2]
        # In cluster mode a node agent ends a running call only once it notices the loss (its channel's EOF):
        # a handler released meanwhile may finish too. At least once, as AWS runs async events.
    finally:
        restarted.stop()


def test_restart_keeps_every_function(tmp_path):
    data = tmp_path / "data"
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    create(client, "keep-me", APPEND.replace("send(event)", "pass"))
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
    if CLUSTER and sig == signal.SIGKILL:
        pytest.skip("in cluster mode agents keep environments for --cluster-grace after a kill -9 (tests/e2e)")
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    create(client, "orphans", "import time, uuid\nME = uuid.uuid4().hex\n"
                              "def handler(e, c):\n    time.sleep(e.get('s', 0))\n    return ME\n")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        environments = [json.loads(f.result()["Payload"].read()) for f in
                        [pool.submit(client.invoke, FunctionName="orphans", Payload=b'{"s": 0.5}') for _ in range(3)]]
    assert len(set(environments)) == 3
    children = server.child_pids()
    assert len(server.environment_pids()) == 3
    assert server.stop(sig) is not None
    assert wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                                    for pid in children), timeout=10), "environments outlived the server"


def test_sigterm_finishes_an_in_flight_call(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    create(client, "inflight", "import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'finished'\n")
    client.invoke(FunctionName="inflight", InvocationType="DryRun")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(client.invoke, FunctionName="inflight")
        assert wait_for(server.environment_pids, timeout=10), "the call's environment started"
        os.kill(server.proc.pid, signal.SIGTERM)
        assert call.result()["Payload"].read() == b'"finished"'
    assert server.stop() == 0


@pytest.mark.local_backend
def test_a_zygote_that_dies_is_replaced(ember_with):
    server = ember_with()
    client = lambda_client(server.url)
    create(client, "phoenix", "def handler(e, c):\n    return 'ok'\n")
    assert client.invoke(FunctionName="phoenix")["Payload"].read() == b'"ok"'
    zygote = next(p for p in psutil.Process(server.proc.pid).children()
                  if "ember.execution.local.zygote" in " ".join(p.cmdline()))
    zygote.kill()
    # Reaped, not only dead: the server reaps its zygote when it hears the loss (Spawner._lost).
    assert wait_for(lambda: not zygote.is_running(), timeout=10), "the server did not hear its zygote die"
    response = client.invoke(FunctionName="phoenix", LogType="Tail")
    assert response["Payload"].read() == b'"ok"'
    assert "Init Duration" in base64.b64decode(response["LogResult"]).decode(), "a cold start in a new zygote"
    assert server.proc.poll() is None


TICKING = Collector.SEND + """
import time
def handler(event, context):
    for tick in range(40):
        send({"i": event["i"], "tick": tick, "at": time.time()})
        time.sleep(0.05)
    return "ok"
"""


def test_after_kill_9_no_environment_runs_on_and_only_running_events_run_twice(tmp_path, collector):
    """Under load: 40 events ticking to the outside host when the server is SIGKILLed. Nothing ticks
    after the kill (environments died with it), and only events that had started run again."""
    data = tmp_path / "data"
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    create(client, "ticking", TICKING, collector.url)
    for i in range(40):
        client.invoke(FunctionName="ticking", InvocationType="Event", Payload=json.dumps({"i": i}))
    assert wait_for(lambda: len({line["i"] for line in collector.lines}) >= 10)
    server.stop(signal.SIGKILL)
    killed_at = time.time()
    time.sleep(1.0)  # deliberate: a tick from an environment that outlived the server would land meanwhile
    late = [line for line in collector.lines if line["at"] > killed_at + 0.05]
    started_before = {line["i"] for line in collector.lines}
    assert late == [], f"{len(late)} ticks from environments that outlived the server"
    restarted = EmberProcess(data).start()
    try:
        assert wait_for(lambda: {line["i"] for line in collector.lines if line["tick"] == 39} == set(range(40)),
                        timeout=60)
        first_ticks = [line["i"] for line in collector.lines if line["tick"] == 0]
        twice = {i for i in first_ticks if first_ticks.count(i) > 1}
        assert twice <= started_before, "an event that had not started ran twice"
    finally:
        restarted.stop()
