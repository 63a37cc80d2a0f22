"""`ember dev`'s reload: a Python handler's file written → the first Invoke answered by the new code; baseline, in
the same run: `ember deploy` of the same change.

One `ember serve --auth none`; a two-function SAM project written here (two Python functions behind an HTTP API)
run by `ember dev` in a child process. Each round writes the edited function's `app.py` with a new answer and
polls Invoke on a raw keep-alive connection in a tight loop until that answer comes; the time from just before
the write to the end of that call is the sample. Where it goes: watchfiles' detection (the same settings, timed
in this process on its own folder), dev's own line for the round (zip, plan, deploy: UpdateFunctionCode and the
waiter), and the first new call's client time and Server-Timing (a cold start of the new code). The baseline
rounds stop `ember dev` first, then write the file and run `ember deploy` in the project as a user would, and
poll the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import harness
from watchfiles import watch

from ember.cli.dev_watch import DEBOUNCE_MS, STEP_MS

ROUNDS = 20
BASELINE_ROUNDS = 5
DETECT_ROUNDS = 20
ROUND_TIMEOUT_S = 20
TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    MemorySize: 256
Resources:
  EditedFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: edited/
      Events:
        Edited: {Type: HttpApi, Properties: {Path: /edited, Method: get}}
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: other/
      Events:
        Other: {Type: HttpApi, Properties: {Path: /other, Method: get}}
"""
HANDLER = "def handler(event, context):\n    return {{\"version\": {}}}\n"
RELOAD_LINE = re.compile(r"EditedFunction: update code in [\d.]+ ms \(zip ([\d.]+) ms, plan ([\d.]+) ms, "
                         r"deploy ([\d.]+) ms\)")


def write_project(folder: Path) -> None:
    (folder / "template.yaml").write_text(TEMPLATE)
    for name in ("edited", "other"):
        (folder / name).mkdir()
        (folder / name / "app.py").write_text(HANDLER.format(0))


def cli_env(server: harness.EmberServer) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}, "EMBER_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


