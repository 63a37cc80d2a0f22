"""AWS's six-field cron, exactly as EventBridge's "Cron expressions reference" defines it.

    cron(minutes hours day-of-month month day-of-week year)

Minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT
(1 = Sunday, unlike Unix cron's 0 or croniter's Monday = 1), year 1970-2199. Every field takes `,`,
`-` and `*`; all but day-of-week take `/`. Exactly one of the two day fields is `?`. Day-of-month
also takes `L` (last day), `LW` (last weekday) and `nW` (the weekday nearest day n, never leaving
the month); day-of-week takes `L` (Saturday, the week's last day), `nL` (the month's last day n)
and `n#k` (its k-th day n, alone in the field). A range may wrap (`20-2` in hours).

Why not croniter: it reads a sixth field as seconds, numbers Monday 1, and has neither `6L` nor
`LW`; and AWS's daylight-saving rules need wall-clock matching (ember.events.expressions) that a
parser of our own gives for free. tests/unit/test_cron.py checks this one against croniter where
the two dialects overlap.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
# (low, high, names, step allowed) per field, in the expression's order.
Field = tuple[int, int, dict[str, int], bool]
FIELDS: tuple[Field, ...] = ((0, 59, {}, True), (0, 23, {}, True), (1, 31, {}, True), (1, 12, MONTHS, True),
                             (1, 7, DAYS, False), (1970, 2199, {}, True))
_ELEMENT = re.compile(r"^(?:(?P<all>\*)|(?P<start>\w+)(?:-(?P<end>\w+))?)(?:/(?P<step>\d+))?$")
_NEAREST_WEEKDAY = re.compile(r"^(\d{1,2})W$")
_LAST_OF_WEEK = re.compile(r"^(\w+)L$")
_NTH_OF_WEEK = re.compile(r"^(\w+)#(\d)$")


class CronError(ValueError):
    """The expression is not one AWS accepts."""


@dataclass(frozen=True)
class DaySpec:
    """How one of the two day fields picks days; `any` for its `?`."""

    any: bool = False
    days: frozenset[int] = frozenset()  # day-of-month numbers, or AWS day-of-week numbers (1 = Sunday)
    last: bool = False  # L in day-of-month
    last_weekday: bool = False  # LW
    nearest_weekday: int | None = None  # nW
    last_of: int | None = None  # nL in day-of-week: the month's last such day
    nth: tuple[int, int] | None = None  # n#k in day-of-week: the month's k-th such day


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: tuple[int, ...]
    day_of_month: DaySpec
    day_of_week: DaySpec

    def next_after(self, after: datetime) -> datetime | None:
        """The first wall-clock minute strictly after `after` (naive), or None if there is none by 2199."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for year in (y for y in self.years if y >= start.year):
            for month in (m for m in range(1, 13) if m in self.months):
                if (year, month) < (start.year, start.month):
                    continue
                found = self._in_month(year, month, start)
                if found is not None:
                    return found
        return None

    def _in_month(self, year: int, month: int, start: datetime) -> datetime | None:
        first = start.day if (year, month) == (start.year, start.month) else 1
        for day in sorted(self.days_of(year, month)):
            if day < first:
                continue
            at = self._in_day(date(year, month, day), start)
            if at is not None:
                return at
        return None

    def _in_day(self, day: date, start: datetime) -> datetime | None:
        earliest = start if day == start.date() else datetime(day.year, day.month, day.day)
        for hour in self.hours:
            if hour < earliest.hour:
                continue
            for minute in self.minutes:
                if hour > earliest.hour or minute >= earliest.minute:
                    return datetime(day.year, day.month, day.day, hour, minute)
        return None

    def days_of(self, year: int, month: int) -> set[int]:
        """The month's days the two day fields pick (the `?` one picks none of its own)."""
        spec, by_week = (self.day_of_week, True) if self.day_of_month.any else (self.day_of_month, False)
        return _week_days(spec, year, month) if by_week else _month_days(spec, year, month)


def _month_days(spec: DaySpec, year: int, month: int) -> set[int]:
    length = calendar.monthrange(year, month)[1]
    if spec.last:
        return {length}
    if spec.last_weekday:
        return {_nearest_weekday(year, month, length)}
    if spec.nearest_weekday is not None:
        return {_nearest_weekday(year, month, spec.nearest_weekday)} if spec.nearest_weekday <= length else set()
    return {day for day in spec.days if day <= length}


