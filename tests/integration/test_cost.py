"""`ember cost` reads what the server recorded: the same calls, the same prices, net of the free tier."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal

from conftest import BIN, ROLE, lambda_client, make_zip, wait_for_records


def ember_cost(data_dir, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ember"), "cost", *args, "--data-dir", str(data_dir)], capture_output=True,
                          text=True, timeout=60)


def test_cost_of_recorded_calls_matches_the_records(ember_with):
    server = ember_with()
    client = lambda_client(server.url)
    for name in ("priced", "other"):
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})},
                               MemorySize=512)
    for _ in range(5):
        client.invoke(FunctionName="priced")
    client.invoke(FunctionName="other")
    wait_for_records(server.data_dir, 1, "function = 'other'")
    recorded = [Decimal(str(row["cost_usd"])) for row in wait_for_records(server.data_dir, 5, "function = 'priced'")]
    result = ember_cost(server.data_dir, "priced", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    row = report["functions"][0]
    assert report["model"] == "2025" and row["function"] == "priced" and row["requests"] == 5
    assert abs(Decimal(row["gross"]) - sum(recorded)) < Decimal("1e-12")
    assert Decimal(report["total"]["net"]) == 0, "a few calls are inside the free tier"
    everything = json.loads(ember_cost(server.data_dir, "--no-free-tier", "--format", "json").stdout)
    assert [f["function"] for f in everything["functions"]] == ["other", "priced"]
    assert Decimal(everything["total"]["net"]) == Decimal(everything["total"]["gross"]) > 0


def test_what_if_memory_says_durations_would_change_and_bad_input_is_one_line(ember_with):
    server = ember_with()
    client = lambda_client(server.url)
    client.create_function(FunctionName="whatif", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    client.invoke(FunctionName="whatif")
    wait_for_records(server.data_dir, 1, "function = 'whatif'")
    table = ember_cost(server.data_dir, "whatif", "--what-if-memory", "1024", "--model", "2018")
    assert table.returncode == 0 and "re-priced at 1024 MB" in table.stdout
    assert "`ember tune whatif`" in table.stdout and "CPU-bound" in table.stdout
    for args in (["--month", "11-2026"], ["--model", "1999"], ["--what-if-memory", "5000", "--model", "2018"],
                 ["nosuchfunction"]):
        bad = ember_cost(server.data_dir, *args)
        assert bad.returncode == 4 and len(bad.stderr.strip().splitlines()) == 1, (args, bad.stderr)


def test_cost_run_elsewhere_reads_the_running_servers_data_dir_and_says_which(ember_with, tmp_path):
    server = ember_with()
    client = lambda_client(server.url)
    client.create_function(FunctionName="elsewhere", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    client.invoke(FunctionName="elsewhere")
    wait_for_records(server.data_dir, 1, "function = 'elsewhere'")
    elsewhere = tmp_path / "another-folder"
    elsewhere.mkdir()
    env = {**os.environ, "EMBER_HOME": "", "EMBER_DATA_DIR": "", "EMBER_ENDPOINT_URL": server.url}
    result = subprocess.run([str(BIN / "ember"), "cost", "--format", "json"], capture_output=True, text=True,
                            timeout=60, cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["database"] == str(server.data_dir.resolve() / "ember.db")
    assert [row["function"] for row in report["functions"]] == ["elsewhere"]
    table = subprocess.run([str(BIN / "ember"), "cost", "--data-dir", str(server.data_dir)], capture_output=True,
                           text=True, timeout=60, cwd=elsewhere, env=env)
    assert f"calls recorded in {server.data_dir.resolve() / 'ember.db'}" in table.stdout
