"""Ember's benchmark: invoke latency, cold starts and throughput, each next to a baseline from the same run.

Run with `make bench` (or `.venv/bin/python bench/run.py`). Starts its own `ember serve --auth none`
on a free loopback port with a fresh temporary data dir, drives it with boto3, writes
bench/results/latest.json and prints a markdown table. stdlib + boto3 + psutil only.

Every number here is from one run on one (usually shared, noisy) machine: read the medians and the
ratios between metrics measured side by side, not absolute values from different runs.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import boto3
import psutil
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "latest.json"
EMBER = Path(sys.executable).parent / "ember"
ROLE = "arn:aws:iam::000000000000:role/bench"
RUNTIME = "python3.11"
HANDLER_SOURCE = "def handler(event, context):\n    return event\n"
EVENT = b'{"bench": 1}'
STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30

WARM_UP_CALLS = 20
WARM_CALLS = 300
COLD_FUNCTIONS = 30
SPAWN_RUNS = 30
BOTO3_SPAWN_RUNS = 10
THREADS = 8
CALLS_PER_THREAD = 100
THROUGHPUT_REPEATS = 3

INIT_DURATION = re.compile(r"Init Duration: ([\d.]+) ms")


# ----------------------------------------------------------------------------- the server

class Server:
    """One `ember serve --auth none` child on a free port; stdout is drained so it never blocks."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = ""
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [str(EMBER), "serve", "--port", "0", "--data-dir", str(self.data_dir), "--auth", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("Ember endpoint: "):
                self.url = line.split(": ", 1)[1].strip()
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("ember serve did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def children(self) -> list[psutil.Process]:
        assert self.proc is not None
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def environments_of(self, function_name: str) -> int:
        """How many live execution environments (runtime processes) serve `function_name`."""
        count = 0
        for child in self.children():
            try:
                if child.environ().get("AWS_LAMBDA_FUNCTION_NAME") == function_name:
                    count += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return count

    def stop(self) -> list[str]:
        """SIGTERM, then wait. Returns warnings (slow stop, environments left behind)."""
        warnings: list[str] = []
        if self.proc is None:
            return warnings
        children = self.children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                warnings.append(f"server ignored SIGTERM for {STOP_TIMEOUT_S}s; killed it")
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.5)
        leftovers = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        if leftovers:
            warnings.append(f"{len(leftovers)} environment process(es) outlived the server; terminated them")
            for child in leftovers:
                try:
                    child.terminate()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(leftovers, timeout=5)
        return warnings


def lambda_client(url: str):
    # A separate Session per client: boto3's default session is not safe to share across threads.
    session = boto3.session.Session()
    return session.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=60,
                                        max_pool_connections=4))


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("index.py")
        info.external_attr = 0o100644 << 16
        archive.writestr(info, HANDLER_SOURCE)
    return buffer.getvalue()


def create_function(client, name: str) -> None:
    client.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": handler_zip()}, Timeout=10, MemorySize=128)


def invoke(client, name: str, **extra) -> dict:
    """One synchronous invoke, the payload read and checked (the read is part of the round trip)."""
    response = client.invoke(FunctionName=name, Payload=EVENT, **extra)
    payload = response["Payload"].read()
    if response.get("FunctionError") or response["StatusCode"] != 200 or json.loads(payload) != json.loads(EVENT):
        raise RuntimeError(f"invoke of {name} failed: {response.get('FunctionError')} {payload[:500]!r}")
    return response


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


# ----------------------------------------------------------------------------- the measurements

def measure_warm(client, name: str) -> tuple[list[float], list[float]]:
    """(1) warm invoke and (2) get_function_configuration, interleaved call by call."""
    for _ in range(WARM_UP_CALLS):
        invoke(client, name)
        client.get_function_configuration(FunctionName=name)
    warm, api = [], []
    for _ in range(WARM_CALLS):
        start = time.perf_counter()
        invoke(client, name)
        warm.append(ms_since(start))
        start = time.perf_counter()
        client.get_function_configuration(FunctionName=name)
        api.append(ms_since(start))
    return warm, api


def spawn_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return ms_since(start)


def measure_cold(client) -> tuple[list[float], list[float], list[float]]:
    """(3) first invoke of N fresh functions + server Init Duration, (4) a bare spawn after each."""
    names = [f"bench-cold-{i:02d}" for i in range(COLD_FUNCTIONS)]
    for name in names:
        create_function(client, name)
    for _ in range(2):  # unrecorded: bring the interpreter's files into the page cache
        spawn_ms("import json, http.client")
    cold, init, spawn = [], [], []
    for name in names:
        start = time.perf_counter()
        response = invoke(client, name, LogType="Tail")
        cold.append(ms_since(start))
        log = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
        match = INIT_DURATION.search(log)
        if not match:
            raise RuntimeError(f"first invoke of {name} was not a cold start (no Init Duration):\n{log}")
        init.append(float(match.group(1)))
        spawn.append(spawn_ms("import json, http.client"))
    return cold, init, spawn


