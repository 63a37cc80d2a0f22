"""Soak: mixed load on one server for a while, and what it leaves behind.

`.venv/bin/python bench/soak.py [minutes]` (default 30; not part of `make bench`'s default set).
Six workers loop for the whole run, each on its own function: fast sync calls, async events, calls
that raise, calls that time out, 5 MB payloads in and out, and a function that floods its log.
Every call that should succeed must (a failure is counted, with its error); the server's RSS and
open descriptors are sampled every 10 s; at the end, with a short keep-alive, every environment
must have been reaped. Prints one JSON object with the figures BENCHMARKS.md records.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import statistics
import sys
import threading
import time

import harness
import psutil

KEEP_ALIVE_S = 5
SOURCES = {
    "fast": "def handler(event, context):\n    return event\n",
    "event": "import time\ndef handler(event, context):\n    time.sleep(0.02)\n    return 1\n",
    "raises": "def handler(event, context):\n    raise ValueError('on purpose')\n",
    "slow": "import time\ndef handler(event, context):\n    time.sleep(2)\n",
    "large": "def handler(event, context):\n    return {'echo': event['blob']}\n",
    "flood": "import sys\ndef handler(event, context):\n    for _ in range(20000):\n"
             "        sys.stdout.write('x' * 500 + '\\n')\n    return 1\n",
}
LARGE_BLOB = base64.b64encode(b"\x00" * (3 * 1024 * 1024)).decode()  # ~4 MB of JSON each way


def expect(name: str, response: dict) -> str | None:
    """Why this answer is wrong for its function, or None when it is what that function should give."""
    error = response.get("FunctionError")
    payload = response["Payload"].read()
    if name == "raises":
        return None if error and b"ValueError" in payload else f"raises: {payload[:80]!r}"
    if name == "slow":
        return None if error and b"Sandbox.Timedout" in payload else f"slow: {payload[:80]!r}"
    return f"{name}: {payload[:120]!r}" if error else None


def call(client, name: str) -> dict:
    if name == "event":
        return client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    payload = json.dumps({"blob": LARGE_BLOB}) if name == "large" else "{}"
    return client.invoke(FunctionName=name, Payload=payload)


def worker(server: harness.EmberServer, name: str, until: float, counts: dict, failures: list) -> None:
    client = server.client()
    while time.monotonic() < until:
        try:
            response = call(client, name)
            problem = None if name == "event" else expect(name, response)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
            problem = f"{name}: {type(exc).__name__}: {exc}"
        counts[name] = counts.get(name, 0) + 1
        if problem:
            failures.append(problem)


def sample(server: harness.EmberServer, until: float, samples: list) -> None:
    process = psutil.Process(server.proc.pid)
    while time.monotonic() < until:
        samples.append((process.memory_info().rss / 2**20, process.num_fds()))
        time.sleep(10)


def run(minutes: float) -> dict:
    with harness.EmberServer("--keep-alive", str(KEEP_ALIVE_S)) as server:
        client = server.client()
        for name, source in SOURCES.items():
            client.create_function(FunctionName=name, Runtime="python3.11", Role=harness.ROLE, MemorySize=512,
                                   Timeout=1 if name == "slow" else 30, Handler="index.handler",
                                   Code={"ZipFile": harness.zip_files({"index.py": source.encode()})})
        until = time.monotonic() + minutes * 60
        counts: dict[str, int] = {}
        failures: list[str] = []
        samples: list[tuple[float, int]] = []
        threads = [threading.Thread(target=worker, args=(server, name, until, counts, failures)) for name in SOURCES]
        threads.append(threading.Thread(target=sample, args=(server, until, samples)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ran = events_ran(server, counts.get("event", 0))
        time.sleep(KEEP_ALIVE_S * 3)  # the reaper's turn
        return {**summary(minutes, counts, failures, samples, server.environments()), "events_ran": ran}


def events_ran(server: harness.EmberServer, accepted: int, wait_s: float = 120) -> int:
    """Every accepted event runs once: wait for the queue to drain, then count their records."""
    database = sqlite3.connect(f"file:{server._tmp.name}/ember.db?mode=ro", uri=True)
    deadline = time.monotonic() + wait_s
    while database.execute("SELECT count(*) FROM event_queue").fetchone()[0] and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(1)  # records are written in batches
    ran = database.execute("SELECT count(*) FROM invocations WHERE source = 'event'").fetchone()[0]
    database.close()
    return ran


def summary(minutes: float, counts: dict, failures: list, samples: list, left: int) -> dict:
    rss = [mb for mb, _ in samples]
    fds = [count for _, count in samples]
    quarter = max(1, len(samples) // 4)
    return {"minutes": minutes, "calls": counts, "total_calls": sum(counts.values()), "failed": len(failures),
            "failures": failures[:20], "rss_mb_first_quarter_median": statistics.median(rss[:quarter]),
            "rss_mb_last_quarter_median": statistics.median(rss[-quarter:]), "rss_mb_max": max(rss),
            "fds_first": fds[0], "fds_last": fds[-1], "fds_max": max(fds), "environments_left": left,
            "machine": harness.machine_facts()}


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0), indent=2))
