"""AWS's price models, read from `price_models.json`: what a call is billed and what it costs.

Every price Ember shows or records is computed here from that one file (`EMBER_PRICE_MODELS`
points at another copy). Amounts are `Decimal`, so the seed's nine-decimal prices come out digit
for digit; only the final display rounds.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

PRICE_MODELS_FILE = Path(__file__).with_name("price_models.json")
MB_PER_GB = Decimal(1024)
MS_PER_SECOND = Decimal(1000)


class PriceModelError(ValueError):
    """An unknown model or architecture, or a price file that can't be read; the message says which."""


@dataclass(frozen=True)
class FreeTier:
    requests: int
    gb_seconds: Decimal


@dataclass(frozen=True)
class PriceModel:
    name: str
    effective: str
    slice_ms: int
    bills_init: bool
    request_price: Decimal  # per request
    gb_second_prices: dict[str, Decimal]  # architecture -> price per GB-second
    memory_min: int
    memory_max: int
    memory_step: int
    free_tier: FreeTier

    def gb_second_price(self, arch: str) -> Decimal:
        if arch not in self.gb_second_prices:
            raise PriceModelError(f"the {self.name} price model has no {arch} price "
                                  f"(it has {', '.join(self.gb_second_prices)})")
        return self.gb_second_prices[arch]

    def billed_ms(self, duration_ms: float, init_ms: float | None = None) -> int:
        """Whole slices, at least one; with `bills_init`, a cold start's Init is billed with the call."""
        billed = duration_ms + ((init_ms or 0.0) if self.bills_init else 0.0)
        return max(1, math.ceil(round(billed, 6) / self.slice_ms)) * self.slice_ms

    def gb_seconds(self, memory_mb: int, billed_ms: int) -> Decimal:
        return Decimal(memory_mb) / MB_PER_GB * Decimal(billed_ms) / MS_PER_SECOND

    def duration_cost(self, memory_mb: int, billed_ms: int, arch: str = "x86_64") -> Decimal:
        return self.gb_seconds(memory_mb, billed_ms) * self.gb_second_price(arch)

    def call_cost(self, memory_mb: int, billed_ms: int, arch: str = "x86_64") -> Decimal:
        """One call's cost before any free tier: the request plus its billed GB-seconds."""
        return self.request_price + self.duration_cost(memory_mb, billed_ms, arch)

    def free_seconds(self, memory_mb: int) -> Decimal:
        """How many seconds at this size the monthly free tier's GB-seconds buy."""
        return self.free_tier.gb_seconds / (Decimal(memory_mb) / MB_PER_GB)

    def memory_sizes(self) -> list[int]:
        """The sizes a price table lists: the 64 MB steps from the minimum; the 1 ms models add 1,769 MB."""
        sizes = list(range(self.memory_min, self.memory_max + 1, 64))
        if self.memory_step == 1 and 1769 not in sizes:
            sizes = sorted([*sizes, 1769])
        return sizes


def round_half_up(amount: Decimal, places: int) -> Decimal:
    """AWS's tables round half up (1,536 MB per 100 ms: 0.0000025005 -> 0.000002501)."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def price_file() -> Path:
    return Path(os.environ.get("EMBER_PRICE_MODELS") or PRICE_MODELS_FILE)


def load_models(path: Path | None = None) -> dict[str, PriceModel]:
    """Every model in the price file, by name."""
    return dict(_load(path or price_file()))


def get_model(name: str | None = None, path: Path | None = None) -> PriceModel:
    """A model by name (`2018`, `2020`, `2025`); None is the file's default, today's prices."""
    path = path or price_file()
    models = dict(_load(path))
    chosen = name or _default(path)
    if chosen not in models:
        raise PriceModelError(f"no price model {chosen!r}; choose one of {', '.join(models)}")
    return models[chosen]


@cache
def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PriceModelError(f"cannot read the price models in {path}: {exc}") from exc


def _default(path: Path) -> str:
    return str(_read(path)["default"])


def _load(path: Path) -> tuple[tuple[str, PriceModel], ...]:
    data = _read(path)
    free = data["free_tier"]
    tier = FreeTier(int(free["requests_per_month"]), Decimal(str(free["gb_seconds_per_month"])))
    models = []
    for name, spec in data["models"].items():
        memory = spec["memory_mb"]
        models.append((name, PriceModel(
            name=name, effective=spec["effective"], slice_ms=int(spec["slice_ms"]), bills_init=bool(spec["bills_init"]),
            request_price=Decimal(spec["request_price_per_million"]) / Decimal(1_000_000),
            gb_second_prices={arch: Decimal(price) for arch, price in spec["gb_second_price"].items()},
            memory_min=int(memory["min"]), memory_max=int(memory["max"]), memory_step=int(memory["step"]),
            free_tier=tier)))
    return tuple(models)
