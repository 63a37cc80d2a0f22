"""Concurrency accounting: the account limit, reserved concurrency per function, and throttling.

A function with reserved concurrency R runs at most R requests at once (R = 0 throttles every
call); every other function shares what is left unreserved of the account limit. At least
`min_unreserved` (AWS: 100 of 1,000, i.e. a tenth) always stays unreserved.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from ember.core.functions import FunctionRegistry
from ember.errors import InvalidParameterValueException, TooManyRequestsException

RETRY_AFTER_S = 1
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


class ConcurrencyLimiter:
    """In-flight counts live here only; they change on the event loop, so no lock is needed."""

    def __init__(self, registry: FunctionRegistry, account_limit: int) -> None:
        self.registry = registry
        self.account_limit = account_limit
        self.in_flight: Counter[str] = Counter()
        self.unreserved_in_flight = 0

    @property
    def min_unreserved(self) -> int:
        return max(1, -(-self.account_limit // 10))

    def reserved_total(self, excluding: str | None = None) -> int:
        return sum(r.reserved or 0 for r in self.registry.list() if r.name != excluding)

    def unreserved_limit(self) -> int:
        return self.account_limit - self.reserved_total()

    def check_reservation(self, name: str, reserved: int) -> None:
        """AWS's rule: a reservation may not push the unreserved pool below its minimum."""
        left = self.account_limit - self.reserved_total(excluding=name) - reserved
        if left < self.min_unreserved:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{self.min_unreserved}].")

    @contextlib.contextmanager
    def slot(self, name: str) -> Iterator[None]:
        """Hold one concurrency slot for `name` for the duration of a call, or raise 429."""
        reserved = self.registry.get(name).reserved
        if reserved is not None:
            if self.in_flight[name] >= reserved:
                raise _throttle(RESERVED_LIMIT)
        elif self.unreserved_in_flight >= self.unreserved_limit():
            raise _throttle(ACCOUNT_LIMIT)
        shared = reserved is None
        self.in_flight[name] += 1
        self.unreserved_in_flight += shared
        try:
            yield
        finally:
            self.in_flight[name] -= 1
            self.unreserved_in_flight -= shared


def _throttle(reason: str) -> TooManyRequestsException:
    return TooManyRequestsException("Rate Exceeded.", Reason=reason, retryAfterSeconds=RETRY_AFTER_S)
