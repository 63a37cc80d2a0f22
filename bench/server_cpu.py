"""The server's own CPU per warm call, with SigV4 on (the default) against `--auth none`, through boto3.

Two servers, each with one warm hello function; 1,000 boto3 invokes on each, interleaved in blocks of
100, and the CPU time of the server process alone — environments are other processes — read around each
block from the scheduler's per-thread counters (ns; psutil's user + system ticks of 10 ms, 0.1 ms per call
in a block, where there are none). Each answer's Payload is read, as a client does: one left unread keeps
urllib3 from reusing its connection, and every call then paid for a new TCP connection (accept and close,
~0.25 ms of the server's CPU). Target (issue 14): at most 0.5 ms of server CPU per signed call.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import harness
import psutil
from botocore.config import Config

BLOCKS = 10
PER_BLOCK = 100


def signed_client(url: str):
    """The default keys of a server with no credentials file, as a new user's client has them."""
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


def cpu_s(process: psutil.Process) -> float:
    """CPU time of all the process's threads: the scheduler's own count in ns (/proc/<pid>/task/*/schedstat)
    where there is one, as psutil's user + system time comes in 10 ms ticks (0.1 ms per call in a block of 100)."""
    total_ns = 0
    try:
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            total_ns += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        times = process.cpu_times()
        return times.user + times.system
    return total_ns / 1e9


def block_ms(server: harness.EmberServer, client, process: psutil.Process) -> float:
    """Server CPU per call over one block of warm calls, in ms."""
    before = cpu_s(process)
    for _ in range(PER_BLOCK):
        client.invoke(FunctionName="cpu", Payload=b"{}")["Payload"].read()
    return (cpu_s(process) - before) / PER_BLOCK * 1000


def run() -> list[dict]:
    signed, unsigned = [], []
    with harness.EmberServer("--auth", "sigv4") as secure, harness.EmberServer() as open_:
        pairs = []
        for server in (secure, open_):
            client = signed_client(server.url) if server is secure else server.client()
            harness.create_function(client, "cpu")
            for _ in range(50):
                client.invoke(FunctionName="cpu", Payload=b"{}")["Payload"].read()
            pairs.append((server, client, psutil.Process(server.proc.pid)))
        for _ in range(BLOCKS):
            signed.append(block_ms(*pairs[0]))
            unsigned.append(block_ms(*pairs[1]))
    common = {"benchmark": "server_cpu", "calls": BLOCKS * PER_BLOCK, "client": "boto3", "block": PER_BLOCK}
    return [harness.record("server_cpu_per_signed_call_ms", "ms", signed, **common, role="candidate",
                           baseline="server_cpu_per_unsigned_call_ms"),
            harness.record("server_cpu_per_unsigned_call_ms", "ms", unsigned, **common, role="baseline")]


if __name__ == "__main__":
    for record in run():
        print(record["metric"], harness.percentile(record["samples"], 50), file=sys.stderr)
