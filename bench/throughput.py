"""Throughput of a no-op (hello) function under wrk on loopback, next to the bare uvicorn app.

`wrk -t1 -c16 -d5s` with a Lua script POSTing `{}`: against Ember's invoke URL (`--auth none`, so no signing) and
against bench/bare_app.py, alternating A/B (which goes first alternates too), 3 repeats each; one sample =
requests/s of one wrk run. A short unrecorded wrk run against each first: 16 connections (issue 14's load) make
Ember create 16 environments, and that must not be timed. Any non-2xx response or socket error fails the benchmark.
wrk, the server and its environments all share this machine's cores; the CPU each used is recorded next to it.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import harness
import psutil
from bare_app import LOOP, bare_app

REPEATS = 3
CONNECTIONS = 16
DURATION_S = 5
WARM_UP_S = 2
FUNCTION = "bench-noop"
LUA = 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n'
REQUESTS_PER_S = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def processes_cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def wrk(url: str, script: str, seconds: int) -> float:
    """One wrk run; requests/s. Raises on errors, non-2xx answers or unparseable output."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    match = REQUESTS_PER_S.search(out)
    if "Non-2xx" in out or "Socket errors" in out or not match:
        raise RuntimeError(f"wrk against {url} reported errors:\n{out}")
    return float(match.group(1))


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs wrk) or apt-get install wrk")
    samples: dict[str, list[float]] = {"ember": [], "bare": []}
    cpu = {"ember_wrk": 0.0, "ember_server": 0.0, "ember_environments": 0.0, "bare_wrk": 0.0}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, \
            harness.EmberServer() as server, bare_app() as bare_url:
        script.write(LUA)
        script.flush()
        harness.create_function(server.client(), FUNCTION)
        urls = {"ember": server.url + server.invoke_path(FUNCTION), "bare": bare_url + "/"}
        for side in ("ember", "bare"):
            wrk(urls[side], script.name, WARM_UP_S)
        environments = server.environments()
        main = psutil.Process(server.proc.pid)
        envs = harness.descendants(server.proc.pid)
        for repeat in range(REPEATS):
            for side in ("ember", "bare") if repeat % 2 == 0 else ("bare", "ember"):
                before = (children_cpu_s(), processes_cpu_s([main]), processes_cpu_s(envs))
                start = time.perf_counter()
                samples[side].append(wrk(urls[side], script.name, DURATION_S))
                wall = time.perf_counter() - start
                after = (children_cpu_s(), processes_cpu_s([main]), processes_cpu_s(envs))
                cpu[f"{side}_wrk"] += (after[0] - before[0]) / wall / REPEATS
                if side == "ember":
                    cpu["ember_server"] += (after[1] - before[1]) / wall / REPEATS
                    cpu["ember_environments"] += (after[2] - before[2]) / wall / REPEATS
        environments_after = server.environments()
    common = {"benchmark": "throughput", "repeats": REPEATS, "load_generator": f"wrk -t1 -c{CONNECTIONS} "
              f"-d{DURATION_S}s, Lua POST {{}}", "warm_up_s": WARM_UP_S}
    return [
        harness.record("throughput_rps", "requests/s", samples["ember"], **common, role="candidate",
                       baseline="bare_uvicorn_rps", function=FUNCTION, event_loop="asyncio",
                       environments_after_warm_up=environments,
                       environments_at_end=environments_after, wrk_cpu_cores_busy=round(cpu["ember_wrk"], 2),
                       server_cpu_cores_busy=round(cpu["ember_server"], 2),
                       environments_cpu_cores_busy=round(cpu["ember_environments"], 2)),
        harness.record("bare_uvicorn_rps", "requests/s", samples["bare"], **common, role="baseline",
                       server="bench/bare_app.py", event_loop=LOOP, wrk_cpu_cores_busy=round(cpu["bare_wrk"], 2)),
    ]


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["throughput"]))
