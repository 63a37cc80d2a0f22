"""AWS's runtime calendar as data (`calendar.json`, with its source and the date it was read): when each
runtime is deprecated, and from when creating and then updating functions on it is blocked.

Between deprecation and its block dates a runtime still deploys, with a one-line warning, and runs on the
nearest interpreter Ember has (every python3.x on Ember's own Python, every nodejs on this machine's Node.js);
past a block date it is refused with AWS's InvalidParameterValueException message.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

DATA = Path(__file__).with_name("calendar.json")
Change = Literal["create", "update"]


@dataclass(frozen=True)
class Lifecycle:
    runtime: str
    deprecation: datetime.date
    block_create: datetime.date
    block_update: datetime.date


@cache
def calendar() -> dict[str, Lifecycle]:
    data = json.loads(DATA.read_text())
    return {name: Lifecycle(name, *(datetime.date.fromisoformat(day) for day in days))
            for name, days in data["runtimes"].items()}


@cache
def source() -> tuple[str, str]:
    """Where the dates come from, and the day they were read."""
    data = json.loads(DATA.read_text())
    return data["source"], data["read"]


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def blocked_message(runtime: str, change: Change, on: datetime.date | None = None) -> str | None:
    """AWS's refusal if `runtime` is past its block date for this change (creating, or updating a function)."""
    lifecycle = calendar().get(runtime)
    if lifecycle is None:
        return None
    block = lifecycle.block_create if change == "create" else lifecycle.block_update
    if (on or today()) < block:
        return None
    return str(json.loads(DATA.read_text())["message"]).format(runtime=runtime)


def deprecation_warning(runtime: str, runs_on: str, on: datetime.date | None = None) -> str | None:
    """One line for a deprecated runtime that still deploys, or None."""
    lifecycle = calendar().get(runtime)
    if lifecycle is None or (on or today()) < lifecycle.deprecation:
        return None
    return (f"{runtime} is deprecated by AWS since {lifecycle.deprecation} (creating functions on it is blocked "
            f"from {lifecycle.block_create}, updating them from {lifecycle.block_update}); it runs here on "
            f"{runs_on}")