def _week_days(spec: DaySpec, year: int, month: int) -> set[int]:
    length = calendar.monthrange(year, month)[1]
    by_weekday: dict[int, list[int]] = {}
    for day in range(1, length + 1):
        by_weekday.setdefault(aws_weekday(date(year, month, day)), []).append(day)
    if spec.last_of is not None:
        return {by_weekday[spec.last_of][-1]}
    if spec.nth is not None:
        weekday, k = spec.nth
        return {by_weekday[weekday][k - 1]} if len(by_weekday[weekday]) >= k else set()
    return {day for weekday in spec.days for day in by_weekday.get(weekday, [])}


def aws_weekday(day: date) -> int:
    """AWS's day-of-week: 1 = Sunday … 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """The weekday (Mon-Fri) nearest `day`, without leaving the month (Quartz's `W`)."""
    length = calendar.monthrange(year, month)[1]
    weekday = date(year, month, day).weekday()  # Monday 0 … Sunday 6
    if weekday == 5:  # Saturday: Friday before, or Monday after when that would leave the month
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before at the month's end
        return day + 1 if day < length else day - 2
    return day


def parse_cron(fields_text: str) -> Cron:
    """The six fields inside `cron(...)`; CronError if AWS would refuse them."""
    fields = fields_text.split()
    if len(fields) != 6:
        raise CronError(f"a cron expression has 6 fields, not {len(fields)}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError("exactly one of day-of-month and day-of-week must be ?")
    return Cron(
        minutes=tuple(sorted(_values(minutes, *FIELDS[0]))), hours=tuple(sorted(_values(hours, *FIELDS[1]))),
        months=frozenset(_values(month, *FIELDS[3])), years=tuple(sorted(_values(year, *FIELDS[5]))),
        day_of_month=_day_of_month(dom), day_of_week=_day_of_week(dow))


def _day_of_month(text: str) -> DaySpec:
    upper = text.upper()
    if upper == "?":
        return DaySpec(any=True)
    if upper == "L":
        return DaySpec(last=True)
    if upper == "LW":
        return DaySpec(last_weekday=True)
    nearest = _NEAREST_WEEKDAY.match(upper)
    if nearest:
        return DaySpec(nearest_weekday=_number(nearest[1], 1, 31, {}))
    return DaySpec(days=frozenset(_values(text, *FIELDS[2])))


def _day_of_week(text: str) -> DaySpec:
    upper = text.upper()
    if upper == "?":
        return DaySpec(any=True)
    if upper == "L":
        return DaySpec(days=frozenset({7}))
    last = _LAST_OF_WEEK.match(upper)
    if last:
        return DaySpec(last_of=_number(last[1], 1, 7, DAYS))
    nth = _NTH_OF_WEEK.match(upper)
    if nth:
        k = int(nth[2])
        if not 1 <= k <= 5:
            raise CronError(f"{text}: the instance after # is 1 to 5")
        return DaySpec(nth=(_number(nth[1], 1, 7, DAYS), k))
    return DaySpec(days=frozenset(_values(text, *FIELDS[4])))


def _values(text: str, low: int, high: int, names: dict[str, int], step_allowed: bool) -> set[int]:
    """Every value a comma-separated list of `*`, `n`, `n-m` and `/step` elements names."""
    values: set[int] = set()
    for element in text.upper().split(","):
        match = _ELEMENT.match(element)
        if not match or (match["step"] and not step_allowed):
            raise CronError(f"{element!r} is not a valid element of {text!r}")
        values |= _element(match, low, high, names)
    return values


def _element(match: re.Match[str], low: int, high: int, names: dict[str, int]) -> set[int]:
    step = int(match["step"]) if match["step"] else 1
    if step < 1:
        raise CronError("a step is at least 1")
    if match["all"]:
        start, end = low, high
    else:
        start = _number(match["start"], low, high, names)
        end = _number(match["end"], low, high, names) if match["end"] else (high if match["step"] else start)
    span = end - start if end >= start else end + (high - low + 1) - start  # a range may wrap: 20-2
    return {low + (start - low + offset) % (high - low + 1) for offset in range(0, span + 1, step)}


def _number(text: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(text) if text in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise CronError(f"{text!r} is not between {low} and {high}")
    return value
