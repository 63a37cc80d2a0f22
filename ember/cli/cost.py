"""`ember cost`: what the recorded calls of one UTC month cost, read from the data dir's database."""

from __future__ import annotations

import io
import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ember.billing.costs import Call, CostReport, FunctionCost, price_calls
from ember.billing.prices import PriceModelError, get_model
from ember.config import resolve_data_dir
from ember.core.database import open_database

WHAT_IF_NOTE = ("These are the measured durations re-priced at {mb} MB. Memory buys CPU: a CPU-bound function "
                "would run faster at a larger size and slower at a smaller one, so its real cost would differ. "
                "`ember tune {name}` measures it at each size.")


class CostError(Exception):
    """Bad arguments or no database; the message is the one line the user sees."""


def find_data_dir(flag: str | None, endpoint: str) -> Path:
    """The data dir of the flag or $EMBER_HOME, else the running server's (it says which in /ember/info), else
    ./.ember: `ember cost` run from another folder must not read another, empty database."""
    if flag or os.environ.get("EMBER_HOME"):
        return resolve_data_dir(flag, create=False)
    served = _served_data_dir(endpoint)
    return Path(served) if served else resolve_data_dir(None, create=False)


def _served_data_dir(endpoint: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/ember/info", timeout=2) as answer:  # noqa: S310
            served = json.loads(answer.read()).get("data_dir")
    except (OSError, ValueError):  # no server there, or one that signs /ember/info: the local default
        return None
    return served if isinstance(served, str) else None


def month_bounds(month: str | None) -> tuple[float, float, str]:
    """Epoch seconds [start, end) of a UTC calendar month `YYYY-MM` (default: this one)."""
    label = month or datetime.now(UTC).strftime("%Y-%m")
    try:
        start = datetime.strptime(label, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise CostError(f"--month takes YYYY-MM, not {label!r}") from None
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.timestamp(), end.timestamp(), label


def recorded_calls(db_path: Path, start: float, end: float) -> Iterator[Call]:
    """Every call of the account in the month, in invocation order (the free tier's order)."""
    if not db_path.exists():
        raise CostError(f"no Ember database at {db_path} (use --data-dir, or run `ember serve` first)")
    db = open_database(db_path)  # adds columns an older Ember's table lacks
    try:
        yield from (Call(*row) for row in db.execute(
            "SELECT function, duration_ms, init_ms, memory_mb, COALESCE(arch, 'x86_64') FROM invocations "
            "WHERE started_at >= ? AND started_at < ? ORDER BY started_at, rowid", (start, end)))
    finally:
        db.close()


def cost_report(data_dir: Path, month: str | None, model: str | None, free_tier: bool,
                what_if_memory: int | None) -> tuple[CostReport, str]:
    try:
        chosen = get_model(model)
    except PriceModelError as exc:
        raise CostError(str(exc)) from exc
    if what_if_memory is not None and not chosen.memory_min <= what_if_memory <= chosen.memory_max:
        raise CostError(f"--what-if-memory must be {chosen.memory_min}-{chosen.memory_max} MB under the "
                        f"{chosen.name} model, not {what_if_memory}")
    start, end, label = month_bounds(month)
    try:
        return price_calls(recorded_calls(data_dir / "ember.db", start, end), chosen, free_tier, what_if_memory), label
    except PriceModelError as exc:
        raise CostError(str(exc)) from exc


def render(report: CostReport, name: str | None, label: str, free_tier: bool, what_if_memory: int | None,
           fmt: str, data_dir: Path) -> str:
    """The table or JSON, naming the database it read: which data dir was used is never a guess."""
    database = data_dir / "ember.db"
    rows = [cost for fn, cost in sorted(report.functions.items()) if name in (None, fn)]
    if name is not None and not rows:
        raise CostError(f"no recorded calls of {name} in {label} in {database}")
    total = report.total([row.function for row in rows])
    net = total.gross - (total.free_tier_used if free_tier else 0)
    if fmt == "json":
        return json.dumps({"database": str(database), "month": label, "model": report.model.name,
                           "free_tier": free_tier,
                           "what_if_memory_mb": what_if_memory, "functions": [_json(row) for row in rows],
                           "total": {**_json(total), "net": f"{net:f}"}}, indent=1)
    text = _table(rows, total, net, f"Lambda cost, {label}, {report.model.name} price model"
                  + (f", re-priced at {what_if_memory} MB" if what_if_memory else ""), free_tier)
    text += f"\ncalls recorded in {database}"
    if what_if_memory:
        text += "\n" + WHAT_IF_NOTE.format(mb=what_if_memory, name=name or "NAME")
    return text


def _table(rows: list[FunctionCost], total: FunctionCost, net: Decimal, title: str, free_tier: bool) -> str:
    table = Table(title=title, title_justify="left", show_footer=True)
    columns = ("FUNCTION", "REQUESTS", "GB-SECONDS", "REQUEST COST", "DURATION COST", "FREE TIER USED", "TOTAL")
    totals = ["total (net)" if free_tier else "total", f"{total.requests:,}", f"{total.gb_seconds:,.3f}",
              _usd(total.request_cost), _usd(total.duration_cost),
              _usd(total.free_tier_used) if free_tier else "-", _usd(net)]
    for column, footer in zip(columns, totals, strict=True):
        table.add_column(column, footer=footer, justify="left" if column == "FUNCTION" else "right", no_wrap=True)
    for row in rows:
        table.add_row(row.function, f"{row.requests:,}", f"{row.gb_seconds:,.3f}", _usd(row.request_cost),
                      _usd(row.duration_cost), _usd(row.free_tier_used) if free_tier else "-", _usd(row.gross))
    out = io.StringIO()
    Console(width=200, file=out, highlight=False, color_system=None).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def _usd(amount: Decimal) -> str:
    """Dollars to the nano-dollar a single call costs, without trailing zeros past the cents."""
    whole, _, fraction = f"{amount:,.9f}".partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"${whole}.{fraction}"


def _json(cost: FunctionCost) -> dict[str, object]:
    return {"function": cost.function, "requests": cost.requests, "gb_seconds": f"{cost.gb_seconds:f}",
            "request_cost": f"{cost.request_cost:f}", "duration_cost": f"{cost.duration_cost:f}",
            "free_tier_used": f"{cost.free_tier_used:f}", "gross": f"{cost.gross:f}"}

