"""When a rule or a schedule runs: its first run, the one after, and the latest of several missed runs.

A rule's `rate()` starts when the rule is created or enabled and first runs one period later; a
schedule's starts at its StartDate, or runs at once without one (AWS: "your schedule starts
invoking the target immediately"). A `cron()` runs at the next minute it names, never before a
schedule's StartDate nor after its EndDate; an `at()` runs once (a time already past runs never).
Instants are epoch seconds on the scheduler's clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, tzinfo

from ember.events import expressions
from ember.events.expressions import At, CronSchedule, Expression, Rate
from ember.events.rules import Rule
from ember.events.schedules import Schedule

MISSED_COUNT_CAP = 10_000  # counting a minute-by-minute cron through a long outage stops here


@dataclass(frozen=True)
class Timed:
    """What the scheduler needs of a rule or a schedule."""

    arn: str
    kind: str  # "rule" or "schedule"
    label: str  # the rule's name, or the schedule's group/name
    expression: Expression
    zone: tzinfo
    start: float | None = None
    end: float | None = None
    window_s: float = 0.0  # a FLEXIBLE time window: each run falls at random within it

    @property
    def spec(self) -> str:
        """Everything that decides when it runs: a timer is kept while this stays the same."""
        return json.dumps([self.expression.__class__.__name__, repr(self.expression), str(self.zone), self.start,
                           self.end, self.window_s])

    def first_slot(self, now: float) -> float | None:
        """The first run from now on."""
        if isinstance(self.expression, Rate):
            if self.kind == "rule":
                return self._bounded(now + self.expression.seconds)
            return self._bounded(self.expression.first_slot(self.start or now, now))
        if isinstance(self.expression, CronSchedule):
            after = now if self.start is None else max(now, self.start - 1)
            return self._bounded(self.expression.next_after(after, self.zone))
        instant = self.expression.instant(self.zone)
        return instant if instant >= now else None

    def slot_after(self, slot: float) -> float | None:
        if isinstance(self.expression, At):
            return None
        return self._bounded(self.expression.next_after(slot, self.zone))

    def latest_due(self, slot: float, now: float) -> tuple[float, int]:
        """The latest run at or before `now` from `slot` on, and how many runs before it were missed."""
        if isinstance(self.expression, Rate):
            last = now if self.end is None else min(now, self.end)
            skipped = max(0, int((last - slot) // self.expression.seconds))
            return slot + skipped * self.expression.seconds, skipped
        skipped = 0
        while skipped < MISSED_COUNT_CAP:
            later = self.slot_after(slot)
            if later is None or later > now:
                break
            slot, skipped = later, skipped + 1
        return slot, skipped

    def _bounded(self, slot: float | None) -> float | None:
        return None if slot is None or (self.end is not None and slot > self.end) else slot


def timed_rule(rule: Rule) -> Timed:
    return Timed(rule.arn, "rule", rule.name, expressions.parse(rule.config["ScheduleExpression"]), UTC)


def timed_schedule(schedule: Schedule) -> Timed:
    config = schedule.config
    expression = expressions.parse(config["ScheduleExpression"], allow_at=True)
    one_time = isinstance(expression, At)  # AWS ignores StartDate and EndDate for one-time schedules
    return Timed(schedule.arn, "schedule", schedule.label, expression,
                 expressions.zone_of(config.get("ScheduleExpressionTimezone")),
                 None if one_time else config.get("StartDate"), None if one_time else config.get("EndDate"),
                 schedule.window_s)
