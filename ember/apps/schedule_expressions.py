"""Check a schedule expression's shape before anything is deployed: `rate(5 minutes)`, `cron(0 12 * * ? *)`,
`at(2027-01-01T00:00:00)`.

Only the shape: AWS's full cron and rate rules (field ranges, `?` in day-of-month or day-of-week, L/W/#) come
with EventBridge's own parser (branch `schedules`); `check_expression` is the one call site to hand to it.
"""

from __future__ import annotations

import re

from ember.errors import TemplateError

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\(([^()]+)\)$")
AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")


def expression_problem(expression: str) -> str | None:
    """Why `expression` is not a schedule AWS would take (as far as its shape tells), or None."""
    rate = RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "a rate must be a positive whole number"
        if (value == 1) != (not unit.endswith("s")):
            return f"use '{unit.rstrip('s')}' for a rate of 1 and '{unit.rstrip('s')}s' for more"
        return None
    cron = CRON.match(expression)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not " \
                   f"{len(fields)}"
        if "?" not in (fields[2], fields[4]):
            return "one of day-of-month and day-of-week must be '?'"
        # TODO(schedules): hand the fields to the EventBridge cron parser once branch `schedules` lands.
        return None
    if AT.match(expression):
        return None
    return "expected rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)"


def check_expression(expression: str, file: str | None = None) -> None:
    problem = expression_problem(expression)
    if problem:
        raise TemplateError(f"schedule expression {expression!r} is not valid: {problem}", file)
