"""Billing: how AWS turns a measured duration into billed milliseconds.

The cost issue adds the price models (2018's 100 ms slices, 2020's 1 ms, 2025's billed Init);
until then every caller goes through `billed_duration_ms`, so that change happens in one place.
"""

from __future__ import annotations

import math

GRANULARITY_MS = 1


def billed_duration_ms(duration_ms: float) -> int:
    """Round a call's duration up to the billing granularity; a call is never billed for zero."""
    slices = max(1, math.ceil(round(duration_ms, 6) / GRANULARITY_MS))
    return slices * GRANULARITY_MS
