"""Price models: the seed's 2018 table digit for digit, billed durations per model, and the seed's claims."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ember.billing.prices import PRICE_MODELS_FILE, PriceModelError, get_model
from ember.cli.pricing import price_rows, render

SEED_TABLE = Path(__file__).parent / "data" / "seed_price_table.md"  # lines 17-64 of the seed article
EMBER = Path(sys.executable).parent / "ember"


def cells(markdown: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in markdown.splitlines()
            if line.strip() and not set(line.strip()) <= set("|-")]


def test_the_2018_markdown_table_is_the_seeds_cell_for_cell():
    model = get_model("2018")
    ours = cells(render(price_rows(model, "x86_64", None), model, "x86_64", "markdown"))
    seed = cells(SEED_TABLE.read_text())
    assert len(seed) == 47 and len(ours) == 47, "a header and 46 sizes"
    for mine, theirs in zip(ours, seed, strict=True):
        assert mine == theirs


def test_billed_duration_per_model():
    old, ms, init_billed = get_model("2018"), get_model("2020"), get_model("2025")
    assert [old.billed_ms(d) for d in (0.2, 27.4, 100.0, 125.0)] == [100, 100, 100, 200]
    assert [ms.billed_ms(d) for d in (0.2, 27.55, 100.0)] == [1, 28, 100]
    assert ms.billed_ms(27.55, init_ms=544.9) == 28, "2020 does not bill Init"
    assert init_billed.billed_ms(900000.0, init_ms=544.9) == 900545, "2025 bills ceil(Duration + Init)"
    assert init_billed.billed_ms(27.55) == 28


def test_the_seeds_claim_a_million_100ms_calls_at_2048mb_cost_about_3_53():
    model = get_model("2018")
    billed = model.billed_ms(100.0)
    cost = 1_000_000 * model.call_cost(2048, billed)
    assert round(cost, 2) == Decimal("3.53")


def test_awss_worked_example_under_the_2020_model():
    """AWS's 1 ms blog: 60M calls of 28 ms at 1 GB cost $28 in duration (plus $12 of requests)."""
    model = get_model("2020")
    duration = 60_000_000 * model.duration_cost(1024, model.billed_ms(28.0))
    assert round(duration) == 28 and 60_000_000 * model.request_price == 12


def test_arm64_under_2018_and_unknown_models_are_refused():
    with pytest.raises(PriceModelError, match="no arm64 price"):
        price_rows(get_model("2018"), "arm64", None)
    with pytest.raises(PriceModelError, match="no price model '2019'"):
        get_model("2019")
    with pytest.raises(PriceModelError, match="128-3008 MB, not 4096"):
        price_rows(get_model("2018"), "x86_64", [4096])


def test_one_ms_models_list_every_64_mb_and_1769():
    sizes = [row.memory_mb for row in price_rows(get_model("2025"), "x86_64", None)]
    assert sizes[:3] == [128, 192, 256] and sizes[-1] == 10240 and 1769 in sizes and sizes == sorted(sizes)


def test_an_edited_copy_of_the_price_file_changes_the_output(tmp_path):
    data = json.loads(PRICE_MODELS_FILE.read_text())
    data["models"]["2018"]["gb_second_price"]["x86_64"] = "0.00002000"
    edited = tmp_path / "prices.json"
    edited.write_text(json.dumps(data))

    def run(env):
        return subprocess.run([str(EMBER), "pricing", "--model", "2018", "--memory", "1024", "--format", "json"],
                              capture_output=True, text=True, env=env, timeout=60, check=True).stdout

    base = {"PATH": "/usr/bin:/bin"}
    assert json.loads(run(base))["rows"][0]["price_per_100ms"] == "0.000001667"
    assert json.loads(run({**base, "EMBER_PRICE_MODELS": str(edited)}))["rows"][0]["price_per_100ms"] == "0.000002000"


def test_table_output_is_never_wrapped_on_a_narrow_pipe():
    result = subprocess.run([str(EMBER), "pricing", "--model", "2025"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "COLUMNS": "40"}, check=True)
    rows = [line for line in result.stdout.splitlines() if "│" in line and line.split("│")[1].strip().isdigit()]
    assert len(rows) == len(get_model("2025").memory_sizes())
    assert all("0.0000" in row for row in rows), "every row has its prices on its own line"
