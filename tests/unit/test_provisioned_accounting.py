"""Provisioned concurrency in the limiter: carved out of a reservation or the unreserved pool, and
calls up to it never wait on the pool."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from ember.core.concurrency import ConcurrencyLimiter
from ember.errors import InvalidParameterValueException, TooManyRequestsException


class Registry:
    def __init__(self, **reserved: int | None) -> None:
        self.records = {name: SimpleNamespace(name=name, reserved=r) for name, r in reserved.items()}
        self.writes = 0
        self.listed = 0

    def get(self, name: str) -> SimpleNamespace:
        return self.records[name]

    def list(self) -> list[SimpleNamespace]:
        self.listed += 1
        return list(self.records.values())


def test_provisioned_calls_leave_the_unreserved_pool_alone():
    limiter = ConcurrencyLimiter(Registry(a=None, b=None), account_limit=20)
    limiter.set_provisioned("a", {"1": 2})
    assert limiter.unreserved_limit() == 18
    with contextlib.ExitStack() as held:
        for _ in range(18):
            held.enter_context(limiter.slot("b", "$LATEST"))
        with pytest.raises(TooManyRequestsException):
            held.enter_context(limiter.slot("a", "$LATEST"))
        held.enter_context(limiter.slot("a", "1"))
        held.enter_context(limiter.slot("a", "1"))
        with pytest.raises(TooManyRequestsException):
            held.enter_context(limiter.slot("a", "1"))  # beyond its 2, it shares the full pool
    assert limiter.unreserved_in_flight == 0 and sum(limiter.provisioned_in_flight.values()) == 0


def test_provisioned_concurrency_fits_the_reservation_or_the_unreserved_minimum():
    limiter = ConcurrencyLimiter(Registry(a=3, b=None), account_limit=20)
    limiter.check_provisioned("a", 3)
    limiter.set_provisioned("a", {"1": 2})
    with pytest.raises(InvalidParameterValueException, match="reservedConcurrentExecution"):
        limiter.check_provisioned("a", 2)
    limiter.check_provisioned("a", 3, replacing=2)
    with pytest.raises(InvalidParameterValueException, match="provisioned concurrency"):
        limiter.check_reservation("a", 1)
    limiter.check_provisioned("b", 15)  # 20 - 3 reserved - 15 leaves the minimum of 2
    with pytest.raises(InvalidParameterValueException, match=r"minimum value of \[2\]"):
        limiter.check_provisioned("b", 16)
    limiter.set_provisioned("a", {})
    assert limiter.provisioned == {} and limiter.unreserved_limit() == 17


def test_a_slot_does_not_walk_every_function():
    """The hot path is O(1) in the number of functions; the sum is kept until a function changes."""
    registry = Registry(**{f"f{n}": (1 if n % 2 else None) for n in range(1000)})
    limiter = ConcurrencyLimiter(registry, account_limit=1000)
    for _ in range(100):
        with limiter.slot("f0", "$LATEST"):
            pass
    assert registry.listed == 1 and limiter.unreserved_limit() == 500
    registry.records["f0"].reserved, registry.writes = 10, registry.writes + 1
    assert limiter.unreserved_limit() == 490 and registry.listed == 2
