"""What every benchmark shares: an `ember serve --auth none` child, functions, a raw HTTP invoke, machine
facts, the contamination check, percentiles and the results file. stdlib + boto3 + psutil only."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

import boto3
import psutil
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
EMBER = Path(sys.executable).parent / "ember"
ROLE = "arn:aws:iam::000000000000:role/bench"
HELLO_SOURCE = 'def handler(event, context):\n    return {"message": "Hello, world!"}\n'
BOTO3_SOURCE = "import boto3\n" + HELLO_SOURCE  # what a typical Python function imports first
HELLO_BODY = {"message": "Hello, world!"}  # what the hello handler and bench/bare_app.py both answer
STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30
# A warm call's `acquire` + `init` are gaps between adjacent marks (~0.01 ms); a cold one's take milliseconds
# (the runtime may finish Init while the server is still in `acquire`, so the two are read together).
COLD_INIT_MS = 1.0


class EmberServer:
    """One `ember serve --auth none` on a free loopback port, fresh temp data dir; stdout drained so it never
    blocks. Use as `with EmberServer() as server:`: stopped (SIGTERM, then kill) and data dir removed on exit."""

    def __init__(self, *flags: str, ember: Path = EMBER) -> None:
        self.flags = flags
        self.ember = ember  # another checkout's `ember` for an A/B of two builds (bench/ab.py)
        self._tmp = tempfile.TemporaryDirectory(prefix="ember-bench-")
        self.url = ""
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self.proc = subprocess.Popen(
                [str(self.ember), "serve", "--port", "0", "--data-dir", self._tmp.name, "--auth", "none", *self.flags],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not self.url and time.monotonic() < deadline:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.output.append(line)
                if line.startswith("Ember endpoint: "):
                    self.url = line.split(": ", 1)[1].strip()
            if not self.url:
                raise RuntimeError("ember serve did not start:\n" + "".join(self.output))
            threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()
            return self
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        try:
            if self.proc is not None:
                stop_process(self.proc)
        finally:
            self._tmp.cleanup()

    def client(self):
        return boto3.session.Session().client(
            "lambda", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="bench",
            aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}, read_timeout=60))

    @property
    def data_dir(self) -> Path:
        return Path(self._tmp.name)

    def invoke_path(self, name: str) -> str:
        return f"/2015-03-31/functions/{name}/invocations"

    def environments(self) -> int:
        """Live execution environments: the server's descendants running as a function's uid (the zygote
        and its spare children run as root; environments forked from it keep its /proc environ, so
        that can't tell functions apart)."""
        count = 0
        for child in descendants(self.proc.pid):
            with contextlib.suppress(psutil.Error):
                count += child.uids().real >= 100_000
        return count


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM and wait; then kill whatever it or its children left behind, so nothing outlives a run."""
    children = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"WARNING: pid {proc.pid} ignored SIGTERM for {STOP_TIMEOUT_S}s; killed it", file=sys.stderr)
            proc.kill()
            proc.wait()
    _, alive = psutil.wait_procs(children, timeout=2)
    for child in alive:
        print(f"WARNING: pid {child.pid} outlived its parent; killed it", file=sys.stderr)
        with contextlib.suppress(psutil.Error):
            child.kill()


def zip_files(files: dict[str, bytes], executable: tuple[str, ...] = ()) -> bytes:
    """A function's zip: mode 0644 (readable by the sandbox's uid, as AWS requires), 0755 for `executable`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((0o755 if name in executable else 0o644) | 0o100000) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def hello_zip(source: str = HELLO_SOURCE) -> bytes:
    return zip_files({"index.py": source.encode()})


# 1,769 MB is one full vCPU: the environment's CPU quota then never throttles the handler, so the
# numbers measure Ember's own overhead. At 128 MB a warm environment gets 0.072 vCPU, as on AWS, and
# its p99 shows the 20 ms CFS period (see BENCHMARKS.md).
BENCH_MEMORY_MB = 1769


def create_function(client, name: str, memory_mb: int = BENCH_MEMORY_MB, source: str = HELLO_SOURCE) -> None:
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": hello_zip(source)}, Timeout=10, MemorySize=memory_mb)


def connect(url: str) -> HTTPConnection:
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.connect()
    return connection


def is_hello(body: bytes) -> bool:
    return json.loads(body) == HELLO_BODY


def post(connection: HTTPConnection, path: str, tail: bool = False,
         expected: Callable[[bytes], bool] = is_hello) -> tuple[float, dict[str, float]]:
    """POST `{}` on a keep-alive connection; (client ms until the body was read, Server-Timing phases in ms,
    plus `init_duration` from the REPORT line when `tail`). Fails loudly on anything but a 200 whose body
    is `expected` (default: the hello body)."""
    headers = {"Content-Type": "application/json", **({"X-Amz-Log-Type": "Tail"} if tail else {})}
    start = time.perf_counter_ns()
    connection.request("POST", path, body=b"{}", headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if response.status != 200 or response.getheader("X-Amz-Function-Error") or not expected(body):
        raise RuntimeError(f"POST {path}: {response.status} {body[:300]!r}")
    phases = server_timing(response.getheader("Server-Timing", ""))
    init = re.search(r"Init Duration: ([\d.]+) ms", base64.b64decode(response.getheader("X-Amz-Log-Result", "")).decode())
    if init:
        phases["init_duration"] = float(init[1])
    return elapsed, phases


def is_cold(phases: dict[str, float]) -> bool:
    return phases.get("acquire", 0.0) + phases.get("init", 0.0) >= COLD_INIT_MS


def server_timing(header: str) -> dict[str, float]:
    """`resolve;dur=0.012, acquire;dur=0.004` -> {"resolve": 0.012, "acquire": 0.004}."""
    phases = {}
    for entry in filter(None, (part.strip() for part in header.split(","))):
        name, _, dur = entry.partition(";dur=")
        phases[name] = float(dur)
    return phases


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_facts() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"cpu_count": os.cpu_count(), "cpu_model": model,
            "memory_total_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "git_commit": git("rev-parse", "--short", "HEAD"),
            # uncommitted changes under ember/ would make the commit above a lie about the code measured
            "ember_tree_dirty": bool(git("status", "--porcelain", "--", "ember")), "auth": "none"}


def other_activity() -> dict:
    """What else loads the machine: 1-minute load average and `ember serve`, runtime or pytest processes
    that are not descendants of this run (e.g. a test suite running at the same time)."""
    ours = {os.getpid()} | {p.pid for p in descendants(os.getpid())}
    foreign = 0
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["pid"] not in ours and any(s in cmdline for s in ("ember serve", "bootstrap.py", "pytest")):
            foreign += 1
    return {"load_1m": round(psutil.getloadavg()[0], 2), "foreign_ember_or_pytest_processes": foreign}


def percentile(samples: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); q in 0..100."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def record(metric: str, unit: str, samples: list[float], **dimensions) -> dict:
    return {"metric": metric, "unit": unit, "dimensions": dimensions, "samples": [round(s, 4) for s in samples]}


def write_results(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1) + "\n")
