"""`ember pricing`: a price model's table, computed from the price file (the seed's table is the 2018 one)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from ember.billing.prices import PriceModel, PriceModelError, round_half_up

FORMATS = ("table", "markdown", "json")
SEED_HEADERS = ("Memory (MB)", "Free tier seconds per month", "Price per 100ms ($)")


@dataclass(frozen=True)
class PriceRow:
    memory_mb: int
    free_seconds: Decimal  # whole seconds, rounded half up
    per_1ms: Decimal | None  # only for the 1 ms models
    per_100ms: Decimal


def price_rows(model: PriceModel, arch: str, sizes: list[int] | None) -> list[PriceRow]:
    """One row per memory size, ascending; sizes outside the model's range are refused."""
    model.gb_second_price(arch)  # refuses an architecture the model has no price for
    chosen = sorted(set(sizes)) if sizes else model.memory_sizes()
    outside = [size for size in chosen if not model.memory_min <= size <= model.memory_max]
    if outside:
        raise PriceModelError(f"the {model.name} model prices {model.memory_min}-{model.memory_max} MB, "
                              f"not {', '.join(map(str, outside))}")
    return [PriceRow(size, round_half_up(model.free_seconds(size), 0),
                     round_half_up(model.duration_cost(size, 1, arch), 10) if model.slice_ms == 1 else None,
                     round_half_up(model.duration_cost(size, 100, arch), 9)) for size in chosen]


def render(rows: list[PriceRow], model: PriceModel, arch: str, fmt: str) -> str:
    if fmt not in FORMATS:
        raise PriceModelError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "json":
        return json.dumps({"model": model.name, "effective": model.effective, "arch": arch,
                           "rows": [_json_row(row) for row in rows]}, indent=1)
    cells = [_cells(row) for row in rows]
    headers = _headers(rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
        return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in cells)])
    return _rich_table(headers, cells, f"Lambda prices, {model.name} model ({arch}), effective {model.effective}")


def _headers(rows: list[PriceRow]) -> tuple[str, ...]:
    if rows and rows[0].per_1ms is not None:
        return (SEED_HEADERS[0], SEED_HEADERS[1], "Price per 1ms ($)", SEED_HEADERS[2])
    return SEED_HEADERS


def _cells(row: PriceRow) -> list[str]:
    cells = [str(row.memory_mb), f"{row.free_seconds:,.0f}"]
    if row.per_1ms is not None:
        cells.append(f"{row.per_1ms:.10f}")
    return [*cells, f"{row.per_100ms:.9f}"]


def _json_row(row: PriceRow) -> dict[str, object]:
    out: dict[str, object] = {"memory_mb": row.memory_mb, "free_tier_seconds": int(row.free_seconds),
                              "price_per_100ms": f"{row.per_100ms:.9f}"}
    if row.per_1ms is not None:
        out["price_per_1ms"] = f"{row.per_1ms:.10f}"
    return out


def _rich_table(headers: tuple[str, ...], cells: list[list[str]], title: str) -> str:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True, overflow="ignore")
    for row in cells:
        table.add_row(*row)
    width = sum(max(len(h), *(len(r[i]) for r in cells)) + 3 for i, h in enumerate(headers)) + 1
    out = io.StringIO()
    Console(width=max(width, len(title)), file=out, highlight=False, color_system=None).print(table)
    return out.getvalue().rstrip("\n")
