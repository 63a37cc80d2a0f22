"""The fastest peer next to Ember and the bare app: serverless-offline's HTTP route, by throughput, CPU and latency.

serverless-offline (`serverless@3` with `serverless-offline@13`, pinned in bench/serverless-offline/, installed
by `make bench`) runs a python3.11 hello handler behind an `httpApi` POST route, one Python worker per
concurrent request, with no sandbox, limits, freezer, metering or Runtime API. wrk at 16 connections against
it, against Ember's Invoke URL (`--auth none`) and against bench/bare_app.py, rounds interleaved with the order
rotating, as bench/throughput.py does. During each wrk run, the CPU of each side's whole process tree (server,
workers or environments, and what they reaped) per request served. Then sequential keep-alive POSTs with
http.client, each round one to every side in rotating order: the warm latency. Last, the issue's own comparison:
warm boto3 invokes, signed by the client, against a signed Ember (`--auth sigv4`, which checks each signature) and
serverless-offline's Lambda endpoint (which does not), in interleaved blocks: the CPU per call of Ember's server
alone, of its whole tree, and of serverless-offline's. Skipped (no records) when node or the npm install is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import harness
import psutil
from bare_app import bare_app_process, free_port, wait_for_port
from server_cpu import cpu_s, signed_client
from throughput import LUA, WARM_UP_S, wrk

PROJECT = Path(__file__).resolve().parent / "serverless-offline"
CLI = PROJECT / "node_modules" / "serverless" / "bin" / "serverless.js"
REPEATS = 3
DURATION_S = 5
LATENCY_WARM_UP = 100
LATENCY_ROUNDS = 1000
SIDES = ("serverless_offline", "ember", "bare")
BOTO3_BLOCKS = 6
BOTO3_PER_BLOCK = 200
PEER_FUNCTION = "bench-dev-hello"  # serverless-offline names a function <service>-<stage>-<key>
SIGNED_MEASURES = {"ember_server": "the server process alone (issue 14's metric)",
                   "ember": "server, zygote and environments", "serverless_offline": "Node server and Python workers"}
STARTUP_TIMEOUT_S = 90
SERVICE = """service: bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
    events:
      - httpApi:
          method: POST
          path: /hello
plugins:
  - serverless-offline
"""
HANDLER = 'def hello(event, context):\n    return {"statusCode": 200, "body": "{\\"message\\": \\"Hello, world!\\"}"}\n'


def run() -> list[dict]:
    if shutil.which("node") is None or not CLI.exists():
        print("serverless_offline: skipped (node or bench/serverless-offline/node_modules missing: `make bench`)",
              file=sys.stderr)
        return []
    rps: dict[str, list[float]] = {side: [] for side in SIDES}
    cpu: dict[str, list[float]] = {side: [] for side in SIDES}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, harness.EmberServer() as server, \
            bare_app_process() as (bare_url, bare), serverless_offline() as (offline_url, lambda_url, offline):
        script.write(LUA)
        script.flush()
        harness.create_function(server.client(), "bench-noop")
        urls = {"serverless_offline": offline_url, "ember": server.url + server.invoke_path("bench-noop"),
                "bare": bare_url + "/"}
        roots = {"serverless_offline": offline.pid, "ember": server.proc.pid, "bare": bare.pid}
        for url in urls.values():
            wrk(url, script.name, WARM_UP_S)
        for repeat in range(REPEATS):
            for side in SIDES[repeat:] + SIDES[:repeat]:
                before = tree_cpu_s(roots[side])
                rps[side].append(wrk(urls[side], script.name, DURATION_S))
                cpu[side].append((tree_cpu_s(roots[side]) - before) / (rps[side][-1] * DURATION_S) * 1000)
        latency = sequential_latency(urls)
        signed = signed_cpu(lambda_url, offline.pid)
    return records(rps, cpu, latency) + signed_records(signed)


def records(rps: dict[str, list[float]], cpu: dict[str, list[float]], latency: dict[str, list[float]]) -> list[dict]:
    """Three metrics per side; Ember's are read against serverless-offline's."""
    under_wrk = {"benchmark": "serverless_offline", "repeats": REPEATS, "warm_up_s": WARM_UP_S,
                 "load_generator": f"wrk -t1 -c16 -d{DURATION_S}s, Lua POST {{}}"}
    sequential = {"benchmark": "serverless_offline", "calls": LATENCY_ROUNDS, "warm_up_calls": LATENCY_WARM_UP,
                  "client": "http.client keep-alive"}
    servers = {"serverless_offline": f"{pinned()}, httpApi POST, python3.11", "ember": "Invoke, --auth none",
               "bare": "bench/bare_app.py"}
    out = []
    for side in SIDES:
        for metric, unit, samples, dimensions in (
                ("rps", "requests/s", rps[side], under_wrk),
                ("cpu_ms_per_request", "ms", cpu[side],
                 {**under_wrk, "source": "user+system CPU of the process tree during wrk / requests served"}),
                ("warm_ms", "ms", latency[side], sequential)):
            role = {"role": "candidate", "baseline": f"peer_serverless_offline_{metric}"} if side == "ember" \
                else {"role": "baseline"}
            out.append(harness.record(f"peer_{side}_{metric}", unit, samples, **dimensions, server=servers[side],
                                      **role))
    return out


def signed_cpu(lambda_url: str, offline_pid: int) -> dict[str, list[float]]:
    """CPU ms per warm boto3 invoke, by block: Ember's server, Ember's whole tree, serverless-offline's tree."""
    with harness.EmberServer("--auth", "sigv4") as server:
        ember, peer = signed_client(server.url), signed_client(lambda_url)
        harness.create_function(ember, "bench-signed")
        main = psutil.Process(server.proc.pid)
        sides = {  # each side's call, and what its blocks are measured by
            "ember": (lambda: ember.invoke(FunctionName="bench-signed", Payload=b"{}")["Payload"].read(),
                      {"ember_server": lambda: cpu_s(main), "ember": lambda: tree_cpu_s(main.pid)}),
            "serverless_offline": (lambda: peer.invoke(FunctionName=PEER_FUNCTION, Payload=b"{}")["Payload"].read(),
                                   {"serverless_offline": lambda: tree_cpu_s(offline_pid)}),
        }
        samples: dict[str, list[float]] = {name: [] for _, readers in sides.values() for name in readers}
        for call, _ in sides.values():
            for _ in range(50):
                call()
        for _ in range(BOTO3_BLOCKS):
            for call, readers in sides.values():
                before = {name: read() for name, read in readers.items()}
                for _ in range(BOTO3_PER_BLOCK):
                    call()
                for name, read in readers.items():
                    samples[name].append((read() - before[name]) / BOTO3_PER_BLOCK * 1000)
    return samples


