"""Environments in cgroups: memory limit and OOM, CPU proportional to memory, pids limit, cleanup."""

from __future__ import annotations

import base64
import json
import re
import signal
from pathlib import Path

import pytest
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


@pytest.mark.local_backend
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


QUOTA_128 = 128 / 1769  # the share of a CPU 128 MB buys
SHARES = ("import time\n"
          "def spin(cpu_s):\n"
          "    wall, cpu = time.monotonic(), time.process_time()\n"
          "    while time.process_time() - cpu < cpu_s:\n        pass\n"
          "    return [time.process_time() - cpu, time.monotonic() - wall]\n"
          "INIT = spin(0.03)\n"
          "def handler(e, c):\n    return {'init': INIT, 'invoke': spin(0.03)}\n")


def cold_start_shares(client) -> tuple[dict[str, float], float]:
    """A 128 MB function's share of a CPU while it burns 30 ms of CPU time in Init and in its first call
    (the quota caps a share whatever the machine's load), and the REPORT's Init Duration."""
    client.create_function(FunctionName="burst", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": SHARES})}, MemorySize=128, Timeout=10)
    try:
        response = client.invoke(FunctionName="burst", LogType="Tail")
        measured = json.loads(response["Payload"].read())
        init_ms = float(re.search(r"Init Duration: ([\d.]+) ms", report(response))[1])
    finally:
        client.delete_function(FunctionName="burst")
    return {phase: cpu / wall for phase, (cpu, wall) in measured.items()}, init_ms - 1000 * measured["init"][1]


def test_init_runs_unthrottled_unless_init_burst_is_off(ember, client, ember_with):
    """AWS gives Init a CPU burst; `--init-burst off` applies the 128/1769 vCPU quota from the start.
    Shares, not durations: the kernel caps a throttled share however idle the machine, while an
    unthrottled one only shrinks on a swamped machine (so it is measured a second time before failing)."""
    throttled = lambda_client(ember_with("--init-burst", "off", *ember.extra).url)  # same --zygote as `ember`
    off, init_beyond_spin_ms = cold_start_shares(throttled)
    assert off["init"] < 1.5 * QUOTA_128, f"Init with --init-burst off got {off['init']:.3f} of a CPU"
    assert init_beyond_spin_ms >= 0, "Init Duration covers the throttled Init"
    burst, _ = cold_start_shares(client)
    if burst["init"] < 2 * QUOTA_128:  # a busy machine, or no burst: once more
        burst, _ = cold_start_shares(client)
    assert burst["invoke"] < 1.5 * QUOTA_128, f"the call after Init got {burst['invoke']:.3f} of a CPU"
    assert burst["init"] > 2 * QUOTA_128, f"Init got {burst['init']:.3f} of a CPU, the quota is {QUOTA_128:.3f}"


def test_cpu_time_of_each_call_is_recorded_from_the_cgroup(ember, client, deploy):
    """The cgroup counts at least the CPU time the handler used (burnt by CPU time, so load cannot shrink
    it) and little more; a call that sleeps counts next to none."""
    name = deploy("import time\ndef handler(e, c):\n    cpu = time.process_time()\n"
                  "    while e['busy'] and time.process_time() - cpu < 0.25:\n        pass\n"
                  "    time.sleep(0 if e['busy'] else 0.3)\n"
                  "    return [c.aws_request_id, 1000 * (time.process_time() - cpu)]\n", memory=1769)
    busy, busy_ms = json.loads(client.invoke(FunctionName=name, Payload=b'{"busy": true}')["Payload"].read())
    idle, _ = json.loads(client.invoke(FunctionName=name, Payload=b'{"busy": false}')["Payload"].read())
    rows = wait_for_records(ember.data_dir, 2, "request_id IN (?, ?)", (busy, idle))
    cpu = {row["request_id"]: row["cpu_ms"] for row in rows}
    assert busy_ms >= 250 and busy_ms - 1 <= cpu[busy] <= busy_ms + 100, (busy_ms, cpu)
    assert cpu[idle] < 50, cpu
