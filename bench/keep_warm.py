"""Keeping a function warm, three ways, side by side: nothing, the seed's `rate(5 minutes)` ping rule, and
provisioned concurrency 1. Counts the cold starts a sporadic caller sees over hours of accelerated time.

Three servers run at once, each `--clock-speed 120` (1 s is 2 minutes) with `--keep-alive 3` (an idle
environment lives 6 minutes of that time). One caller per server invokes the same hello function with the
same gaps, 7 to 25 minutes drawn from one seeded generator, so every gap outlives the keep-alive: without
help each call is a cold start; a ping every 5 minutes keeps one environment; a provisioned one never goes.

    .venv/bin/python bench/keep_warm.py            # 20 calls each, about 3 minutes of wall time
    .venv/bin/python bench/keep_warm.py --calls 40
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import boto3
import harness
from botocore.config import Config

SPEED = 120  # scheduler seconds per wall second
KEEP_ALIVE_S = 3  # wall seconds: 6 minutes of scheduler time
GAP_MINUTES = (7, 25)
FUNCTION = "bench-keep-warm"
SCENARIOS = ("nothing", "ping_rule", "provisioned_1")


def aws(server: harness.EmberServer, service: str):
    return boto3.session.Session().client(service, endpoint_url=server.url, region_name="us-east-1",
                                          aws_access_key_id="bench", aws_secret_access_key="bench",
                                          config=Config(retries={"total_max_attempts": 1}))


def prepare(server: harness.EmberServer, scenario: str) -> str:
    """The function as the scenario wants it; the qualifier callers invoke (or '' for $LATEST)."""
    lam = aws(server, "lambda")
    harness.create_function(lam, FUNCTION, memory_mb=128)
    if scenario == "ping_rule":
        events = aws(server, "events")
        rule_arn = events.put_rule(Name="keep-warm", ScheduleExpression="rate(5 minutes)")["RuleArn"]
        lam.add_permission(FunctionName=FUNCTION, StatementId="keep-warm", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com", SourceArn=rule_arn)
        function_arn = lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
        events.put_targets(Rule="keep-warm", Targets=[{"Id": "ping", "Arn": function_arn}])
    if scenario == "provisioned_1":
        version = lam.publish_version(FunctionName=FUNCTION)["Version"]
        lam.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=FUNCTION, Qualifier="live",
                                               ProvisionedConcurrentExecutions=1)
        while lam.get_provisioned_concurrency_config(FunctionName=FUNCTION, Qualifier="live")["Status"] != "READY":
            time.sleep(0.1)
        return "live"
    return ""


def caller(server: harness.EmberServer, qualifier: str, gaps: list[float], cold: list[bool]) -> None:
    """Sleep each gap (scheduler minutes, at the server's speed), then call once; note which calls were cold."""
    path = server.invoke_path(FUNCTION) + (f"?Qualifier={qualifier}" if qualifier else "")
    for gap in gaps:
        time.sleep(gap * 60 / SPEED)
        connection = harness.connect(server.url)
        try:
            _, phases = harness.post(connection, path, tail=True)
        finally:
            connection.close()
        cold.append("init_duration" in phases)


def recorded(server: harness.EmberServer) -> tuple[int, int]:
    """(scheduled pings, environments started by calls) from the server's invocation records."""
    time.sleep(0.5)  # records are written in 200 ms batches
    with closing(sqlite3.connect(Path(server._tmp.name) / "ember.db")) as db:
        pings = db.execute("SELECT count(*) FROM invocations WHERE source = 'schedule'").fetchone()[0]
        starts = db.execute("SELECT count(*) FROM invocations WHERE cold = 1").fetchone()[0]
    return pings, starts


def run(calls: int = 20, seed: int = 5) -> list[dict]:
    chooser = random.Random(seed)
    gaps = [chooser.uniform(*GAP_MINUTES) for _ in range(calls)]
    flags = ("--clock-speed", str(SPEED), "--keep-alive", str(KEEP_ALIVE_S))
    with harness.EmberServer(*flags) as a, harness.EmberServer(*flags) as b, harness.EmberServer(*flags) as c:
        servers = dict(zip(SCENARIOS, (a, b, c), strict=True))
        qualifiers = {scenario: prepare(server, scenario) for scenario, server in servers.items()}
        colds: dict[str, list[bool]] = {scenario: [] for scenario in SCENARIOS}
        threads = [threading.Thread(target=caller, args=(servers[s], qualifiers[s], gaps, colds[s]))
                   for s in SCENARIOS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = {scenario: recorded(server) for scenario, server in servers.items()}
    common = {"benchmark": "keep_warm", "calls": calls, "simulated_minutes": round(sum(gaps)),
              "gap_minutes": list(GAP_MINUTES), "keep_alive_simulated_minutes": KEEP_ALIVE_S * SPEED / 60,
              "clock_speed": SPEED, "seed": seed}
    records = []
    for scenario in SCENARIOS:
        pings, starts = counts[scenario]
        records += [
            harness.record("keep_warm_caller_cold_starts", "calls", [sum(colds[scenario])], scenario=scenario,
                           **common),
            harness.record("keep_warm_pings", "invocations", [pings], scenario=scenario, **common),
            harness.record("keep_warm_on_demand_environment_starts", "environments", [starts], scenario=scenario,
                           **common)]
    return records


def table(records: list[dict]) -> str:
    by = {(r["dimensions"]["scenario"], r["metric"]): r["samples"][0] for r in records}
    common = records[0]["dimensions"]
    lines = [f"{common['calls']} calls over {common['simulated_minutes']} simulated minutes, gaps "
             f"{common['gap_minutes'][0]}-{common['gap_minutes'][1]} min, keep-alive "
             f"{common['keep_alive_simulated_minutes']:g} min", "",
             "| keeping warm | cold starts the caller saw | pings | environments started on demand |",
             "|---|---|---|---|"]
    for scenario in SCENARIOS:
        lines.append(f"| {scenario} | {by[scenario, 'keep_warm_caller_cold_starts']} of {common['calls']} | "
                     f"{by[scenario, 'keep_warm_pings']} | {by[scenario, 'keep_warm_on_demand_environment_starts']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()
    results = run(arguments.calls, arguments.seed)
    harness.write_results(harness.REPO / "bench" / "results" / "keep_warm.json", results)
    print(table(results))
    print("raw: bench/results/keep_warm.json", file=sys.stderr)
