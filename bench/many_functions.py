"""Warm invoke latency with 1,000 functions deployed against the same with one (the hot path must be
O(1) in the number of functions: the limiter summed every reservation on every call, 365 µs at 1,000).

Two servers, one with a single hello function and one with 1,000 (every other one with a reservation of 1,
so the sum is not trivially zero); 1,000 sequential warm invokes of one function on each, interleaved call
by call on raw keep-alive connections.
"""

from __future__ import annotations

import sys

import harness

FUNCTIONS = 1000
CALLS = 1000


def populate(server: harness.EmberServer, count: int) -> None:
    client = server.client()
    for number in range(count):
        harness.create_function(client, f"f{number}", memory_mb=128)
        if number % 2:
            client.put_function_concurrency(FunctionName=f"f{number}", ReservedConcurrentExecutions=1)


def run() -> list[dict]:
    one, many = [], []
    with harness.EmberServer() as small, harness.EmberServer() as large:
        populate(small, 1)
        populate(large, FUNCTIONS)
        connections = harness.connect(small.url), harness.connect(large.url)
        path = small.invoke_path("f0")
        try:
            for _ in range(100):  # warm both
                for connection in connections:
                    harness.post(connection, path)
            for _ in range(CALLS):
                one.append(harness.post(connections[0], path)[0])
                many.append(harness.post(connections[1], path)[0])
        finally:
            for connection in connections:
                connection.close()
    common = {"benchmark": "many_functions", "calls": CALLS, "client": "http.client keep-alive"}
    return [harness.record("warm_invoke_1000_functions_ms", "ms", many, **common, role="candidate",
                           functions=FUNCTIONS, baseline="warm_invoke_1_function_ms"),
            harness.record("warm_invoke_1_function_ms", "ms", one, **common, role="baseline", functions=1)]


if __name__ == "__main__":
    for record in run():
        print(record["metric"], harness.percentile(record["samples"], 50), file=sys.stderr)
