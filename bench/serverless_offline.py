"""Throughput of the fastest peer, next to Ember's and the bare app's: serverless-offline's HTTP route.

serverless-offline (`serverless@3` with `serverless-offline@13`, pinned in bench/serverless-offline/, installed
by `make bench`) runs a python3.11 hello handler behind an `httpApi` POST route, one Python worker per
concurrent request, with no sandbox, limits, freezer, metering or Runtime API. wrk at 16 connections against
it, against Ember's Invoke URL (`--auth none`) and against bench/bare_app.py, rounds interleaved with the order
rotating, as bench/throughput.py does. Skipped (no records) when node or the npm install is missing.
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

import harness
from bare_app import bare_app, free_port, wait_for_port
from throughput import LUA, WARM_UP_S, wrk

PROJECT = Path(__file__).resolve().parent / "serverless-offline"
CLI = PROJECT / "node_modules" / "serverless" / "bin" / "serverless.js"
REPEATS = 3
DURATION_S = 5
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
    samples: dict[str, list[float]] = {"serverless_offline": [], "ember": [], "bare": []}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, harness.EmberServer() as server, \
            bare_app() as bare_url, serverless_offline() as offline_url:
        script.write(LUA)
        script.flush()
        harness.create_function(server.client(), "bench-noop")
        urls = {"serverless_offline": offline_url, "ember": server.url + server.invoke_path("bench-noop"),
                "bare": bare_url + "/"}
        for url in urls.values():
            wrk(url, script.name, WARM_UP_S)
        sides = list(urls)
        for repeat in range(REPEATS):
            for side in sides[repeat:] + sides[:repeat]:
                samples[side].append(wrk(urls[side], script.name, DURATION_S))
    common = {"benchmark": "serverless_offline", "repeats": REPEATS, "warm_up_s": WARM_UP_S,
              "load_generator": f"wrk -t1 -c16 -d{DURATION_S}s, Lua POST {{}}"}
    return [
        harness.record("peer_serverless_offline_rps", "requests/s", samples["serverless_offline"], **common,
                       role="baseline", server=f"{pinned()}, httpApi POST, python3.11"),
        harness.record("peer_ember_invoke_rps", "requests/s", samples["ember"], **common, role="candidate",
                       baseline="peer_serverless_offline_rps"),
        harness.record("peer_bare_uvicorn_rps", "requests/s", samples["bare"], **common, role="baseline",
                       server="bench/bare_app.py"),
    ]


def pinned() -> str:
    """The versions bench/serverless-offline/package.json pins, for the record."""
    dependencies = json.loads((PROJECT / "package.json").read_text())["dependencies"]
    return " + ".join(f"{name}@{version}" for name, version in dependencies.items())


@contextlib.contextmanager
def serverless_offline() -> Iterator[str]:
    """`serverless offline start` on a throwaway project with the hello handler; yields its route's URL."""
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
            yield f"http://127.0.0.1:{http_port}/hello"
        finally:
            harness.stop_process(proc)


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["serverless_offline"]))
