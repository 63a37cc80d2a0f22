"""Environments in cgroups: memory limit and OOM, CPU proportional to memory, pids limit, cleanup."""

from __future__ import annotations

import base64
import json
import re
import signal
from pathlib import Path

from conftest import ROLE, EmberProcess, lambda_client, make_zip, wait_for_records

from ember.execution.local.cgroups import detect

# Where this machine keeps the memory controller (a v1 hierarchy here; the cgroup2 root elsewhere).
CGROUP_MEMORY = detect(Path("/proc/mounts").read_text())["memory"].root


def report(response) -> str:
    return [line for line in base64.b64decode(response["LogResult"]).decode().splitlines()
            if line.startswith("REPORT")][0]


def test_out_of_memory_is_lambdas_error_and_the_environment_is_replaced(client, deploy):
    name = deploy("def handler(e, c):\n    if e.get('big'):\n        x = bytearray(300 * 1024 * 1024)\n"
                  "    return 'ok'\n", memory=128)
    response = client.invoke(FunctionName=name, Payload=b'{"big": true}', LogType="Tail")
    body = json.loads(response["Payload"].read())
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.OutOfMemory",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"}
    assert "\tMax Memory Used: 128 MB\t" in report(response)
    assert client.invoke(FunctionName=name)["Payload"].read() == b'"ok"'


def test_max_memory_used_comes_from_the_cgroup(client, deploy):
    name = deploy("KEEP = []\ndef handler(e, c):\n    KEEP.append(bytearray(60 * 1024 * 1024))\n    return 1\n",
                  memory=256)
    used = int(re.search(r"Max Memory Used: (\d+) MB", report(client.invoke(FunctionName=name, LogType="Tail")))[1])
    assert 60 <= used <= 256


def test_cpu_is_proportional_to_memory(client, deploy):
    busy = ("import time\ndef handler(e, c):\n    start, cpu = time.monotonic(), time.process_time()\n"
            "    while time.monotonic() - start < 0.6:\n        pass\n"
            "    return (time.process_time() - cpu) / (time.monotonic() - start)\n")
    small = deploy(busy, memory=128, timeout=5)
    share = json.loads(client.invoke(FunctionName=small)["Payload"].read())
    assert 0.03 <= share <= 0.15, f"128 MB should get ~{128 / 1769:.3f} of a CPU, got {share:.3f}"


def test_pids_limit_contains_a_thread_bomb(client, deploy):
    name = deploy("import threading, time\ndef handler(e, c):\n    started = 0\n    try:\n"
                  "        while started < 5000:\n"
                  "            threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
                  "            started += 1\n    except RuntimeError:\n        pass\n    return started\n",
                  memory=512, timeout=20)
    started = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert 100 < started < 1024


def test_no_cgroup_outlives_the_server(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    client.create_function(FunctionName="cg", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    client.invoke(FunctionName="cg")
    tree = CGROUP_MEMORY / f"ember-{server.proc.pid}"
    assert any(tree.glob("env-*")), "the environment runs in its own cgroup"
    server.stop(signal.SIGTERM)
    assert not tree.exists()
    killed = EmberProcess(tmp_path / "data").start()
    killed_tree = CGROUP_MEMORY / f"ember-{killed.proc.pid}"
    lambda_client(killed.url).invoke(FunctionName="cg")
    killed.stop(signal.SIGKILL)
    assert killed_tree.exists(), "kill -9 leaves it behind..."
    sweeper = EmberProcess(tmp_path / "data").start()
    try:
        assert not killed_tree.exists(), "...and the next server sweeps it"
    finally:
        sweeper.stop()


def test_init_runs_unthrottled_unless_init_burst_is_off(ember, client, ember_with):
    """AWS gives Init a CPU burst; `--init-burst off` applies the 128/1769 vCPU quota from the start."""
    source = "TOTAL = sum(i * i for i in range(300_000))\ndef handler(e, c):\n    return TOTAL\n"
    throttled = lambda_client(ember_with("--init-burst", "off", *ember.extra).url)  # same --zygote as `ember`
    inits = []
    for each in (client, throttled):
        each.create_function(FunctionName="burst", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                             Code={"ZipFile": make_zip({"index.py": source})}, MemorySize=128, Timeout=10)
        try:
            response = each.invoke(FunctionName="burst", LogType="Tail")
            inits.append(float(re.search(r"Init Duration: ([\d.]+) ms", report(response))[1]))
        finally:
            each.delete_function(FunctionName="burst")
    burst, quota = inits
    assert quota > 5 * burst, f"Init with the quota took {quota} ms, with the burst {burst} ms"


def test_cpu_time_of_each_call_is_recorded_from_the_cgroup(ember, client, deploy):
    name = deploy("import time\ndef handler(e, c):\n    end = time.monotonic() + e['s']\n"
                  "    while e['busy'] and time.monotonic() < end:\n        pass\n"
                  "    time.sleep(max(0, end - time.monotonic()))\n"
                  "    return c.aws_request_id\n", memory=1769)
    busy = json.loads(client.invoke(FunctionName=name, Payload=b'{"s": 0.3, "busy": true}')["Payload"].read())
    idle = json.loads(client.invoke(FunctionName=name, Payload=b'{"s": 0.3, "busy": false}')["Payload"].read())
    rows = wait_for_records(ember.data_dir, 2, "request_id IN (?, ?)", (busy, idle))
    cpu = {row["request_id"]: row["cpu_ms"] for row in rows}
    assert 200 <= cpu[busy] <= 450, cpu
    assert cpu[idle] < 50, cpu
