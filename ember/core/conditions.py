"""The few IAM Condition operators and keys Ember can evaluate; anything else is reported once and fails closed."""

from __future__ import annotations

import fnmatch
import logging
from typing import Any

log = logging.getLogger("ember.iam")

# The keys a request carries in Ember (ember.core.policy.AccessRequest.context).
KNOWN_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "aws:requestedregion",
                        "aws:principaltype", "aws:userid",
                        # a function's resource policy (ember.core.resource_policy): the trigger's side
                        "aws:sourcearn", "aws:sourceaccount", "aws:principalorgid", "lambda:eventsourcetoken",
                        "lambda:functionurlauthtype", "lambda:invokedviafunctionurl"})
_warned: set[str] = set()


def _string_equals(actual: str, expected: str) -> bool:
    return actual == expected


def _string_like(actual: str, expected: str) -> bool:
    return fnmatch.fnmatchcase(actual, expected.replace("[", "[[]"))


OPERATORS = {
    "StringEquals": (_string_equals, False), "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), False),
    "StringLike": (_string_like, False), "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_equals, False), "ArnLike": (_string_like, False),
    "ArnNotEquals": (_string_equals, True), "ArnNotLike": (_string_like, True),
    "Bool": (lambda a, e: a.lower() == e.lower(), False),
}


def condition_holds(condition: Any, context: dict[str, str]) -> bool | None:
    """True or False when every test can be evaluated; None (said once in the log) when one cannot."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        _cannot(f"Condition {condition!r}")
        return None
    results = [_test(operator, tests, context) for operator, tests in condition.items()]
    if None in results:
        return None
    return all(results)


def _test(operator: str, tests: Any, context: dict[str, str]) -> bool | None:
    if operator not in OPERATORS or not isinstance(tests, dict):
        _cannot(f"condition operator {operator}")
        return None
    compare, negated = OPERATORS[operator]
    for key, expected in tests.items():
        if key.lower() not in KNOWN_KEYS:
            _cannot(f"condition key {key}")
            return None
        actual = context.get(key.lower())
        values = [expected] if isinstance(expected, str) else list(expected)
        matched = actual is not None and any(compare(actual, str(v)) for v in values)
        if matched == negated:
            return False
    return True


def _cannot(what: str) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("Ember cannot evaluate the %s: statements using it do not allow anything", what)
