"""EventBridge Scheduler's schedules and schedule groups, kept in SQLite, checked with AWS's words.

A schedule is stored as GetSchedule answers it, defaults filled in (State ENABLED, group `default`,
time zone UTC, ActionAfterCompletion NONE, the target's RetryPolicy 185 attempts over 86,400 s).
UpdateSchedule replaces the whole schedule, as on AWS. The `default` group always exists; deleting
a group deletes its schedules and its tags (ember.events.tags: only groups take tags, as on AWS).
Every change is told to `on_change(schedule ARN)`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ember.config import ACCOUNT_ID
from ember.core.database import transaction
from ember.errors import ConflictException, ResourceNotFoundException, ValidationException
from ember.events import expressions
from ember.events.clock import SchedulerClock
from ember.events.tags import TagStore, check_tags
from ember.events.targets import function_of, not_a_function

DEFAULT_GROUP = "default"
DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
START_GRACE_S = 300  # a recurring schedule's StartDate may be at most 5 minutes in the past


@dataclass(frozen=True)
class Schedule:
    config: dict[str, Any]  # GetSchedule's members

    @property
    def arn(self) -> str:
        return str(self.config["Arn"])

    @property
    def label(self) -> str:
        return f"{self.config['GroupName']}/{self.config['Name']}"

    @property
    def enabled(self) -> bool:
        return bool(self.config["State"] == "ENABLED")

    @property
    def window_s(self) -> float:
        window = self.config["FlexibleTimeWindow"]
        return 60.0 * window.get("MaximumWindowInMinutes", 0) if window["Mode"] == "FLEXIBLE" else 0.0


class ScheduleStore:
    def __init__(self, db: sqlite3.Connection, region: str, clock: SchedulerClock,
                 on_change: Callable[[str], None] = lambda arn: None) -> None:
        self.db = db
        self.region = region
        self.clock = clock
        self.on_change = on_change
        self.tags = TagStore(db)
        if self._group_row(DEFAULT_GROUP) is None:
            self._put_group(DEFAULT_GROUP)

    def arn(self, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{ACCOUNT_ID}:schedule/{group}/{name}"

    def create(self, name: str, body: dict[str, Any]) -> str:
        group = body.get("GroupName") or DEFAULT_GROUP
        self.group(group)
        if self._row(group, name) is not None:
            raise ConflictException(f"Schedule {name} already exists.")
        now = time.time()
        return self._store(self._config(group, name, body, now, now))

    def update(self, name: str, body: dict[str, Any]) -> str:
        """UpdateSchedule replaces every member; what the body leaves out goes back to its default."""
        current = self.get(name, body.get("GroupName"))
        return self._store(self._config(current.config["GroupName"], name, body, current.config["CreationDate"],
                                        time.time()))

    def get(self, name: str, group: str | None = None) -> Schedule:
        row = self._row(group or DEFAULT_GROUP, name)
        if row is None:
            raise ResourceNotFoundException(f"Schedule {name} does not exist.")
        return Schedule(json.loads(row["config"]))

    def delete(self, name: str, group: str | None = None) -> None:
        schedule = self.get(name, group)
        self.db.execute("DELETE FROM schedules WHERE group_name = ? AND name = ?",
                        (schedule.config["GroupName"], name))
        self.on_change(schedule.arn)

    def all(self, group: str | None = None, prefix: str | None = None, state: str | None = None) -> list[Schedule]:
        rows = self.db.execute("SELECT config FROM schedules ORDER BY group_name, name").fetchall()
        found = [Schedule(json.loads(row["config"])) for row in rows]
        return [s for s in found if (group is None or s.config["GroupName"] == group)
                and (not prefix or s.config["Name"].startswith(prefix))
                and (state is None or s.config["State"] == state)]

    def _config(self, group: str, name: str, body: dict[str, Any], created: float, modified: float) -> dict[str, Any]:
        expression = body["ScheduleExpression"]
        try:
            parsed = expressions.parse(expression, allow_at=True)
        except expressions.ExpressionError as exc:
            raise ValidationException(f"Invalid Schedule Expression {expression}.") from exc
        zone = body.get("ScheduleExpressionTimezone") or "UTC"
        try:
            expressions.zone_of(zone)
        except expressions.ExpressionError as exc:
            raise ValidationException(f"Invalid Schedule Expression Timezone {zone}.") from exc
        if not isinstance(parsed, expressions.At):
            self._check_dates(body)
        window = body["FlexibleTimeWindow"]
        if window["Mode"] == "FLEXIBLE" and window.get("MaximumWindowInMinutes") is None:
            raise ValidationException("MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is "
                                      "FLEXIBLE.")
        target = {**body["Target"], "RetryPolicy": {**DEFAULT_RETRY, **body["Target"].get("RetryPolicy", {})}}
        if function_of(target["Arn"], self.region) is None:
            raise ValidationException(not_a_function(target["Arn"], self.region))
        config = {"Arn": self.arn(group, name), "Name": name, "GroupName": group, "ScheduleExpression": expression,
                  "ScheduleExpressionTimezone": zone, "FlexibleTimeWindow": window, "Target": target,
                  "State": body.get("State") or "ENABLED",
                  "ActionAfterCompletion": body.get("ActionAfterCompletion") or "NONE",
                  "CreationDate": created, "LastModificationDate": modified}
        config.update({key: body[key] for key in ("Description", "StartDate", "EndDate", "KmsKeyArn")
                       if body.get(key) is not None})
        return config

    def _check_dates(self, body: dict[str, Any]) -> None:
        start, end = body.get("StartDate"), body.get("EndDate")
        if start is not None and start < self.clock.now() - START_GRACE_S:
            raise ValidationException("The StartDate you specify cannot be earlier than 5 minutes ago.")
        if start is not None and end is not None and end <= start:
            raise ValidationException("The StartDate you specify must come before the EndDate.")

    def _store(self, config: dict[str, Any]) -> str:
        self.db.execute("INSERT OR REPLACE INTO schedules (group_name, name, config) VALUES (?, ?, ?)",
                        (config["GroupName"], config["Name"], json.dumps(config)))
        self.on_change(config["Arn"])
        return str(config["Arn"])

    def _row(self, group: str, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT config FROM schedules WHERE group_name = ? AND name = ?", (group, name)).fetchone()
        return row

    # Schedule groups

    def group_arn(self, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{ACCOUNT_ID}:schedule-group/{name}"

    def create_group(self, name: str, tags: list[dict[str, str]] | None = None) -> str:
        if self._group_row(name) is not None:
            raise ConflictException(f"Schedule group {name} already exists.")
        check_tags(set(), tags or [])
        with transaction(self.db):
            arn = self._put_group(name)
            self.tags.tag(arn, tags or [])
        return arn

    def taggable(self, arn: str) -> str:
        """A schedule group's ARN (the caller checked its form against the model's pattern), if it is this
        server's and the group exists."""
        prefix, _, name = arn.rpartition("/")
        if prefix != self.group_arn("").rstrip("/"):
            raise ResourceNotFoundException(f"Schedule group {name} does not exist.")
        self.group(name)
        return arn

    def group(self, name: str) -> dict[str, Any]:
        row = self._group_row(name)
        if row is None:
            raise ResourceNotFoundException(f"Schedule group {name} does not exist.")
        config: dict[str, Any] = json.loads(row["config"])
        return config

    def groups(self, prefix: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT config FROM schedule_groups ORDER BY name").fetchall()
        return [g for g in (json.loads(row["config"]) for row in rows) if not prefix or g["Name"].startswith(prefix)]

    def delete_group(self, name: str) -> None:
        """The group and every schedule in it (AWS deletes them too, in the background)."""
        if name == DEFAULT_GROUP:
            raise ValidationException("The default schedule group cannot be deleted.")
        self.group(name)
        for schedule in self.all(group=name):
            self.delete(schedule.config["Name"], name)
        with transaction(self.db):
            self.db.execute("DELETE FROM schedule_groups WHERE name = ?", (name,))
            self.tags.drop(self.group_arn(name))

    def _put_group(self, name: str) -> str:
        now = time.time()
        arn = self.group_arn(name)
        config = {"Arn": arn, "Name": name, "State": "ACTIVE", "CreationDate": now, "LastModificationDate": now}
        self.db.execute("INSERT INTO schedule_groups (name, config) VALUES (?, ?)", (name, json.dumps(config)))
        return arn

    def _group_row(self, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT config FROM schedule_groups WHERE name = ?",
                                                  (name,)).fetchone()
        return row
