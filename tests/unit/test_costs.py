"""Pricing recorded calls: the seed's claim, the free tier used in invocation order, re-pricing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ember.billing.costs import Call, price_calls
from ember.billing.prices import PRICE_MODELS_FILE, get_model


def calls(function: str, n: int, duration_ms: float, memory_mb: int, init_ms: float | None = None) -> list[Call]:
    return [Call(function, duration_ms, init_ms, memory_mb, "x86_64")] * n


def test_the_seeds_claim_a_million_calls_of_100ms_at_2048mb_cost_3_53_without_free_tier():
    report = price_calls(iter(calls("f", 1_000_000, 100.0, 2048)), get_model("2018"), free_tier=False)
    total = report.total()
    assert total.requests == 1_000_000 and total.gb_seconds == Decimal(200_000)
    assert total.request_cost == Decimal("0.20") and total.duration_cost == Decimal("3.334")
    assert round(total.gross, 2) == Decimal("3.53")


@pytest.fixture
def small_free_tier(tmp_path):
    """A copy of the price file whose free tier is 3 requests and 1 GB-second."""
    data = json.loads(PRICE_MODELS_FILE.read_text())
    data["free_tier"].update(requests_per_month=3, gb_seconds_per_month=1)
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    return get_model("2020", path=path)


def test_the_free_tier_is_used_in_invocation_order_across_functions(small_free_tier):
    model = small_free_tier
    ordered = [*calls("first", 2, 1000.0, 512), *calls("second", 3, 1000.0, 512)]  # 0.5 GB-s each
    report = price_calls(ordered, model)
    first, second = report.functions["first"], report.functions["second"]
    price = model.gb_second_price("x86_64")
    assert first.free_tier_used == 2 * model.request_price + Decimal(1) * price, "all of the GB-seconds"
    assert second.free_tier_used == 1 * model.request_price, "one request left, no GB-seconds"
    total = report.total()
    assert total.gross - total.free_tier_used == 2 * model.request_price + Decimal("1.5") * price


def test_no_free_tier_and_what_if_memory():
    model = get_model("2025")
    measured = calls("f", 10, 200.0, 128)
    at_128 = price_calls(measured, model, free_tier=False).total()
    at_1024 = price_calls(measured, model, free_tier=False, memory_mb=1024).total()
    assert at_128.free_tier_used == 0 and at_1024.duration_cost == 8 * at_128.duration_cost


def test_init_is_billed_only_by_models_that_bill_it():
    cold = calls("f", 1, 10.0, 1024, init_ms=490.0)
    assert price_calls(cold, get_model("2025"), free_tier=False).total().gb_seconds == Decimal("0.5")
    assert price_calls(cold, get_model("2020"), free_tier=False).total().gb_seconds == Decimal("0.01")
