"""Schedule expressions (`rate()`, `cron()`, `at()`) and the instants they name, as AWS evaluates them.

Instants are epoch seconds on the scheduler's clock (ember.events.clock). A cron expression is
matched on the wall clock of its time zone (rules: always UTC), with EventBridge Scheduler's
daylight-saving rules: a wall time the clocks skip over is skipped, and one they repeat runs once.
A rate counts whole periods from an anchor in absolute time, so `rate(1 day)` is 24 hours even
across a daylight-saving change (AWS: "days represents a 24-hour duration on the clock").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ember.events.cron import Cron, CronError, parse_cron

UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")


class ExpressionError(ValueError):
    """Not an expression AWS accepts (the caller answers with its service's own words)."""


@dataclass(frozen=True)
class Rate:
    seconds: int

    def first_slot(self, anchor: float, not_before: float) -> float:
        """The first of anchor, anchor + period, … at or after `not_before`."""
        if not_before <= anchor:
            return anchor
        periods = -(-(not_before - anchor) // self.seconds)  # ceiling
        return anchor + periods * self.seconds

    def next_after(self, slot: float, zone: tzinfo) -> float | None:
        return slot + self.seconds


@dataclass(frozen=True)
class CronSchedule:
    cron: Cron

    def next_after(self, instant: float, zone: tzinfo) -> float | None:
        """The first minute the expression names on `zone`'s wall clock strictly after `instant`."""
        wall = datetime.fromtimestamp(instant, zone).replace(tzinfo=None)
        while True:
            found = self.cron.next_after(wall)
            if found is None:
                return None
            at = instant_of(found, zone)
            if at is not None and at > instant:  # a repeated wall time that already ran is not run again
                return at
            wall = found


@dataclass(frozen=True)
class At:
    wall: datetime

    def instant(self, zone: tzinfo) -> float:
        at = instant_of(self.wall, zone)
        # A wall time the clocks skip: the instant it would have been before the change.
        return at if at is not None else self.wall.replace(tzinfo=zone, fold=0).timestamp()


Expression = Rate | CronSchedule | At


def parse(text: str, allow_at: bool = False) -> Expression:
    """`rate(…)`, `cron(…)` and, for the Scheduler, `at(…)`; ExpressionError otherwise."""
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate[1]), rate[2]
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ExpressionError("rate() takes a positive value, a singular unit for 1 and a plural one otherwise")
        return Rate(value * UNIT_SECONDS[unit.rstrip("s")])
    cron = _CRON.match(text)
    if cron:
        try:
            return CronSchedule(parse_cron(cron[1]))
        except CronError as exc:
            raise ExpressionError(str(exc)) from exc
    at = _AT.match(text) if allow_at else None
    if at:
        try:
            year, month, day, hour, minute, second = (int(part) for part in at.groups())
            return At(datetime(year, month, day, hour, minute, second))
        except ValueError as exc:
            raise ExpressionError(str(exc)) from exc
    raise ExpressionError(f"{text!r} is not a rate(), cron() or at() expression")


def zone_of(name: str | None) -> tzinfo:
    """An IANA time zone by name (UTC when none); ExpressionError for one zoneinfo does not know."""
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ExpressionError(f"unknown time zone {name!r}") from exc


def instant_of(wall: datetime, zone: tzinfo) -> float | None:
    """The instant a naive wall time names in `zone` (its first if repeated); None if the clocks skip it."""
    at = wall.replace(tzinfo=zone, fold=0)
    back = at.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return at.timestamp() if back == wall else None


def iso(instant: float) -> str:
    """AWS's event time: UTC to the second, `2026-01-01T12:00:00Z`."""
    return datetime.fromtimestamp(int(instant), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
