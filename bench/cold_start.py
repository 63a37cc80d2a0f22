"""Cold start: CreateFunction response received -> first Invoke response received, N rounds per configuration.

Five configurations, each on its own server: environments forked from the zygote (`--zygote on`, the default)
or exec'ing a fresh interpreter (`--zygote off`), each with the hello handler and with one that imports boto3
first; and the zygote without spare sandboxes (`--spares 0`: each cold start clones and prepares one); and the
network modes: the default (`egress`: a namespace, veth and NAT per environment), `none` (a namespace with
loopback only) and `host` (the host's network, as before environments had their own: the baseline). Each round creates a fresh function with boto3, then POSTs `{}` to it (LogType Tail, for REPORT's Init
Duration) on a raw keep-alive HTTP connection opened beforehand, so the connect is not timed. Full isolation
(cgroups + namespaces) as `ember serve` defaults to on this machine. Baselines, interleaved round by round:
`python -c pass` and `python -c "import boto3"`, the least a process-per-environment emulator pays.
"""

from __future__ import annotations

import subprocess
import sys
import time

import harness

ROUNDS = 20
CONFIGS = {  # metric suffix -> (server flags, handler source)
    "": (("--zygote", "on"), harness.HELLO_SOURCE),
    "_boto3": (("--zygote", "on"), harness.BOTO3_SOURCE),
    "_no_spares": (("--zygote", "on", "--spares", "0"), harness.HELLO_SOURCE),
    "_exec": (("--zygote", "off"), harness.HELLO_SOURCE),
    "_exec_boto3": (("--zygote", "off"), harness.BOTO3_SOURCE),
    "_network_none": (("--zygote", "on", "--network", "none"), harness.HELLO_SOURCE),
    "_host_network": (("--zygote", "on", "--network", "host"), harness.HELLO_SOURCE),
}
BASELINES = {"python_spawn_ms": "pass", "python_boto3_ms": "import boto3"}


def spawn_ms(code: str) -> float:
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], check=True)
    return (time.perf_counter_ns() - start) / 1e6


def cold_round(server: harness.EmberServer, client, name: str, source: str) -> tuple[float, dict[str, float]]:
    connection = harness.connect(server.url)
    try:
        harness.create_function(client, name, source=source)
        start = time.perf_counter_ns()  # the CreateFunction response has been received and parsed
        _, phases = harness.post(connection, server.invoke_path(name), tail=True)
        elapsed = (time.perf_counter_ns() - start) / 1e6
    finally:
        connection.close()
    if not harness.is_cold(phases) or "init_duration" not in phases:
        raise RuntimeError(f"first invoke of {name} was not a cold start: Server-Timing {phases}")
    client.delete_function(FunctionName=name)  # untimed: its environment goes, the next round starts alike
    return elapsed, phases


def run_config(suffix: str, flags: tuple[str, ...], source: str, baselines: dict[str, list[float]]) -> list[dict]:
    cold, init, phases = [], [], {}
    with harness.EmberServer(*flags) as server:
        client = server.client()
        time.sleep(0.5)  # let the zygote finish preloading and prepare its spares
        for i in range(ROUNDS):
            for metric, code in BASELINES.items():  # interleaved: each round also samples both baselines
                baselines[metric].append(spawn_ms(code))
            elapsed, round_phases = cold_round(server, client, f"bench-cold{suffix.replace('_', '-')}-{i:02d}", source)
            cold.append(elapsed)
            init.append(round_phases.pop("init_duration"))
            for phase, ms in round_phases.items():
                phases.setdefault(phase, []).append(ms)
    common = {"benchmark": "cold_start", "rounds": ROUNDS, "runtime": "python3.11", "server_flags": " ".join(flags),
              "handler": "imports boto3" if "boto3" in source else "hello"}
    records = [harness.record(f"cold_start{suffix}_ms", "ms", cold, **common, role="candidate",
                              span="CreateFunction response received -> first Invoke response body read"),
               harness.record(f"init_duration{suffix}_ms", "ms", init, **common, role="candidate",
                              span="REPORT's Init Duration: sandbox requested -> runtime's first /next")]
    if not suffix:
        records += [harness.record(f"cold_start_phase_{phase}_ms", "ms", samples, **common, role="phase",
                                   source="Server-Timing of the first invoke") for phase, samples in phases.items()]
    return records


def run() -> list[dict]:
    baselines: dict[str, list[float]] = {metric: [] for metric in BASELINES}
    for code in BASELINES.values():
        spawn_ms(code)  # unrecorded: the interpreter's and boto3's files into the page cache
    records = []
    for suffix, (flags, source) in CONFIGS.items():
        records += run_config(suffix, flags, source, baselines)
    records += [harness.record(metric, "ms", samples, benchmark="cold_start", role="baseline",
                               command=f"{sys.executable} -c {BASELINES[metric]!r}")
                for metric, samples in baselines.items()]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["cold_start"]))
