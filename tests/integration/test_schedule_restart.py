"""Rules and schedules survive a restart, and runs missed while the server was down run at most once.

The server's scheduler runs 600 times the wall clock (1 s: 10 minutes), and time passes at that speed
while it is down too, so a few seconds' restart misses several runs of `rate(10 minutes)`.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from conftest import EmberProcess, aws_client, wait_for
from scheduled import allow_rule, function, scheduler_time, wait_for_events

pytestmark = pytest.mark.integration
SPEED = "600"
PERIOD_S = 600
MISSED = re.compile(r"rule (\S+): (\d+) runs missed while the server was down .* ran once, for (\S+)")


def test_missed_runs_run_once_and_nothing_runs_twice_across_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    first = EmberProcess(data_dir, "--clock-speed", SPEED).start()
    try:
        lam, events, scheduler = (aws_client(first.url, s) for s in ("lambda", "events", "scheduler"))
        name, arn = function(lam)
        rule_arn = events.put_rule(Name="every-ten", ScheduleExpression="rate(10 minutes)")["RuleArn"]
        allow_rule(lam, name, rule_arn)
        events.put_targets(Rule="every-ten", Targets=[{"Id": "echo", "Arn": arn}])
        at = datetime.fromtimestamp(scheduler_time(first.url) + 1500, UTC)  # 2.5 s from now: while down
        scheduler.create_schedule(Name="once", ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
                                  FlexibleTimeWindow={"Mode": "OFF"},
                                  Target={"Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/any",
                                          "Input": '{"once": "<aws.scheduler.scheduled-time>"}'})
        wait_for_events(aws_client(first.url, "logs"), name, 2)
    finally:
        first.stop()
    second = EmberProcess(data_dir, "--clock-speed", SPEED).start()
    try:
        logs, events, scheduler = (aws_client(second.url, s) for s in ("logs", "events", "scheduler"))
        assert events.describe_rule(Name="every-ten")["State"] == "ENABLED"
        assert events.list_targets_by_rule(Rule="every-ten")["Targets"] == [{"Id": "echo", "Arn": arn}]
        assert scheduler.get_schedule(Name="once")["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"
        assert wait_for(lambda: any(MISSED.search(line) for line in second.preamble + second.output))
        printed = wait_for_events(logs, name, 6)
    finally:
        second.stop()
    missed = next(MISSED.search(line) for line in second.preamble + second.output if MISSED.search(line))
    ticks = {e["id"]: e["time"] for e in printed if "id" in e}  # a queued run that restarted prints its event again
    times = sorted(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").timestamp() for t in ticks.values())
    assert len(set(times)) == len(times), "a run was sent twice"
    gaps = [round(b - a) for a, b in zip(times, times[1:], strict=False)]
    assert all(gap % PERIOD_S == 0 for gap in gaps), gaps
    long_gaps = [gap for gap in gaps if gap > PERIOD_S]
    assert len(long_gaps) == 1, gaps  # the restart: one run for all it missed
    assert long_gaps[0] // PERIOD_S - 1 == int(missed[2])  # the runs it skipped, as logged
    caught_up = datetime.strptime(missed[3], "%Y-%m-%dT%H:%M:%SZ").timestamp()
    assert caught_up == times[gaps.index(long_gaps[0]) + 1]  # the catch-up run has the latest missed run's time
    assert Counter(e.get("once") for e in printed if "once" in e) == Counter({f"{at:%Y-%m-%dT%H:%M:%S}Z": 1})
