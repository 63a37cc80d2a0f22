"""Warm invoke latency with a raw HTTP client (http.client, keep-alive), not boto3.

One warm hello function; 200 unrecorded warm-up calls, then 2,000 sequential invokes, each paired with the same
client POSTing `{}` to the bare uvicorn app (bench/bare_app.py); which of the pair goes first alternates, so
drift and noise hit both alike. Client-side ms until the body was read, plus each call's Server-Timing phases,
plus what lies outside the phases (client time minus their sum: HTTP parsing, middleware, routing, sockets).
"""

from __future__ import annotations

import sys

import harness
from bare_app import LOOP, bare_app

WARM_UP = 200
CALLS = 2000
FUNCTION = "bench-warm"


def run() -> list[dict]:
    ember, bare, outside, phases = [], [], [], {}
    with harness.EmberServer() as server, bare_app() as bare_url:
        harness.create_function(server.client(), FUNCTION)
        path = server.invoke_path(FUNCTION)
        ember_conn, bare_conn = harness.connect(server.url), harness.connect(bare_url)
        try:
            for _ in range(WARM_UP):
                harness.post(ember_conn, path)
                harness.post(bare_conn, path)
            for i in range(CALLS):
                if i % 2:
                    bare.append(harness.post(bare_conn, path)[0])
                elapsed, call_phases = harness.post(ember_conn, path)
                if not i % 2:
                    bare.append(harness.post(bare_conn, path)[0])
                if harness.is_cold(call_phases):
                    raise RuntimeError(f"call {i} was a cold start: {call_phases}")
                ember.append(elapsed)
                outside.append(elapsed - sum(call_phases.values()))
                for phase, ms in call_phases.items():
                    phases.setdefault(phase, []).append(ms)
        finally:
            ember_conn.close()
            bare_conn.close()
    common = {"benchmark": "warm_latency", "calls": CALLS, "warm_up_calls": WARM_UP, "client": "http.client keep-alive"}
    records = [
        harness.record("warm_invoke_ms", "ms", ember, **common, role="candidate", baseline="bare_uvicorn_post_ms",
                       function=FUNCTION, event_loop="asyncio"),
        harness.record("bare_uvicorn_post_ms", "ms", bare, **common, role="baseline", server="bench/bare_app.py",
                       event_loop=LOOP),
        harness.record("warm_invoke_outside_phases_ms", "ms", outside, **common, role="phase",
                       source="client ms minus the sum of Server-Timing phases"),
    ]
    records += [harness.record(f"warm_invoke_phase_{phase}_ms", "ms", samples, **common, role="phase",
                               source="Server-Timing") for phase, samples in phases.items()]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["warm_latency"]))
