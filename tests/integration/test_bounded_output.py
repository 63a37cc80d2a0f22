"""A careless function's output and responses cost the server bounded memory and time, and a flood
in one function does not hold up another's calls (the audit's cases: 40 MB without a newline froze
the server for 8.6 s; a print loop wrote 1.4 GB; a 1 GB response grew the server by 1.5 GB)."""

from __future__ import annotations

import json
import threading
import time

import psutil
from conftest import ROLE, lambda_client, make_zip

NO_NEWLINE = """
import sys
def handler(event, context):
    chunk = "y" * 65536
    for _ in range(event["mb"] * 16):
        sys.stdout.write(chunk)
    sys.stdout.flush()
    return "done"
"""

FLOOD = """
import sys
def handler(event, context):
    line = "z" * 1023 + "\\n"
    for _ in range(event["mb"] * 1024):
        sys.stdout.write(line)
    return "done"
"""

HUGE_RESPONSE = """
import os, socket
def handler(event, context):
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    sock = socket.create_connection((host, int(port)))
    head = (f"POST /2018-06-01/runtime/invocation/{context.aws_request_id}/response HTTP/1.1\\r\\n"
            f"Host: x\\r\\nContent-Length: {1 << 30}\\r\\n\\r\\n")
    sock.sendall(head.encode())
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        for _ in range(1024):
            sent += sock.send(chunk)
    except OSError:
        pass
    return {"sent_mb": sent >> 20}
"""


def rss_mb(server) -> float:
    return psutil.Process(server.proc.pid).memory_info().rss / 2**20


def bystander_latencies(client, name: str, stop: threading.Event) -> list[float]:
    seen = []
    while not stop.is_set():
        started = time.perf_counter()
        client.invoke(FunctionName=name, Payload=b"{}")
        seen.append(time.perf_counter() - started)
    return seen


def test_forty_megabytes_without_a_newline_leave_other_calls_fast(ember, deploy):
    client = lambda_client(ember.url)
    flood, quiet = deploy(NO_NEWLINE, timeout=60, memory=1769), deploy("def handler(e, c):\n    return 1\n")
    client.invoke(FunctionName=quiet)
    stop, latencies = threading.Event(), []
    watcher = threading.Thread(target=lambda: latencies.extend(bystander_latencies(lambda_client(ember.url), quiet,
                                                                                   stop)))
    watcher.start()
    started = time.perf_counter()
    response = client.invoke(FunctionName=flood, Payload=json.dumps({"mb": 40}), LogType="Tail")
    elapsed = time.perf_counter() - started
    stop.set()
    watcher.join()
    assert json.loads(response["Payload"].read()) == "done"
    assert elapsed < 15, f"the flood's call took {elapsed:.1f} s"
    assert latencies and max(latencies) < 1.5, f"a bystander waited {max(latencies):.2f} s"


def test_a_log_flood_stops_at_the_functions_cap(ember_with):
    server = ember_with("--log-cap-mb", "4")
    client = lambda_client(server.url)
    client.create_function(FunctionName="flood", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": FLOOD})}, Timeout=60, MemorySize=1769)
    for _ in range(2):
        assert json.loads(client.invoke(FunctionName="flood", Payload=b'{"mb": 20}')["Payload"].read()) == "done"
    streams = list((server.data_dir / "logs" / "flood").glob("*.jsonl"))
    size = sum(path.stat().st_size for path in streams)
    text = streams[0].read_text()
    assert size < 6 * 2**20, f"{size} bytes of log kept under a 4 MB cap"
    assert "reached its cap of 4 MB" in text and text.count("REPORT RequestId") == 2


def test_a_gigabyte_response_is_refused_without_being_held(ember, deploy):
    client = lambda_client(ember.url)
    name = deploy(HUGE_RESPONSE, timeout=30, memory=1769)
    before = rss_mb(ember)
    response = client.invoke(FunctionName=name)
    grown = rss_mb(ember) - before
    body = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert grown < 64, f"the server grew by {grown:.0f} MB"
