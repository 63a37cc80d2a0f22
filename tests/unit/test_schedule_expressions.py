"""ember.events.expressions and timing: rate(), cron() and at(), time zones and daylight saving, next runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ember.events import expressions
from ember.events.expressions import At, CronSchedule, ExpressionError, Rate, iso, parse, zone_of
from ember.events.timing import Timed

NEW_YORK = zone_of("America/New_York")


def ts(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("text, seconds", [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(12 hours)", 43200),
    ("rate(1 day)", 86400), ("rate(7 days)", 604800)])
def test_rates_aws_accepts(text, seconds):
    assert parse(text) == Rate(seconds)


@pytest.mark.parametrize("text", [
    "rate(1 minutes)", "rate(5 minute)", "rate(1 hours)", "rate(2 day)",  # singular for 1, plural otherwise
    "rate(0 minutes)", "rate(-1 minutes)", "rate(30 seconds)", "rate(1 second)", "rate(1.5 hours)",
    "rate(5minutes)", "rate(5 weeks)", "rate 5 minutes", "cron(0 12 * * ?)", "cron(0 12 * * * *)", "",
    "at(2026-01-01T00:00:00)",  # rules have no at()
])
def test_expressions_aws_refuses(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_at_is_for_the_scheduler_only():
    assert parse("at(2026-03-01T09:30:00)", allow_at=True) == At(datetime(2026, 3, 1, 9, 30))
    with pytest.raises(ExpressionError):
        parse("at(2026-02-30T09:30:00)", allow_at=True)
    with pytest.raises(ExpressionError):
        parse("at(2026-03-01 09:30:00)", allow_at=True)


def test_unknown_time_zones_are_refused():
    assert zone_of(None) is UTC and zone_of("UTC") is UTC
    with pytest.raises(ExpressionError):
        zone_of("Mars/Olympus_Mons")


def test_a_cron_in_a_time_zone_follows_its_wall_clock():
    daily = parse("cron(0 9 * * ? *)")
    assert isinstance(daily, CronSchedule)
    assert daily.next_after(ts(2026, 1, 1), NEW_YORK) == ts(2026, 1, 1, 14)  # 09:00 EST
    assert daily.next_after(ts(2026, 7, 1), NEW_YORK) == ts(2026, 7, 1, 13)  # 09:00 EDT


def test_a_wall_time_the_clocks_skip_is_skipped():
    # 2026-03-08: New York's clocks go from 02:00 to 03:00, so 02:30 does not happen that day.
    at_230 = parse("cron(30 2 * * ? *)")
    assert isinstance(at_230, CronSchedule)
    first = at_230.next_after(ts(2026, 3, 7), NEW_YORK)
    assert first == ts(2026, 3, 7, 7, 30)
    assert at_230.next_after(first, NEW_YORK) == ts(2026, 3, 9, 6, 30)


def test_a_wall_time_the_clocks_repeat_runs_once():
    # 2026-11-01: New York's clocks go from 02:00 back to 01:00, so 01:30 happens twice; it runs once.
    at_130 = parse("cron(30 1 * * ? *)")
    assert isinstance(at_130, CronSchedule)
    first = at_130.next_after(ts(2026, 11, 1), NEW_YORK)
    assert first == ts(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert at_130.next_after(first, NEW_YORK) == ts(2026, 11, 2, 6, 30)  # next day, 01:30 EST
    every_15 = parse("cron(0/15 * * * ? *)")
    assert isinstance(every_15, CronSchedule)
    # The repeated hour's wall times all ran in its first pass: from inside the second, the next run is 02:00 EST.
    assert every_15.next_after(ts(2026, 11, 1, 6, 20), NEW_YORK) == ts(2026, 11, 1, 7)


def test_a_rate_of_days_is_24_hours_across_a_clock_change():
    timed = Timed("arn", "schedule", "default/s", parse("rate(1 day)"), NEW_YORK, start=ts(2026, 3, 7, 12))
    assert timed.slot_after(ts(2026, 3, 7, 12)) == ts(2026, 3, 8, 12)


def test_at_names_a_wall_time_in_its_zone():
    once = parse("at(2026-07-01T09:00:00)", allow_at=True)
    assert isinstance(once, At)
    assert once.instant(zone_of("Europe/Paris")) == ts(2026, 7, 1, 7)
    assert once.instant(UTC) == ts(2026, 7, 1, 9)


def test_event_times_are_utc_to_the_second():
    assert iso(ts(2026, 1, 2, 3, 4, 5) + 0.9) == "2026-01-02T03:04:05Z"


def test_a_rule_rate_first_runs_one_period_after_it_starts():
    rule = Timed("arn", "rule", "r", parse("rate(5 minutes)"), UTC)
    assert rule.first_slot(1000.0) == 1300.0
    assert rule.slot_after(1300.0) == 1600.0


def test_a_schedule_rate_runs_at_once_or_from_its_start_date():
    now = ts(2026, 1, 1)
    assert Timed("a", "schedule", "g/s", Rate(300), UTC).first_slot(now) == now
    assert Timed("a", "schedule", "g/s", Rate(300), UTC, start=now + 3600).first_slot(now) == now + 3600
    assert Timed("a", "schedule", "g/s", Rate(300), UTC, start=now - 200).first_slot(now) == now + 100


def test_start_and_end_dates_bound_a_cron_schedule():
    hourly = parse("cron(0 * * * ? *)")
    timed = Timed("a", "schedule", "g/s", hourly, UTC, start=ts(2026, 1, 1, 5), end=ts(2026, 1, 1, 7))
    assert timed.first_slot(ts(2026, 1, 1)) == ts(2026, 1, 1, 5)  # a run at the StartDate itself
    assert timed.slot_after(ts(2026, 1, 1, 6)) == ts(2026, 1, 1, 7)
    assert timed.slot_after(ts(2026, 1, 1, 7)) is None


def test_a_one_time_schedule_in_the_past_never_runs():
    once = Timed("a", "schedule", "g/s", parse("at(2026-01-01T00:00:00)", allow_at=True), UTC)
    assert once.first_slot(ts(2025, 12, 31)) == ts(2026, 1, 1)
    assert once.first_slot(ts(2026, 1, 2)) is None
    assert once.slot_after(ts(2026, 1, 1)) is None


def test_missed_runs_collapse_into_the_latest():
    rate = Timed("a", "rule", "r", Rate(300), UTC)
    assert rate.latest_due(1000.0, 1000.0) == (1000.0, 0)
    assert rate.latest_due(1000.0, 2299.0) == (2200.0, 4)
    hourly = Timed("a", "rule", "r", parse("cron(0 * * * ? *)"), UTC)
    assert hourly.latest_due(ts(2026, 1, 1, 1), ts(2026, 1, 1, 4, 30)) == (ts(2026, 1, 1, 4), 3)


def test_what_decides_the_runs_is_its_spec():
    one = Timed("a", "rule", "r", Rate(300), UTC)
    assert one.spec == Timed("a", "rule", "r", expressions.parse("rate(5 minutes)"), UTC).spec
    assert one.spec != Timed("a", "rule", "r", Rate(600), UTC).spec
