"""What freezing idle environments costs a warm call: the same hello function on two servers, `--freeze on` and
`--freeze off`, called in pairs whose order alternates (drift and noise hit both alike), in one run.

With the freezer on every warm call thaws its environment before the runtime gets the event (and freezes it
again when the runtime asks for the next one, after the answer): the difference of the p50s is what that adds.
"""

from __future__ import annotations

import sys
import time

import harness

WARM_UP = 200
CALLS = 2000
FUNCTION = "bench-freeze"


def run(gap_s: float = 0.0, calls: int = CALLS) -> list[dict]:
    """`gap_s`: idle time before each call (0: back to back)."""
    samples: dict[str, list[float]] = {"on": [], "off": []}
    with harness.EmberServer("--freeze", "on") as frozen, harness.EmberServer("--freeze", "off") as unfrozen:
        servers = {"on": frozen, "off": unfrozen}
        connections = {}
        for mode, server in servers.items():
            harness.create_function(server.client(), FUNCTION)
            connections[mode] = (harness.connect(server.url), server.invoke_path(FUNCTION))
        try:
            for _ in range(WARM_UP):
                for connection, path in connections.values():
                    harness.post(connection, path)
            for i in range(calls):
                for mode in (("on", "off") if i % 2 else ("off", "on")):
                    connection, path = connections[mode]
                    time.sleep(gap_s)
                    elapsed, phases = harness.post(connection, path, tail=True)  # REPORT's Init Duration: cold
                    if "init_duration" in phases:
                        raise RuntimeError(f"call {i} ({mode}) was a cold start: {phases}")
                    samples[mode].append(elapsed)
        finally:
            for connection, _ in connections.values():
                connection.close()
    common = {"benchmark": "freezer", "calls": calls, "gap_s": gap_s, "warm_up_calls": WARM_UP, "client": "http.client keep-alive, X-Amz-Log-Type: Tail",
              "function": FUNCTION}
    return [harness.record("warm_invoke_frozen_ms", "ms", samples["on"], **common, role="candidate",
                           baseline="warm_invoke_unfrozen_ms", flags="--freeze on"),
            harness.record("warm_invoke_unfrozen_ms", "ms", samples["off"], **common, role="baseline",
                           flags="--freeze off")]


if __name__ == "__main__":
    for result in run():
        values = sorted(result["samples"])
        print(f"{result['metric']}: p50 {values[len(values) // 2]:.3f} ms, p99 {values[int(len(values) * 0.99)]:.3f} ms",
              file=sys.stderr)
