"""Two builds of Ember on the warm path, interleaved in one run: this checkout against another's `ember`.

    .venv/bin/python bench/ab.py /path/to/other/checkout/.venv/bin/ember [rounds]

Four servers stay up for the whole run (each build with SigV4 and with `--auth none`) next to the bare
uvicorn app. Every round measures, in alternating order: the server's CPU per signed boto3 invoke (a
block of 200, psutil on the server process alone), warm client ms over a keep-alive http.client (300
calls each, paired with the bare app), and wrk's requests/s at 16 connections for 3 s against each build
and the bare app. Prints medians over the rounds and same-run ratios; meant for a before/after, not `make
bench` (bench/run.py has the same metrics, one build at a time).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import harness
import psutil
import server_cpu
import throughput
from bare_app import bare_app

CPU_BLOCK = 200
LATENCY_CALLS = 300
WRK_S = 3
CONNECTIONS = 16


def cpu_ms(server: harness.EmberServer, client, process: psutil.Process) -> float:
    before = server_cpu.cpu_s(process)
    for _ in range(CPU_BLOCK):
        client.invoke(FunctionName="cpu", Payload=b"{}")["Payload"].read()
    return (server_cpu.cpu_s(process) - before) / CPU_BLOCK * 1000


def latency_ms(ember_url: str, path: str, bare_url: str) -> tuple[float, float]:
    """p50 of warm calls and of the bare POSTs paired with them."""
    ember, bare = harness.connect(ember_url), harness.connect(bare_url)
    try:
        pairs = [(harness.post(ember, path)[0], harness.post(bare, "/")[0]) for _ in range(LATENCY_CALLS)]
    finally:
        ember.close()
        bare.close()
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main(base_ember: Path, rounds: int) -> None:
    builds = {"candidate": harness.EMBER, "base": base_ember}
    results: dict[str, list[float]] = {}
    throughput.CONNECTIONS = CONNECTIONS
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, bare_app() as bare_url:
        script.write(throughput.LUA)
        script.flush()
        servers = {}
        for name, ember in builds.items():
            signed = harness.EmberServer("--auth", "sigv4", ember=ember).__enter__()
            open_ = harness.EmberServer(ember=ember).__enter__()
            servers[name] = (signed, open_)
        try:
            setups = {}
            for name, (signed, open_) in servers.items():
                client = server_cpu.signed_client(signed.url)
                harness.create_function(client, "cpu")
                harness.create_function(open_.client(), "cpu")
                for _ in range(50):
                    client.invoke(FunctionName="cpu", Payload=b"{}")["Payload"].read()
                url = open_.url + open_.invoke_path("cpu")
                throughput.wrk(url, script.name, 2)  # creates its 16 environments
                setups[name] = (client, psutil.Process(signed.proc.pid), url)
            throughput.wrk(bare_url + "/", script.name, 1)
            for r in range(rounds):
                order = list(builds) if r % 2 == 0 else list(reversed(builds))
                for name in order:
                    client, process, url = setups[name]
                    signed, open_ = servers[name]
                    add(results, f"{name}_cpu_ms", cpu_ms(signed, client, process))
                    warm, bare = latency_ms(open_.url, open_.invoke_path("cpu"), bare_url)
                    add(results, f"{name}_warm_ms", warm)
                    add(results, f"{name}_bare_ms", bare)
                    add(results, f"{name}_rps", throughput.wrk(url, script.name, WRK_S))
                add(results, "bare_rps", throughput.wrk(bare_url + "/", script.name, WRK_S))
                print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()),
                      file=sys.stderr, flush=True)
        finally:
            for pair in servers.values():
                for server in pair:
                    server.__exit__()
    report(results)


def add(results: dict[str, list[float]], key: str, value: float) -> None:
    results.setdefault(key, []).append(value)


def report(results: dict[str, list[float]]) -> None:
    med = {key: statistics.median(values) for key, values in results.items()}
    print(f"load average {psutil.getloadavg()[0]:.2f}; medians over {len(results['bare_rps'])} rounds")
    for key, value in med.items():
        print(f"  {key}: {value:.3f}  (all: {', '.join(f'{v:.3f}' for v in results[key])})")
    for name in ("candidate", "base"):
        print(f"{name}: cpu/signed call {med[f'{name}_cpu_ms']:.3f} ms, warm p50 {med[f'{name}_warm_ms']:.3f} ms "
              f"({med[f'{name}_warm_ms'] / med[f'{name}_bare_ms']:.2f}x bare), throughput {med[f'{name}_rps']:.0f}/s "
              f"({med[f'{name}_rps'] / med['bare_rps']:.3f}x bare {med['bare_rps']:.0f}/s)")
    print(f"candidate/base: cpu {med['candidate_cpu_ms'] / med['base_cpu_ms']:.3f}x, "
          f"warm {med['candidate_warm_ms'] / med['base_warm_ms']:.3f}x, "
          f"rps {med['candidate_rps'] / med['base_rps']:.3f}x")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5)