def signed_records(samples: dict[str, list[float]]) -> list[dict]:
    """The boto3 comparison's records; Ember's two are read against serverless-offline's tree."""
    return [harness.record(f"peer_boto3_{name}_cpu_ms", "ms", values, benchmark="serverless_offline", client="boto3",
                           calls=BOTO3_BLOCKS * BOTO3_PER_BLOCK, block=BOTO3_PER_BLOCK, measured=SIGNED_MEASURES[name],
                           **({"role": "baseline"} if name == "serverless_offline" else
                              {"role": "candidate", "baseline": "peer_boto3_serverless_offline_cpu_ms"}))
            for name, values in samples.items()]


def tree_cpu_s(root: int) -> float:
    """User + system CPU of a process, its live descendants and the children each has reaped."""
    try:
        processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def sequential_latency(urls: dict[str, str]) -> dict[str, list[float]]:
    """Client ms of keep-alive POSTs, one per side per round, the order rotating."""
    connections = {side: harness.connect(url) for side, url in urls.items()}
    paths = {side: urlsplit(url).path for side, url in urls.items()}
    samples: dict[str, list[float]] = {side: [] for side in urls}
    try:
        for _ in range(LATENCY_WARM_UP):
            for side in urls:
                harness.post(connections[side], paths[side])
        for round_ in range(LATENCY_ROUNDS):
            order = SIDES[round_ % 3:] + SIDES[:round_ % 3]
            for side in order:
                samples[side].append(harness.post(connections[side], paths[side])[0])
    finally:
        for connection in connections.values():
            connection.close()
    return samples


def pinned() -> str:
    """The versions bench/serverless-offline/package.json pins, for the record."""
    dependencies = json.loads((PROJECT / "package.json").read_text())["dependencies"]
    return " + ".join(f"{name}@{version}" for name, version in dependencies.items())


@contextlib.contextmanager
def serverless_offline() -> Iterator[tuple[str, str, subprocess.Popen]]:
    """`serverless offline start` on a throwaway project with the hello handler; yields its route's URL, its
    Lambda endpoint's URL and its process."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "serverless.yml").write_text(SERVICE)
        (project / "handler.py").write_text(HANDLER)
        (project / "node_modules").symlink_to(PROJECT / "node_modules")
        http_port, lambda_port = free_port(), free_port()
        env = {**os.environ, "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        proc = subprocess.Popen(["node", str(CLI), "offline", "start", "--httpPort", str(http_port),
                                 "--lambdaPort", str(lambda_port), "--noTimeout"],
                                cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            wait_for_port(proc, http_port, STARTUP_TIMEOUT_S, "serverless offline")
            wait_for_port(proc, lambda_port, STARTUP_TIMEOUT_S, "serverless offline's Lambda endpoint")
            yield f"http://127.0.0.1:{http_port}/hello", f"http://127.0.0.1:{lambda_port}", proc
        finally:
            harness.stop_process(proc)


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["serverless_offline"]))
