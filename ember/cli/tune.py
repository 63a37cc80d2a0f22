"""`ember tune`: Ember's AWS Lambda Power Tuning — the same code at each memory size, timed and priced.

Each size runs as a temporary copy of the function (`<name>--tune-<MB>`, deleted afterwards): one
cold call, then `runs` warm calls, each tagged `X-Ember-Source: tune` so it is recorded (and
metered) as a tuning call. Duration, Billed Duration and Max Memory Used come from each call's
REPORT line (Max Memory Used is the environment's whole-life peak, shared pages included, so the
size it shows is one the function fits in elsewhere); the cost per call from the same price model
the server bills with.
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ember.billing.prices import PriceModel

DEFAULT_SIZES = (128, 256, 512, 1024, 1769, 3008)
COPIED = ("Runtime", "Role", "Handler", "Timeout", "Architectures", "EphemeralStorage")
REPORT_RE = re.compile(r"\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\tMemory Size: \d+ MB\t"
                       r"Max Memory Used: (\d+) MB")


class TuneError(Exception):
    """Why tuning can't run; the message is the one line the user sees."""


@dataclass
class SizeResult:
    memory_mb: int
    cold_ms: float
    durations_ms: list[float]
    costs: list[Decimal]
    max_memory_used_mb: int = 0  # the highest Max Memory Used any of its calls reported

    @property
    def median_ms(self) -> float:
        return statistics.median(self.durations_ms)

    @property
    def cost_per_call(self) -> Decimal:
        return statistics.median(self.costs)


def tune(client, name: str, payload: bytes, sizes: list[int], runs: int, model: PriceModel,
         progress: Callable[[], None]) -> list[SizeResult]:
    """Run every size; temporary functions are deleted even when a call fails."""
    function = client.get_function(FunctionName=name)
    config = function["Configuration"]
    code = urllib.request.urlopen(function["Code"]["Location"], timeout=60).read()  # noqa: S310 - our own server
    client.meta.events.register("before-sign.lambda.Invoke", _tag_as_tuning)
    results = []
    for size in sizes:
        temp = f"{name}--tune-{size}"
        client.create_function(FunctionName=temp, Code={"ZipFile": code}, MemorySize=size,
                               Environment=config.get("Environment", {"Variables": {}}),
                               **{key: config[key] for key in COPIED if key in config})
        try:
            client.get_waiter("function_active_v2").wait(FunctionName=temp)
            arch = (config.get("Architectures") or ["x86_64"])[0]
            calls = [_call(client, temp, payload, size, model, arch, progress) for _ in range(runs + 1)]
        finally:
            client.delete_function(FunctionName=temp)
        results.append(SizeResult(size, calls[0][0], [c[0] for c in calls[1:]], [c[1] for c in calls[1:]],
                                  max(c[2] for c in calls)))
    return results


def recommend(results: list[SizeResult]) -> dict[str, SizeResult]:
    """Cheapest (lowest median cost per call), fastest (lowest median duration), and balanced: the
    lowest sum of cost and duration, each divided by its best value across the sizes."""
    best_cost = min(r.cost_per_call for r in results)
    best_ms = min(r.median_ms for r in results)
    return {
        "cheapest": min(results, key=lambda r: (r.cost_per_call, r.median_ms)),
        "fastest": min(results, key=lambda r: (r.median_ms, r.cost_per_call)),
        "balanced": min(results, key=lambda r: float(r.cost_per_call / best_cost) + r.median_ms / best_ms),
    }


def _call(client, name: str, payload: bytes, size: int, model: PriceModel, arch: str,
          progress: Callable[[], None]) -> tuple[float, Decimal, int]:
    response = client.invoke(FunctionName=name, Payload=payload, LogType="Tail")
    body = response["Payload"].read()
    if response.get("FunctionError"):
        raise TuneError(f"{name} failed at {size} MB: {body[:300].decode(errors='replace')}")
    report = REPORT_RE.search(base64.b64decode(response["LogResult"]).decode())
    if report is None:
        raise TuneError(f"{name}: no REPORT line in the call's log tail")
    progress()
    return float(report[1]), model.call_cost(size, int(report[2]), arch), int(report[3])


def _tag_as_tuning(request, **_: object) -> None:
    request.headers["X-Ember-Source"] = "tune"


def server_info(endpoint: str) -> dict[str, object]:
    """What the server enforces and bills with (`GET /ember/info`, unsigned: it holds no secret)."""
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/ember/info", timeout=10) as response:  # noqa: S310
            return json.loads(response.read())
    except OSError as exc:
        raise TuneError(f"cannot reach Ember at {endpoint}: {exc}") from exc
