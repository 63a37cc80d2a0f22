"""Concurrency accounting: the account limit, reserved concurrency per function, and throttling.

A function with reserved concurrency R runs at most R requests at once (R = 0 throttles every
call); every other function shares what is left unreserved of the account limit. At least
`min_unreserved` (AWS: 100 of 1,000, i.e. a tenth) always stays unreserved.

Provisioned concurrency P of a version is carved out of its function's reservation if it has one
(the function's P's may not add up to more than R), else out of the unreserved pool: up to P
calls of that version run on it without touching the pool, calls beyond P share the pool.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator

from ember.core.functions import FunctionRegistry
from ember.errors import InvalidParameterValueException, TooManyRequestsException
from ember.observe.metrics import Metrics

RETRY_AFTER_S = 1
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


class ConcurrencyLimiter:
    """In-flight counts live here only; they change on the event loop, so no lock is needed."""

    def __init__(self, registry: FunctionRegistry, account_limit: int, metrics: Metrics | None = None) -> None:
        self.registry = registry
        self.account_limit = account_limit
        self.metrics = metrics or Metrics()
        self.in_flight: Counter[str] = Counter()
        self.unreserved_in_flight = 0
        self.provisioned: dict[tuple[str, str], int] = {}  # (function, version) → provisioned concurrency
        self.provisioned_in_flight: Counter[tuple[str, str]] = Counter()
        self._provisioned_total: Counter[str] = Counter()
        self._release_listeners: list[Callable[[str], None]] = []
        self._taken: tuple[int, int] = (-1, 0)  # (registry writes, reserved_total) as of those writes

    def on_release(self, listener: Callable[[str], None]) -> None:
        """Be told the function's name whenever one of its calls gives its slot back."""
        self._release_listeners.append(listener)

    @property
    def min_unreserved(self) -> int:
        return max(1, -(-self.account_limit // 10))

    def reserved_total(self, excluding: str | None = None) -> int:
        """What is taken out of the unreserved pool: each reservation, else the function's provisioned concurrency."""
        return sum(self._provisioned_total[r.name] if r.reserved is None else r.reserved
                   for r in self.registry.list() if r.name != excluding)

    def unreserved_limit(self) -> int:
        """O(1) on the invoke path: the sum over all functions is kept until a function or a
        provisioned config changes (it was 365 µs per call with 1,000 functions deployed)."""
        writes, taken = self._taken
        if writes != self.registry.writes:
            taken = self.reserved_total()
            self._taken = (self.registry.writes, taken)
        return self.account_limit - taken

    def check_reservation(self, name: str, reserved: int) -> None:
        """AWS's rule: a reservation may not push the unreserved pool below its minimum, nor fall below
        the function's provisioned concurrency."""
        if reserved < self._provisioned_total[name]:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function is less than the function's provisioned "
                f"concurrency [{self._provisioned_total[name]}].")
        left = self.account_limit - self.reserved_total(excluding=name) - reserved
        if left < self.min_unreserved:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{self.min_unreserved}].")

    def check_provisioned(self, name: str, requested: int, replacing: int = 0) -> None:
        """AWS's rules for a provisioned concurrency config of `requested` (instead of `replacing`)."""
        total = self._provisioned_total[name] - replacing + requested
        reserved = self.registry.get(name).reserved
        if reserved is not None:
            if total > reserved:
                raise InvalidParameterValueException("Requested Provisioned Concurrency should not be greater "
                                                     "than the reservedConcurrentExecution for function")
        elif self.account_limit - self.reserved_total(excluding=name) - total < self.min_unreserved:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                f"below its minimum value of [{self.min_unreserved}].")

    def set_provisioned(self, name: str, by_version: dict[str, int]) -> None:
        """The function's provisioned concurrency now, per version (replacing what was set before)."""
        for key in [key for key in self.provisioned if key[0] == name]:
            del self.provisioned[key]
        self.provisioned.update({(name, version): n for version, n in by_version.items() if n})
        self._provisioned_total[name] = sum(by_version.values())
        if not self._provisioned_total[name]:
            del self._provisioned_total[name]
        self._taken = (-1, 0)

    @contextlib.contextmanager
    def slot(self, name: str, version: str) -> Iterator[None]:
        """Hold one concurrency slot for a call of `name` (running `version`) while it runs, or raise 429."""
        reserved = self.registry.get(name).reserved
        key = (name, version)
        on_provisioned = reserved is None and key in self.provisioned and \
            self.provisioned_in_flight[key] < self.provisioned[key]
        if reserved is not None:
            if self.in_flight[name] >= reserved:
                raise self._throttle(name, RESERVED_LIMIT)
        elif not on_provisioned and self.unreserved_in_flight >= self.unreserved_limit():
            raise self._throttle(name, ACCOUNT_LIMIT)
        shared = reserved is None and not on_provisioned
        self.in_flight[name] += 1
        self.unreserved_in_flight += shared
        if on_provisioned:
            self.provisioned_in_flight[key] += 1
        try:
            yield
        finally:
            self.in_flight[name] -= 1
            self.unreserved_in_flight -= shared
            if on_provisioned:
                self.provisioned_in_flight[key] -= 1
            for listener in self._release_listeners:
                listener(name)

    def _throttle(self, name: str, reason: str) -> TooManyRequestsException:
        """The one place a call is refused a slot, so every throttle is counted."""
        self.metrics.observe_throttle(name, reason)
        return TooManyRequestsException("Rate Exceeded.", Reason=reason, retryAfterSeconds=RETRY_AFTER_S)
