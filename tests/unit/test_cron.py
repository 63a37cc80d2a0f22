"""ember.events.cron: AWS's six-field cron, against AWS's documented examples, the calendar, and croniter."""

from __future__ import annotations

import calendar
import random
from datetime import date, datetime, timedelta

import pytest
from croniter import CroniterBadDateError, croniter

from ember.events.cron import CronError, aws_weekday, parse_cron

START = datetime(2026, 1, 1)  # a Thursday


def runs(fields: str, start: datetime = START, count: int = 5) -> list[datetime]:
    cron, found, at = parse_cron(fields), [], start
    for _ in range(count):
        at = cron.next_after(at)
        assert at is not None
        found.append(at)
    return found


def test_weekdays_are_numbered_from_sunday():
    assert [aws_weekday(date(2026, 1, d)) for d in range(4, 11)] == [1, 2, 3, 4, 5, 6, 7]  # Sun 4 … Sat 10


# The examples of AWS's "Cron expressions reference", each with its documented meaning.

def test_10_am_every_day():
    assert runs("0 10 * * ? *", count=3) == [datetime(2026, 1, d, 10) for d in (1, 2, 3)]


def test_12_15_pm_every_day():
    assert runs("15 12 * * ? *", count=2) == [datetime(2026, 1, 1, 12, 15), datetime(2026, 1, 2, 12, 15)]


def test_6_pm_monday_to_friday():
    found = runs("0 18 ? * MON-FRI *", count=10)
    assert all(run.hour == 18 and run.minute == 0 and run.weekday() < 5 for run in found)
    assert [run.day for run in found] == [1, 2, 5, 6, 7, 8, 9, 12, 13, 14]


def test_8_am_on_the_first_of_every_month():
    assert runs("0 8 1 * ? *", count=3) == [datetime(2026, 1, 1, 8), datetime(2026, 2, 1, 8), datetime(2026, 3, 1, 8)]


def test_every_15_minutes():
    assert runs("0/15 * * * ? *", count=4) == [START + timedelta(minutes=m) for m in (15, 30, 45, 60)]


def test_every_10_minutes_monday_to_friday():
    found = runs("0/10 * ? * MON-FRI *", datetime(2026, 1, 2, 23, 40), count=3)  # a Friday night
    assert found == [datetime(2026, 1, 2, 23, 50), datetime(2026, 1, 5, 0, 0), datetime(2026, 1, 5, 0, 10)]


def test_every_5_minutes_weekdays_between_8_and_17_55():
    found = runs("0/5 8-17 ? * MON-FRI *", datetime(2026, 1, 2, 17, 50), count=3)
    assert found == [datetime(2026, 1, 2, 17, 55), datetime(2026, 1, 5, 8, 0), datetime(2026, 1, 5, 8, 5)]


def test_a_range_of_hours_wraps_past_midnight():
    found = runs("0/30 20-2 ? * MON-FRI *", datetime(2026, 1, 5, 19, 59), count=14)
    assert found[0] == datetime(2026, 1, 5, 20, 0) and found[8] == datetime(2026, 1, 6, 0, 0)
    assert found[13] == datetime(2026, 1, 6, 2, 30)


def test_at_2_05_and_2_35_pm():
    assert runs("5,35 14 * * ? *", count=3) == [datetime(2026, 1, 1, 14, 5), datetime(2026, 1, 1, 14, 35),
                                                datetime(2026, 1, 2, 14, 5)]


def test_last_friday_of_each_month_in_2019_to_2022():
    found = runs("15 10 ? * 6L 2019-2022", datetime(2018, 12, 31), count=48)
    expected = [datetime(y, m, max(d for d in range(1, 32) if _is(y, m, d, calendar.FRIDAY)), 10, 15)
                for y in range(2019, 2023) for m in range(1, 13)]
    assert found == expected
    assert parse_cron("15 10 ? * 6L 2019-2022").next_after(found[-1]) is None


def _is(year: int, month: int, day: int, weekday: int) -> bool:
    return day <= calendar.monthrange(year, month)[1] and date(year, month, day).weekday() == weekday


def test_hash_names_the_nth_weekday_of_the_month():
    assert [run.date() for run in runs("0 9 ? * 3#2 *", count=3)] == \
        [date(2026, 1, 13), date(2026, 2, 10), date(2026, 3, 10)]  # second Tuesdays
    fifth_fridays = [run.date() for run in runs("0 9 ? * FRI#5 *", count=2)]
    assert fifth_fridays == [date(2026, 1, 30), date(2026, 5, 29)]  # months with five Fridays only