def measure_boto3_spawn() -> list[float]:
    spawn_ms("import boto3")  # unrecorded warm-up
    return [spawn_ms("import boto3") for _ in range(BOTO3_SPAWN_RUNS)]


def run_threads(clients: list, name: str, calls: int) -> float:
    """`calls` invokes on each client in its own thread, released together; returns wall seconds."""
    barrier = threading.Barrier(len(clients) + 1)
    errors: list[BaseException] = []

    def work(client) -> None:
        barrier.wait()
        try:
            for _ in range(calls):
                invoke(client, name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} thread(s) failed: {errors[0]!r}")
    return elapsed


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return total


def measure_throughput(server: Server, name: str) -> tuple[list[float], int, dict]:
    """(6) 8 threads x 100 invokes, repeated; warm-up rounds first so the 8 environments exist.

    Also returns where the CPU went during the measured runs (this client, the server, the
    environments), since client, server and functions all share this machine's cores.
    """
    assert server.proc is not None
    clients = [lambda_client(server.url) for _ in range(THREADS)]
    for _ in range(3):
        run_threads(clients, name, WARM_UP_CALLS)
        if server.environments_of(name) >= THREADS:
            break
    me, main = psutil.Process(), psutil.Process(server.proc.pid)
    envs = server.children()
    before = (cpu_seconds([me]), cpu_seconds([main]), cpu_seconds(envs))
    wall = 0.0
    samples = []
    for _ in range(THROUGHPUT_REPEATS):
        elapsed = run_threads(clients, name, CALLS_PER_THREAD)
        wall += elapsed
        samples.append(THREADS * CALLS_PER_THREAD / elapsed)
    after = (cpu_seconds([me]), cpu_seconds([main]), cpu_seconds(envs))
    cores = {f"{who}_cpu_cores_busy": round((a - b) / wall, 2)
             for who, a, b in zip(("client", "server", "environments"), after, before, strict=True)}
    return samples, server.environments_of(name), cores


# ----------------------------------------------------------------------------- reporting

def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_total_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        # Uncommitted changes under ember/ would make the commit above a lie about the code measured.
        "ember_tree_dirty": bool(git("status", "--porcelain", "--", "ember")),
        "auth": "none",
    }


def other_activity(server: Server | None = None) -> dict:
    """What else is loading this machine: the 1-minute load average and any `ember serve` or
    runtime processes that are not ours (e.g. a test suite running at the same time)."""
    ours = {os.getpid()}
    if server is not None and server.proc is not None:
        ours |= {server.proc.pid} | {c.pid for c in server.children()}
    foreign = 0
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["pid"] not in ours and ("ember serve" in cmdline or "bootstrap.py" in cmdline
                                                or "pytest" in cmdline):
            foreign += 1
    return {"load_1m": round(psutil.getloadavg()[0], 2), "foreign_ember_or_pytest_processes": foreign}


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p90(samples: list[float]) -> float:
    """Linear interpolation between closest ranks (statistics.quantiles, method='inclusive')."""
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[-1]


