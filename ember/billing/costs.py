"""What recorded calls cost: per function and in total, gross, and net of the monthly free tier.

The free tier (1M requests and 400,000 GB-seconds per UTC calendar month, for the whole account)
is used up in invocation order, so a function's share depends on every call before it, whichever
function made it. Calls can be re-priced under another model or at another memory size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ember.billing.prices import PriceModel


class Call(NamedTuple):
    """One recorded invocation, as the invocations table keeps it."""

    function: str
    duration_ms: float
    init_ms: float | None
    memory_mb: int
    arch: str


@dataclass
class FunctionCost:
    function: str
    requests: int = 0
    gb_seconds: Decimal = Decimal(0)
    request_cost: Decimal = Decimal(0)
    duration_cost: Decimal = Decimal(0)
    free_tier_used: Decimal = Decimal(0)  # what the free tier paid of this function's calls

    @property
    def gross(self) -> Decimal:
        return self.request_cost + self.duration_cost

    def add(self, other: FunctionCost) -> None:
        self.requests += other.requests
        self.gb_seconds += other.gb_seconds
        self.request_cost += other.request_cost
        self.duration_cost += other.duration_cost
        self.free_tier_used += other.free_tier_used


@dataclass
class CostReport:
    model: PriceModel
    functions: dict[str, FunctionCost] = field(default_factory=dict)

    def total(self, names: Iterable[str] | None = None) -> FunctionCost:
        total = FunctionCost("total")
        for name, cost in self.functions.items():
            if names is None or name in names:
                total.add(cost)
        return total


def price_calls(calls: Iterable[Call], model: PriceModel, free_tier: bool = True,
                memory_mb: int | None = None) -> CostReport:
    """Price calls given in invocation order; `memory_mb` re-prices every call at that size."""
    free = _FreeTier(model, free_tier)
    counts: Counter[tuple[str, int, int, str]] = Counter()  # calls alike are priced together, once
    used: dict[str, Decimal] = {}
    for call in calls:
        memory = memory_mb or call.memory_mb
        key = (call.function, memory, model.billed_ms(call.duration_ms, call.init_ms), call.arch)
        counts[key] += 1
        if free.left:
            used[call.function] = used.get(call.function, Decimal(0)) + free.take(*key[1:])
    report = CostReport(model)
    for (function, memory, billed, arch), n in counts.items():
        gb_seconds = model.gb_seconds(memory, billed) * n
        cost = report.functions.setdefault(function, FunctionCost(function))
        cost.add(FunctionCost(function, n, gb_seconds, model.request_price * n,
                              gb_seconds * model.gb_second_price(arch)))
    for function, amount in used.items():
        report.functions[function].free_tier_used = amount
    return report


class _FreeTier:
    """What is left of the month's free requests and GB-seconds, used up one call at a time."""

    def __init__(self, model: PriceModel, enabled: bool) -> None:
        self.model = model
        self.requests = model.free_tier.requests if enabled else 0
        self.gb_seconds = model.free_tier.gb_seconds if enabled else Decimal(0)

    @property
    def left(self) -> bool:
        return bool(self.requests or self.gb_seconds)

    def take(self, memory_mb: int, billed_ms: int, arch: str) -> Decimal:
        """The dollars of one call the free tier pays."""
        free_gb = min(self.model.gb_seconds(memory_mb, billed_ms), self.gb_seconds)
        paid = (self.model.request_price if self.requests else Decimal(0)) + free_gb * self.model.gb_second_price(arch)
        self.requests, self.gb_seconds = max(0, self.requests - 1), self.gb_seconds - free_gb
        return paid
