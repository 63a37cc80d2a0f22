"""What `ember tune` shows: a table of the sizes with the three recommendations, and a PNG chart."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ember.cli.tune import SizeResult, TuneError, recommend

BALANCED = ("balanced = the lowest (cost per call / the cheapest size's) + (median duration / the fastest "
            "size's): both matter equally")


def results_text(results: list[SizeResult], model_name: str) -> str:
    """The table as text at its natural width: never wrapped or cut on a narrow terminal or a pipe."""
    out = io.StringIO()
    Console(width=200, file=out, highlight=False, color_system=None).print(results_table(results, model_name))
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def results_table(results: list[SizeResult], model_name: str) -> Table:
    picks = recommend(results)
    table = Table(title=f"Power tuning, {model_name} price model (warm calls; cold start shown apart)",
                  title_justify="left")
    for column in ("MEMORY", "MEDIAN DURATION", "COLD CALL", "MAX MEMORY USED", "COST PER CALL",
                   "COST PER 1M CALLS", ""):
        table.add_column(column, justify="right" if column else "left", no_wrap=True)
    for result in results:
        marks = ", ".join(label for label, pick in picks.items() if pick is result)
        table.add_row(f"{result.memory_mb} MB", f"{result.median_ms:.2f} ms", f"{result.cold_ms:.2f} ms",
                      f"{result.max_memory_used_mb} MB", f"${result.cost_per_call:.10f}",
                      f"${result.cost_per_call * 1_000_000:,.4f}", marks)
    return table


def recommendations(results: list[SizeResult]) -> list[str]:
    return [f"{label}: {pick.memory_mb} MB ({pick.median_ms:.2f} ms, ${pick.cost_per_call * 1_000_000:,.4f} "
            f"per 1M calls)" for label, pick in recommend(results).items()] + [BALANCED]


def write_chart(results: list[SizeResult], path: Path, title: str) -> None:
    """Duration and cost per 1M calls against memory, on two axes (matplotlib, the `tune` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise TuneError("--chart needs matplotlib: `make install` installs it, or pip install 'ember[tune]'") from exc
    sizes = [r.memory_mb for r in results]
    figure, duration_axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    duration_axis.plot(sizes, [r.median_ms for r in results], "o-", color="tab:blue", label="median duration")
    duration_axis.set_xlabel("memory (MB)")
    duration_axis.set_ylabel("median duration (ms)", color="tab:blue")
    duration_axis.set_xscale("log", base=2)
    duration_axis.set_xticks(sizes, [str(s) for s in sizes])
    cost_axis = duration_axis.twinx()
    cost_axis.plot(sizes, [float(r.cost_per_call * Decimal(1_000_000)) for r in results], "s--", color="tab:red",
                   label="cost per 1M calls")
    cost_axis.set_ylabel("cost per 1M calls ($)", color="tab:red")
    cost_axis.set_ylim(bottom=0)
    duration_axis.set_ylim(bottom=0)
    duration_axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
