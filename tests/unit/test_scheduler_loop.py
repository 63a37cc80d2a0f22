"""ember.events.scheduler on a clock the test moves: runs, missed runs, refusals, completion, and the clock itself."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from ember.core.database import open_database
from ember.events.clock import SchedulerClock
from ember.events.rules import RuleStore
from ember.events.scheduler import Scheduler
from ember.events.schedules import ScheduleStore
from ember.events.targets import FunctionTarget
from ember.observe.metrics import Metrics

FN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
ROLE = "arn:aws:iam::000000000000:role/r"
START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class Clock(SchedulerClock):
    def __init__(self) -> None:
        super().__init__()
        self.at = START

    def now(self) -> float:
        return self.at


class Queue:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.sent: list[tuple[str, str | None, Any, str]] = []

    def enqueue(self, request_id: str, function: str, qualifier: str | None, payload: bytes, *,
                source: str = "event") -> None:
        assert self.db.in_transaction  # a run and its timer's move are one transaction
        self.sent.append((function, qualifier, json.loads(payload), source))


class Gate:
    def __init__(self) -> None:
        self.refuse: str | None = None

    def rule_refusal(self, rule_arn: str, function: FunctionTarget) -> str | None:
        return self.refuse

    def schedule_refusal(self, role_arn: str, target_arn: str, function: FunctionTarget) -> str | None:
        return self.refuse


@pytest.fixture
def world(tmp_path):
    db = open_database(tmp_path / "ember.db")
    clock, queue, gate, metrics = Clock(), Queue(db), Gate(), Metrics()
    rules, schedules = RuleStore(db, "us-east-1"), ScheduleStore(db, "us-east-1", clock)
    scheduler = Scheduler(db, clock, rules, schedules, queue, gate, metrics, "us-east-1")  # type: ignore[arg-type]
    rules.on_change = schedules.on_change = scheduler.changed
    yield scheduler, clock, queue, gate, metrics
    db.close()


def advance(scheduler: Scheduler, clock: Clock, seconds: float, step: float = 1.0) -> None:
    """Move the clock on, ticking as the server would."""
    end = clock.at + seconds
    while clock.at < end:
        clock.at = min(end, clock.at + step)
        scheduler.tick()


def test_a_rate_rule_runs_each_period_with_the_scheduled_event(world):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(5 minutes)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    assert scheduler.tick() == 300  # scheduler seconds until the first run
    advance(scheduler, clock, 900)
    assert [(f, q, s) for f, q, _, s in queue.sent] == [("fn", None, "schedule")] * 3
    assert [event["time"] for _, _, event, _ in queue.sent] == \
        ["2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:15:00Z"]


def test_missed_runs_run_once_for_the_latest(world, caplog):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(5 minutes)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    clock.at += 3600 + 30  # the server was down for an hour: 12 runs fell due
    scheduler.tick()
    assert [event["time"] for _, _, event, _ in queue.sent] == ["2026-01-01T01:00:00Z"]
    assert "rule r: 11 runs missed" in caplog.text
    advance(scheduler, clock, 300)
    assert [event["time"] for _, _, event, _ in queue.sent][1:] == ["2026-01-01T01:05:00Z"]


def test_a_timer_survives_a_restart_and_a_changed_rule_starts_afresh(world):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(5 minutes)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    clock.at += 100
    scheduler.start()  # what a restart does: the timer is kept
    advance(scheduler, clock, 200)
    assert len(queue.sent) == 1
    scheduler.rules.put_targets("r", [{"Id": "u", "Arn": f"{FN}:live"}])  # targets don't move the timer
    advance(scheduler, clock, 300)
    assert [(f, q) for f, q, _, _ in queue.sent] == [("fn", None), ("fn", None), ("fn", "live")]
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(1 hour)"})  # a new expression: afresh
    advance(scheduler, clock, 3599)
    assert len(queue.sent) == 3


def test_a_refused_run_is_counted_not_sent(world):
    scheduler, clock, queue, gate, metrics = world
    gate.refuse = "no permission"
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(1 minute)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    advance(scheduler, clock, 180)
    assert queue.sent == []
    assert metrics.scheduled.labels("rule", "r", "failed")._value.get() == 3


def test_a_disabled_rule_has_no_timer_and_enabling_catches_nothing_up(world):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(1 minute)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    scheduler.rules.set_state("r", "DISABLED")
    assert scheduler.tick() is None
    clock.at += 3600
    scheduler.rules.set_state("r", "ENABLED")
    scheduler.tick()
    assert queue.sent == []
    advance(scheduler, clock, 60)
    assert len(queue.sent) == 1


def test_a_one_time_schedule_runs_once_and_is_deleted_when_asked(world):
    scheduler, clock, queue, _, _ = world
    for name, action in (("keep", "NONE"), ("drop", "DELETE")):
        scheduler.schedules.create(name, {
            "ScheduleExpression": "at(2026-01-01T00:10:00)", "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": action,
            "Target": {"Arn": FN, "RoleArn": ROLE, "Input": '{"t": "<aws.scheduler.scheduled-time>"}'}})
    advance(scheduler, clock, 3600, step=60)
    assert [event for _, _, event, _ in queue.sent] == [{"t": "2026-01-01T00:10:00Z"}] * 2
    assert [s.config["Name"] for s in scheduler.schedules.all()] == ["keep"]


def test_a_flexible_window_puts_each_run_inside_it(world):
    scheduler, clock, queue, _, _ = world
    scheduler.schedules.create("flex", {
        "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        "Target": {"Arn": FN, "RoleArn": ROLE}})
    dues = []
    for _ in range(20):
        row = scheduler.db.execute("SELECT next_slot, next_due FROM timers").fetchone()
        dues.append(row["next_due"] - row["next_slot"])
        clock.at = row["next_due"]
        scheduler.tick()
    assert all(0 <= due <= 600 for due in dues) and len(set(dues)) > 1
    assert len(queue.sent) == 20


def test_the_clock_runs_fast_and_carries_on_across_a_restart(tmp_path):
    db = open_database(tmp_path / "ember.db")
    fast = SchedulerClock.load(db, 60)
    assert fast.real_seconds(300) == 5
    again = SchedulerClock.load(db, 60)
    assert (again.anchor_wall, again.anchor_time) == (fast.anchor_wall, fast.anchor_time)
    assert SchedulerClock.load(db, 1).now() == pytest.approx(datetime.now(UTC).timestamp(), abs=1)
    db.close()


def test_a_run_that_fails_is_dropped_and_the_timer_moves_on(world, caplog):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(1 minute)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    calls = []

    def broken(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise OSError("disk full")

    queue.enqueue = broken  # type: ignore[method-assign]
    clock.at += 60
    assert scheduler.tick() == pytest.approx(60)  # dropped, and the next run is a period away, not now
    assert len(calls) == 1 and "rule r: its run failed and is dropped" in caplog.text
    assert not scheduler.db.in_transaction


def test_a_clock_whose_speed_changed_starts_every_timer_afresh(world, tmp_path):
    scheduler, clock, queue, _, _ = world
    scheduler.rules.put({"Name": "r", "ScheduleExpression": "rate(5 minutes)"})
    scheduler.rules.put_targets("r", [{"Id": "t", "Arn": FN}])
    clock.at += 3600
    clock.continued = False  # what `load` says when the speed changed: an hour "missed" means nothing
    scheduler.start()
    assert scheduler.tick() == pytest.approx(300) and queue.sent == []
    db = open_database(tmp_path / "other.db")
    SchedulerClock.load(db, 60)
    assert SchedulerClock.load(db, 60).continued and not SchedulerClock.load(db, 120).continued
    db.close()