def test_l_in_day_of_month_is_the_last_day():
    assert [run.date() for run in runs("0 0 L * ? *", count=3)] == \
        [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_l_alone_in_day_of_week_is_saturday():
    assert [run.date() for run in runs("0 0 ? * L *", count=2)] == [date(2026, 1, 3), date(2026, 1, 10)]


def test_w_is_the_nearest_weekday_within_the_month():
    assert runs("0 0 3W * ? *", count=1)[0].date() == date(2026, 1, 2)  # Sat 3 → Fri 2
    assert runs("0 0 1W * ? *", datetime(2026, 1, 31), count=1)[0].date() == date(2026, 2, 2)  # Sun 1 → Mon 2
    assert runs("0 0 31W * ? *", datetime(2026, 5, 1), count=1)[0].date() == date(2026, 5, 29)  # Sun 31 → Fri 29
    assert runs("0 0 2W * ? *", datetime(2026, 4, 30), count=1)[0].date() == date(2026, 5, 1)  # Sat 2 → Fri 1


def test_lw_is_the_last_weekday():
    assert [run.date() for run in runs("0 0 LW * ? *", count=3)] == \
        [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 31)]


def test_names_are_case_insensitive_and_months_step():
    assert [run.date() for run in runs("0 0 1 jan-mar ? *", count=3)] == \
        [date(2026, 2, 1), date(2026, 3, 1), date(2027, 1, 1)]
    assert [run.month for run in runs("0 0 1 */3 ? *", datetime(2025, 12, 31), count=4)] == [1, 4, 7, 10]


def test_a_day_that_never_comes_has_no_next_run():
    assert parse_cron("0 0 30 2 ? *").next_after(START) is None


@pytest.mark.parametrize("fields", [
    "0 12 * * *",  # five fields
    "0 12 * * ? * *",  # seven
    "0 12 * * * *",  # * in both day fields
    "0 12 ? * ? *",  # ? in both
    "0 12 1 * MON *",  # values in both
    "60 12 * * ? *", "0 24 * * ? *", "0 0 32 * ? *", "0 0 * 13 ? *", "0 0 ? * 8 *", "0 0 * * ? 1969",
    "0 0 * * ? 2200",
    "0 0 ? * 3#6 *", "0 0 ? * 3#1,6#3 *",  # one # expression only
    "0 0 ? * */2 *",  # no step in day-of-week
    "0 0 * FOO ? *", "0/0 * * * ? *", "a * * * ? *", "0 0 LX * ? *",
])
def test_aws_refuses(fields):
    with pytest.raises(CronError):
        parse_cron(fields)


# Where the two dialects overlap, croniter (translated: ? is *, days of week one lower) agrees.

MINUTES = ["*", "0", "0/15", "5,35", "10-20", "*/7", "59"]
HOURS = ["*", "0", "8-17", "20-2", "*/5", "12"]
DOM = ["*", "1", "15", "1-10", "L", "31", "10,20"]
MONTHS = ["*", "JAN-MAR", "2", "*/3", "DEC"]
DOW = ["MON-FRI", "1", "SUN,SAT", "6#3", "6L", "3"]


def _croniter_dow(dow: str) -> str:
    if dow.endswith("L"):
        return f"L{int(dow[0]) - 1}"
    if "#" in dow:
        day, nth = dow.split("#")
        return f"{int(day) - 1}#{nth}"
    return ",".join(str(int(d) - 1) if d.isdigit() else d for d in dow.split(","))


def test_agrees_with_croniter_on_the_shared_dialect():
    chooser, compared = random.Random(15), 0
    for _ in range(300):
        minute, hour, month = chooser.choice(MINUTES), chooser.choice(HOURS), chooser.choice(MONTHS)
        if chooser.random() < 0.5:
            dom, dow, unix = chooser.choice(DOM), "?", None
        else:
            dom, dow = "?", chooser.choice(DOW)
            unix = _croniter_dow(dow)
        unix_fields = f"{minute} {hour} {'*' if dom == '?' else dom} {month} {unix or '*'}"
        expected, it = [], croniter(unix_fields, START)
        try:
            for _ in range(12):
                expected.append(it.get_next(datetime))
        except CroniterBadDateError:  # croniter gives up on rare days (31 in short months) within its horizon
            continue
        compared += 1
        assert runs(f"{minute} {hour} {dom} {month} {dow} *", count=12) == expected, unix_fields
    assert compared > 250
