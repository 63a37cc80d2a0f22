"""Helpers of the rule and schedule tests: echo functions, what they printed, the scheduler's counters and timers."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from conftest import ROLE, make_zip, wait_for

ECHO = "import json\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n    return event\n"


def function(lam: Any, source: str = ECHO) -> tuple[str, str]:
    """A new function (an echo of its events by default): its name and ARN."""
    name = f"s-{uuid.uuid4().hex[:10]}"
    config = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": make_zip({"index.py": source})})
    return name, config["FunctionArn"]


def allow_rule(lam: Any, name: str, rule_arn: str) -> None:
    lam.add_permission(FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule_arn)


def events_of(logs: Any, name: str) -> list[Any]:
    """Every event the echo function printed, oldest first."""
    found, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", **({"nextToken": token} if token else {}))
        found += [json.loads(e["message"][6:]) for e in page["events"] if e["message"].startswith("EVENT ")]
        token = page.get("nextToken")
        if not token:
            return found


def wait_for_events(logs: Any, name: str, count: int, timeout: float = 15) -> list[Any]:
    assert wait_for(lambda: len(events_of(logs, name)) >= count, timeout), f"{name} printed fewer than {count}"
    return events_of(logs, name)


def scheduled_runs(url: str, kind: str, name: str, outcome: str) -> float:
    """ember_scheduled_invocations_total for one rule or schedule and outcome, from /metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    prefix = f'ember_scheduled_invocations_total{{kind="{kind}",name="{name}",outcome="{outcome}"}} '
    return sum(float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix))


def next_run(data_dir: Path, arn: str) -> tuple[float, float] | None:
    """The scheduler's timer for a rule or schedule: (its next run's time, when it falls due); None if none."""
    with closing(sqlite3.connect(data_dir / "ember.db")) as db:
        row = db.execute("SELECT next_slot, next_due FROM timers WHERE arn = ?", (arn,)).fetchone()
    return (row[0], row[1]) if row else None


def scheduler_time(url: str) -> float:
    """Now, on the server's scheduler clock (epoch seconds), from /ember/info."""
    with urllib.request.urlopen(f"{url}/ember/info", timeout=10) as response:
        return float(json.loads(response.read())["scheduler_time"])