def fmt(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def main() -> int:
    facts = machine_facts()
    started_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    data_dir = Path(tempfile.mkdtemp(prefix="ember-bench-"))
    server = Server(data_dir)
    warnings: list[str] = []
    results: list[dict] = []
    run_start = time.perf_counter()

    def record(metric: str, unit: str, samples: list[float], **dimensions) -> None:
        results.append({"metric": metric, "unit": unit,
                        "dimensions": {**facts, "started_at": started_at, "n": len(samples), **dimensions},
                        "samples": [round(s, 4) for s in samples]})

    print(f"Ember benchmark: commit {facts['git_commit']}, {facts['cpu_count']} CPUs, "
          f"{facts['memory_total_gb']} GiB, Python {facts['python']}, {facts['platform']}", file=sys.stderr)
    before = other_activity()
    try:
        server.start()
        print(f"server: {server.url} (--auth none, data dir {data_dir})", file=sys.stderr)
        client = lambda_client(server.url)
        warm_name = "bench-warm"
        create_function(client, warm_name)

        print("1-2/6 warm invoke vs get_function_configuration ...", file=sys.stderr)
        warm, api = measure_warm(client, warm_name)
        record("warm_invoke_roundtrip_ms", "ms", warm, function=warm_name, runtime=RUNTIME,
               warm_up_calls=WARM_UP_CALLS, interleaved_with="baseline_api_roundtrip_ms")
        record("baseline_api_roundtrip_ms", "ms", api, function=warm_name, call="GetFunctionConfiguration",
               warm_up_calls=WARM_UP_CALLS, interleaved_with="warm_invoke_roundtrip_ms")

        print("3-4/6 cold starts vs bare interpreter spawn ...", file=sys.stderr)
        cold, init, spawn = measure_cold(client)
        record("cold_start_invoke_ms", "ms", cold, functions=COLD_FUNCTIONS, runtime=RUNTIME, log_type="Tail")
        record("cold_init_duration_ms", "ms", init, source="REPORT line 'Init Duration' (server-side)")
        record("baseline_python_spawn_ms", "ms", spawn, command="python -c 'import json, http.client'",
               interleaved_with="cold_start_invoke_ms")

        print("5/6 python -c 'import boto3' ...", file=sys.stderr)
        record("boto3_import_spawn_ms", "ms", measure_boto3_spawn(), command="python -c 'import boto3'")

        print("6/6 concurrent throughput ...", file=sys.stderr)
        rps, environments, cores = measure_throughput(server, warm_name)
        record("warm_invoke_concurrent_throughput_rps", "requests/s", rps, threads=THREADS,
               calls_per_thread=CALLS_PER_THREAD, environments_alive_after=environments, function=warm_name,
               **cores)
        throughput_cpu = ", ".join(f"{k.split('_cpu')[0]} {v}" for k, v in cores.items())
        if environments != THREADS:
            warnings.append(f"throughput: {environments} environments served the function, not {THREADS}")
        after = other_activity(server)
    finally:
        warnings += server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    activity = {"load_1m_before": before["load_1m"], "load_1m_after": after["load_1m"],
                "foreign_processes_before": before["foreign_ember_or_pytest_processes"],
                "foreign_processes_after": after["foreign_ember_or_pytest_processes"]}
    for r in results:
        r["dimensions"].update(activity)
    if activity["foreign_processes_before"] or activity["foreign_processes_after"]:
        warnings.append(f"other ember/pytest processes were running (before: {activity['foreign_processes_before']}, "
                        f"after: {activity['foreign_processes_after']}): numbers are contaminated, rerun on a quiet machine")
    if before["load_1m"] > 0.5 * (os.cpu_count() or 1):
        warnings.append(f"1-minute load average was {before['load_1m']} before the run started")

    ratios = [
        ("warm_invoke_over_api_call", "median(warm_invoke_roundtrip_ms) / median(baseline_api_roundtrip_ms)",
         "cost of running the function on top of an API call", median(warm) / median(api)),
        ("cold_init_over_python_spawn", "median(cold_init_duration_ms) / median(baseline_python_spawn_ms)",
         "cold start init vs. the bare interpreter spawn any process-per-environment emulator pays",
         median(init) / median(spawn)),
    ]
    for name, formula, meaning, value in ratios:
        results.append({"metric": f"ratio_{name}", "unit": "x",
                        "dimensions": {**facts, "started_at": started_at, **activity, "formula": formula,
                                       "meaning": meaning},
                        "samples": [round(value, 4)]})

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    print()
    print(f"Ember benchmark, {started_at}, commit `{facts['git_commit']}`"
          f"{' (ember/ has uncommitted changes)' if facts['ember_tree_dirty'] else ''}")
    print(f"Machine: {facts['cpu_count']} CPUs ({facts['cpu_model']}), {facts['memory_total_gb']} GiB, "
          f"{facts['platform']}, Python {facts['python']}, boto3 {facts['boto3']}. Server auth: none.")
    print()
    print("| metric | unit | n | median | p90 |")
    print("|---|---|---:|---:|---:|")
    for r in results:
        if r["metric"].startswith("ratio_"):
            continue
        s = r["samples"]
        print(f"| {r['metric']} | {r['unit']} | {len(s)} | {fmt(median(s))} | {fmt(p90(s))} |")
    print()
    for _, formula, meaning, value in ratios:
        print(f"- {meaning}: {formula} = **{value:.2f}x**")
    print()
    print(f"During the throughput runs, CPU cores kept busy on average: {throughput_cpu} "
          f"(of {facts['cpu_count']}; the boto3 client shares the machine with the server).")
    print(f"1-minute load average: {activity['load_1m_before']} before, {activity['load_1m_after']} at the end "
          f"(the run's own load included).")
    print(f"Run took {time.perf_counter() - run_start:.0f}s; raw samples in {RESULTS.relative_to(REPO)}")
    for warning in warnings:
        print(f"WARNING: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
