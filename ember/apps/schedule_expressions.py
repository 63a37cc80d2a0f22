"""Check a schedule expression before anything is deployed — `rate(5 minutes)`, `cron(0 12 * * ? *)`,
`at(2027-01-01T00:00:00)` — with the parser EventBridge and the Scheduler use here (ember.events.expressions:
AWS's six-field cron with L, W, #, year and its ranges), so a template is refused with the same reason the
server would give, before any of it is applied.
"""

from __future__ import annotations

from ember.errors import TemplateError
from ember.events.expressions import ExpressionError, parse


def expression_problem(expression: str, allow_at: bool = False) -> str | None:
    """Why `expression` is not a schedule AWS would take, or None. `allow_at`: one-time `at()` schedules, which
    the Scheduler takes and EventBridge rules do not."""
    try:
        parse(expression, allow_at=allow_at)
    except ExpressionError as exc:
        return str(exc)
    return None


def check_expression(expression: str, file: str | None = None, allow_at: bool = False) -> None:
    problem = expression_problem(expression, allow_at)
    if problem:
        raise TemplateError(f"schedule expression {expression!r} is not valid: {problem}", file)
