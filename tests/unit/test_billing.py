"""Billed duration under the 1 ms models: whole ms rounded up, never zero, an int."""

from __future__ import annotations

import pytest

from ember.billing.prices import get_model


@pytest.mark.parametrize("model", ["2020", "2025"])
@pytest.mark.parametrize(("duration_ms", "billed"), [
    (0.3, 1),
    (1.0, 1),
    (1.01, 2),
    (27.55, 28),
    (3000.0, 3000),
])
def test_billed_duration_rounds_up_to_whole_ms(model, duration_ms, billed):
    assert get_model(model).billed_ms(duration_ms) == billed


def test_billed_duration_of_zero_is_one_slice():
    assert get_model("2025").billed_ms(0.0) == 1
    assert get_model("2018").billed_ms(0.0) == 100


def test_billed_duration_is_an_int():
    assert type(get_model("2025").billed_ms(27.55, init_ms=3.2)) is int