class Dev:
    """`ember dev` in the project; its lines collected as they come."""

    def __init__(self, folder: Path, server: harness.EmberServer) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen([str(harness.EMBER), "dev"], cwd=folder, env=cli_env(server), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=lambda: self.lines.extend(line.rstrip("\n") for line in self.proc.stdout),
                         daemon=True).start()
        self.wait(lambda line: "| watching " in line, 0)

    def wait(self, wanted, after: int, timeout: float = ROUND_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if wanted(line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("ember dev did not print the line expected:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


def until_answer(connection, path: str, version: int) -> tuple[float, dict[str, float], int]:
    """Invoke until the answer is `version`'s: (the last call's client ms, its Server-Timing, calls made)."""
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    calls = 0
    while time.monotonic() < deadline:
        start = time.perf_counter_ns()
        connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        calls += 1
        if response.status == 200 and json.loads(body) == {"version": version}:
            return (time.perf_counter_ns() - start) / 1e6, harness.server_timing(
                response.getheader("Server-Timing", "")), calls
    raise RuntimeError(f"version {version} never answered within {ROUND_TIMEOUT_S} s")


def timed_edit(folder: Path, connection, path: str, version: int, then=lambda: None) -> tuple[float, ...]:
    """(write → answer ms, first new call ms, its Server-Timing, calls made)."""
    start = time.perf_counter_ns()
    (folder / "edited" / "app.py").write_text(HANDLER.format(version))
    then()
    first_ms, phases, calls = until_answer(connection, path, version)
    return (time.perf_counter_ns() - start) / 1e6, first_ms, phases, calls


def detection_ms() -> list[float]:
    """watchfiles with `ember dev`'s settings: a file written → the batch yielded, in this process."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="ember-bench-watch-") as folder:
        target = Path(folder) / "app.py"
        target.write_text("")
        stop = threading.Event()
        seen: list[int] = []
        ready = threading.Event()

        def watcher() -> None:
            ready.set()
            for _ in watch(folder, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop, rust_timeout=200,
                           raise_interrupt=False):
                seen.append(time.perf_counter_ns())
        thread = threading.Thread(target=watcher, daemon=True)
        thread.start()
        ready.wait()
        time.sleep(0.3)
        for i in range(DETECT_ROUNDS):
            before = len(seen)
            start = time.perf_counter_ns()
            target.write_text(HANDLER.format(i))
            while len(seen) == before:
                time.sleep(0.001)
            samples.append((seen[before] - start) / 1e6)
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=5)
    return samples


def run() -> list[dict]:
    reload, first, init, calls, zips, plans, deploys, baseline, base_first = [], [], [], [], [], [], [], [], []
    detect = detection_ms()
    with harness.EmberServer() as server, tempfile.TemporaryDirectory(prefix="ember-bench-dev-") as tmp:
        folder = Path(tmp) / "devbench"
        folder.mkdir()
        write_project(folder)
        dev = Dev(folder, server)
        name = next(f["FunctionName"] for f in server.client().list_functions()["Functions"]
                    if "-EditedFunction-" in f["FunctionName"])
        path = server.invoke_path(name)
        connection = harness.connect(server.url)
        until_answer(connection, path, 0)
        try:
            for version in range(1, ROUNDS + 1):
                mark = len(dev.lines)
                total, first_ms, phases, n = timed_edit(folder, connection, path, version)
                line = RELOAD_LINE.search(dev.wait(RELOAD_LINE.search, mark))
                reload.append(total)
                first.append(first_ms)
                init.append(phases.get("acquire", 0.0) + phases.get("init", 0.0))
                calls.append(n)
                zips.append(float(line[1]))
                plans.append(float(line[2]))
                deploys.append(float(line[3]))
                print(f"  reload {version}: {total:.0f} ms", file=sys.stderr, flush=True)
                time.sleep(0.3)
            if dev.stop() != 0:
                raise RuntimeError("ember dev did not exit 0 on SIGINT:\n" + "\n".join(dev.lines[-5:]))

            def deploy() -> None:
                subprocess.run([str(harness.EMBER), "deploy"], cwd=folder, env=cli_env(server), check=True,
                               capture_output=True)
            for version in range(ROUNDS + 1, ROUNDS + 1 + BASELINE_ROUNDS):
                total, first_ms, _, _ = timed_edit(folder, connection, path, version, deploy)
                baseline.append(total)
                base_first.append(first_ms)
                print(f"  ember deploy {version}: {total:.0f} ms", file=sys.stderr, flush=True)
        finally:
            connection.close()
            if dev.proc.poll() is None:
                dev.proc.kill()
            shutil.rmtree(folder, ignore_errors=True)
    dims = {"rounds": ROUNDS, "debounce_ms": DEBOUNCE_MS, "step_ms": STEP_MS, "median_invokes_per_round":
            harness.percentile(calls, 50)}
    return [
        harness.record("dev_reload_ms", "ms", reload, role="candidate", **dims),
        harness.record("dev_reload_deploy_baseline_ms", "ms", baseline, role="baseline"),
        harness.record("dev_reload_phase_detect_ms", "ms", detect, role="phase"),
        harness.record("dev_reload_phase_zip_ms", "ms", zips, role="phase"),
        harness.record("dev_reload_phase_plan_ms", "ms", plans, role="phase"),
        harness.record("dev_reload_phase_deploy_ms", "ms", deploys, role="phase"),
        harness.record("dev_reload_phase_first_call_ms", "ms", first, role="phase"),
        harness.record("dev_reload_phase_first_call_acquire_init_ms", "ms", init, role="phase"),
        harness.record("dev_reload_deploy_baseline_first_call_ms", "ms", base_first, role="phase"),
    ]


if __name__ == "__main__":
    import run as bench_run

    sys.exit(bench_run.main(["dev_reload"]))
