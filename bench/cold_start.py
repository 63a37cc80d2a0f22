"""Cold start: CreateFunction response received -> first Invoke response received, hello world, N rounds.

Each round creates a fresh function with boto3, then POSTs `{}` to it on a raw keep-alive HTTP connection opened
beforehand (so the connect is not timed). The first call's Server-Timing gives the server's own `init` (process
spawn to the runtime's first /next) and the other phases. Baseline, interleaved round by round (which one goes
first alternates): wall time of `python -c pass`, the least any process-per-environment emulator pays.
"""

from __future__ import annotations

import subprocess
import sys
import time

import harness

ROUNDS = 20


def spawn_ms() -> float:
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return (time.perf_counter_ns() - start) / 1e6


def cold_round(server: harness.EmberServer, client, name: str) -> tuple[float, dict[str, float]]:
    connection = harness.connect(server.url)
    try:
        harness.create_function(client, name)
        start = time.perf_counter_ns()  # the CreateFunction response has been received and parsed
        _, phases = harness.post(connection, server.invoke_path(name))
        elapsed = (time.perf_counter_ns() - start) / 1e6
    finally:
        connection.close()
    if not harness.is_cold(phases):
        raise RuntimeError(f"first invoke of {name} was not a cold start: Server-Timing {phases}")
    client.delete_function(FunctionName=name)  # untimed: its environment goes, the next round starts alike
    return elapsed, phases


def run() -> list[dict]:
    cold, spawn, phases = [], [], {}
    with harness.EmberServer(*sys.argv[1:]) as server:
        client = server.client()
        spawn_ms()  # unrecorded: the interpreter's files into the page cache
        for i in range(ROUNDS):
            if i % 2:
                spawn.append(spawn_ms())
            elapsed, round_phases = cold_round(server, client, f"bench-cold-{i:02d}")
            cold.append(elapsed)
            for phase, ms in round_phases.items():
                phases.setdefault(phase, []).append(ms)
            if not i % 2:
                spawn.append(spawn_ms())
    common = {"benchmark": "cold_start", "rounds": ROUNDS, "runtime": "python3.11"}
    records = [
        harness.record("cold_start_ms", "ms", cold, **common, role="candidate", baseline="python_spawn_ms",
                       span="CreateFunction response received -> first Invoke response body read"),
        harness.record("python_spawn_ms", "ms", spawn, **common, role="baseline",
                       command=f"{sys.executable} -c pass"),
    ]
    records += [harness.record(f"cold_start_phase_{phase}_ms", "ms", samples, **common, role="phase",
                               source="Server-Timing of the first invoke")
                for phase, samples in phases.items()]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["cold_start"]))
