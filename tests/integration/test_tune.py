"""`ember tune`: the same code at each size as temporary functions, recorded as tuning calls, charted."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter

from conftest import BIN, ROLE, lambda_client, make_zip, wait_for_records

BUSY = "def handler(e, c):\n    total = 0\n    for i in range(200_000):\n        total += i\n    return total\n"


def ember_tune(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMBER_ENDPOINT_URL": url, "COLUMNS": "60"}
    return subprocess.run([str(BIN / "ember"), "tune", *args], capture_output=True, text=True, timeout=120, env=env)


def test_tune_runs_each_size_recommends_and_charts(ember_with, tmp_path):
    server = ember_with()
    client = lambda_client(server.url)
    client.create_function(FunctionName="tuned", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": BUSY})}, Timeout=30)
    chart = tmp_path / "chart.png"
    result = ember_tune(server.url, "tuned", "--memory", "128,1769", "--runs", "2", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("128 MB" in line and "$" in line for line in lines), "a row per size, never cut on a narrow pipe"
    [small] = [line for line in lines if "128 MB" in line and "$" in line and ":" not in line]
    used = int(re.findall(r"(\d+) MB", small)[1])
    assert 15 <= used <= 128, f"Max Memory Used counts what the environment occupies, shared pages too: {small}"
    assert [line.split(":")[0] for line in lines if line.split(":")[0] in ("cheapest", "fastest", "balanced")] == [
        "cheapest", "fastest", "balanced"]
    assert "fastest: 1769 MB" in result.stdout, "memory buys CPU"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [f["FunctionName"] for f in client.list_functions()["Functions"]] == ["tuned"], "temporary copies deleted"
    rows = wait_for_records(server.data_dir, 6, "source = 'tune'")
    tuned = dict(Counter(row["function"] for row in rows))
    assert tuned == {"tuned--tune-128": 3, "tuned--tune-1769": 3}, "one cold and two warm calls per size"


def test_tune_refuses_when_cpu_quotas_are_not_enforced(ember_with):
    server = ember_with("--isolation", "rlimits")
    result = ember_tune(server.url, "anything")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "CPU quotas" in result.stderr
