"""Init burst: does Init run at full CPU or under the function's quota? Measured both ways, same run.

A 128 MB function whose module-level code burns CPU (a fixed loop, ~30 ms on a full core) is cold-started
on two servers, `--init-burst on` (the default: the CPU quota is applied after Init, as AWS gives Init a
burst) and `--init-burst off` (the quota of 128/1769 vCPU from the first instruction), rounds alternating.
The metric is REPORT's Init Duration. The handler itself is the hello handler, so the call is cheap.
"""

from __future__ import annotations

import sys

import harness

ROUNDS = 6
MEMORY_MB = 128
CPU_BOUND_INIT = "TOTAL = sum(i * i for i in range(600_000))\n" + harness.HELLO_SOURCE


def cold_init_ms(server: harness.EmberServer, client, name: str) -> float:
    connection = harness.connect(server.url)
    try:
        harness.create_function(client, name, memory_mb=MEMORY_MB, source=CPU_BOUND_INIT)
        _, phases = harness.post(connection, server.invoke_path(name), tail=True)
    finally:
        connection.close()
    client.delete_function(FunctionName=name)
    return phases["init_duration"]


def run() -> list[dict]:
    samples: dict[str, list[float]] = {"on": [], "off": []}
    with harness.EmberServer("--init-burst", "on") as burst, harness.EmberServer("--init-burst", "off") as quota:
        servers = {"on": (burst, burst.client()), "off": (quota, quota.client())}
        for i in range(ROUNDS):
            for mode in (("on", "off") if i % 2 else ("off", "on")):
                server, client = servers[mode]
                samples[mode].append(cold_init_ms(server, client, f"bench-burst-{mode}-{i}"))
    common = {"benchmark": "init_burst", "rounds": ROUNDS, "memory_mb": MEMORY_MB,
              "init": "sum(i * i for i in range(600_000)) at module level"}
    return [harness.record("init_duration_burst_ms", "ms", samples["on"], **common, role="candidate",
                           init_burst="on"),
            harness.record("init_duration_quota_ms", "ms", samples["off"], **common, role="baseline",
                           init_burst="off")]


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["init_burst"]))
