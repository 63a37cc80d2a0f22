"""`ember schedules`: every rule and schedule, its targets, state and next run, read from the data dir's database.

AWS has no API for a schedule's next run, so this reads what the server keeps (its `timers`), as
`ember cost` reads its calls: no server needs to run, and the data dir is found the same way.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from ember.events.targets import FUNCTION_ARN

COLUMNS = ("KIND", "NAME", "SCHEDULE", "STATE", "TARGETS", "NEXT RUN (UTC)")


class SchedulesError(Exception):
    """No database; the message is the one line the user sees."""


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    schedule: str
    state: str
    targets: str
    next_run: str

    def cells(self) -> tuple[str, ...]:
        return self.kind, self.name, self.schedule, self.state, self.targets, self.next_run


def read_rows(db_path: Path) -> tuple[list[Row], float]:
    """Every rule, then every schedule, with the scheduler's clock speed (1: the wall clock)."""
    if not db_path.exists():
        raise SchedulesError(f"no Ember database at {db_path} (use --data-dir, or run `ember serve` first)")
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        tables = {row["name"] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "timers" not in tables:  # a data dir no server with schedules has opened yet
            return [], 1.0
        timers = {row["arn"]: row["next_due"] for row in db.execute("SELECT arn, next_due FROM timers")}
        rows = [_rule_row(db, json.loads(row["config"]), timers)
                for row in db.execute("SELECT config FROM event_rules ORDER BY name")]
        rows += [_schedule_row(json.loads(row["config"]), timers)
                 for row in db.execute("SELECT config FROM schedules ORDER BY group_name, name")]
        clock = db.execute("SELECT speed FROM scheduler_clock").fetchone()
    return rows, clock["speed"] if clock else 1.0


def _rule_row(db: sqlite3.Connection, config: dict[str, str], timers: dict[str, float]) -> Row:
    targets = [json.loads(row["config"])["Arn"] for row in db.execute(
        "SELECT config FROM event_rule_targets WHERE rule = ? ORDER BY seq", (config["Name"],))]
    return Row("rule", config["Name"], config["ScheduleExpression"], config["State"],
               ", ".join(_function(arn) for arn in targets) or "-", _when(timers.get(config["Arn"])))


def _schedule_row(config: dict[str, object], timers: dict[str, float]) -> Row:
    zone = str(config.get("ScheduleExpressionTimezone") or "UTC")
    expression = str(config["ScheduleExpression"]) + ("" if zone == "UTC" else f" {zone}")
    target = config["Target"]
    assert isinstance(target, dict)
    return Row("schedule", f"{config['GroupName']}/{config['Name']}", expression, str(config["State"]),
               _function(target["Arn"]), _when(timers.get(str(config["Arn"]))))


def _function(arn: str) -> str:
    """A target as its function's name (and qualifier); anything else as its ARN."""
    match = FUNCTION_ARN.match(arn)
    if not match:
        return arn
    return f"{match['name']}:{match['qualifier']}" if match["qualifier"] else match["name"]


def _when(instant: float | None) -> str:
    if instant is None:
        return "-"
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%d %H:%M:%S")


def table(rows: list[Row]) -> Table:
    rendered = Table(box=None, pad_edge=False)
    for column in COLUMNS:
        rendered.add_column(column, no_wrap=True)
    for row in rows:
        rendered.add_row(*row.cells())
    return rendered
