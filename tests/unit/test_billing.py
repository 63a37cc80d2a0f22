"""ember.billing.billed_duration_ms: AWS's 1 ms rounding, never zero."""

from __future__ import annotations

import pytest

from ember.billing import billed_duration_ms


@pytest.mark.parametrize(("duration_ms", "billed"), [
    (0.3, 1),
    (1.0, 1),
    (1.01, 2),
    (27.55, 28),
    (3000.0, 3000),
])
def test_billed_duration_rounds_up_to_whole_ms(duration_ms, billed):
    assert billed_duration_ms(duration_ms) == billed


def test_billed_duration_of_zero_is_one_ms():
    assert billed_duration_ms(0.0) == 1


def test_billed_duration_is_an_int():
    assert type(billed_duration_ms(27.55)) is int
