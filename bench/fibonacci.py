"""The seed's memory/CPU lesson: the same CPU-bound Fibonacci at 128 … 3008 MB.

examples/fibonacci is deployed once per memory size; after an unrecorded first (cold) call, each
size is invoked REPEATS times, round-robin over the sizes so drift hits all alike. The metric is
REPORT's Duration (the handler's time, as AWS bills it). The baseline is 1,769 MB, one full vCPU:
the issue's target is that 128 MB takes 1769/128 = 13.8x as long, within 10 %. This machine's speed
drifts by tens of percent from one second to the next, so the target is checked on paired ratios:
each round also times 1769, 128, 1769 MB back to back and divides.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import harness

SIZES = (128, 256, 512, 1024, 1769, 3008)
REPEATS = 7
N = 28  # ~70 ms at one vCPU on this machine, ~1 s at 128 MB: long enough for CFS overruns to even out
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fibonacci" / "index.py"
DURATION_RE = re.compile(r"\tDuration: ([\d.]+) ms")


def fib_zip() -> bytes:
    return harness.hello_zip(EXAMPLE.read_text())  # mode 0644: the sandbox's uid must be able to read it


def run() -> list[dict]:
    durations: dict[int, list[float]] = {size: [] for size in SIZES}
    paired: list[float] = []
    with harness.EmberServer() as server:
        client = server.client()
        for size in SIZES:
            client.create_function(FunctionName=f"fib-{size}", Runtime="python3.11", Role=harness.ROLE,
                                   Handler="index.handler", Code={"ZipFile": fib_zip()}, Timeout=60,
                                   MemorySize=size)
            invoke(client, size)  # cold: Init runs unthrottled, so it is not a fair sample
        for _ in range(REPEATS):
            for size in SIZES:
                durations[size].append(invoke(client, size))
            # the 128 MB call between two 1769 MB calls, all within ~1 s: the machine's drift cancels
            before, small, after = invoke(client, 1769), invoke(client, 128), invoke(client, 1769)
            paired.append(small / ((before + after) / 2))
    return [harness.record(f"fibonacci_{size}mb_ms", "ms", samples, n=N, memory_mb=size,
                           role="baseline" if size == 1769 else "candidate")
            for size, samples in durations.items()] + [
        harness.record("fibonacci_paired_ratio_128_over_1769", "x", paired, n=N, role="candidate",
                       method="each 128 MB Duration over the mean of the 1769 MB Durations just before and after it")]


def invoke(client, size: int) -> float:
    response = client.invoke(FunctionName=f"fib-{size}", Payload=json.dumps({"n": N}), LogType="Tail")
    if response.get("FunctionError"):
        raise RuntimeError(f"fib-{size} failed: {response['Payload'].read()[:300]!r}")
    log = base64.b64decode(response["LogResult"]).decode()
    return float(DURATION_RE.search(log)[1])


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["fibonacci"]))
