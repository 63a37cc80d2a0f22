"""EventBridge rules on the default bus that run on a schedule, and their targets, kept in SQLite.

What AWS allows is checked here with AWS's words: a rule needs a ScheduleExpression (an
EventPattern is refused, clearly: Ember routes no events yet); a rule holds at most 5 targets; a
rule with targets cannot be deleted; deleting one that does not exist succeeds. Every change is
told to `on_change(rule ARN)`, so the scheduler re-reads that rule's timer. A rule's tags (ember.events.tags)
are set by PutRule only when it creates the rule (AWS ignores them on an update) and go with it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ember.config import ACCOUNT_ID
from ember.core.database import transaction
from ember.errors import EventsLimitExceeded, EventsResourceNotFound, ValidationException
from ember.events import expressions
from ember.events.tags import TagStore, check_tags
from ember.events.targets import check_target

MAX_TARGETS = 5
DEFAULT_BUS = "default"
INPUT_MEMBERS = ("Input", "InputPath", "InputTransformer")


@dataclass(frozen=True)
class Rule:
    config: dict[str, Any]  # DescribeRule's members
    targets: list[dict[str, Any]]  # as PutTargets stored them

    @property
    def name(self) -> str:
        return str(self.config["Name"])

    @property
    def arn(self) -> str:
        return str(self.config["Arn"])

    @property
    def enabled(self) -> bool:
        return bool(self.config["State"] == "ENABLED")


class RuleStore:
    def __init__(self, db: sqlite3.Connection, region: str, on_change: Callable[[str], None] = lambda arn: None
                 ) -> None:
        self.db = db
        self.region = region
        self.on_change = on_change
        self.tags = TagStore(db)

    def arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{name}"

    def taggable(self, arn: str) -> str:
        """The tag APIs' ResourceARN as this server knows it: a rule on the default bus, or that bus."""
        prefix = f"arn:aws:events:{self.region}:{ACCOUNT_ID}:"
        kind, _, path = arn.removeprefix(prefix).partition("/")
        if not arn.startswith(prefix) or not path or kind not in ("rule", "event-bus"):
            raise ValidationException("Parameter ResourceARN is not valid.")
        if kind == "event-bus":
            self.check_bus(path)
            return arn
        bus, _, name = path.rpartition("/")
        self.get(name, bus or None)
        return self.arn(name)

    def put(self, body: dict[str, Any]) -> str:
        """PutRule: create, or replace every member of an existing rule but its targets."""
        self.check_bus(body.get("EventBusName"))
        if body.get("EventPattern") is not None:
            raise ValidationException("EventPattern is not supported by Ember yet: a rule runs on a "
                                      "ScheduleExpression (rate() or cron()) only.")
        expression = body.get("ScheduleExpression")
        if not expression:
            raise ValidationException("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        try:
            expressions.parse(expression)
        except expressions.ExpressionError as exc:
            raise ValidationException("Parameter ScheduleExpression is not valid.") from exc
        state = body.get("State") or "ENABLED"
        if state not in ("ENABLED", "DISABLED"):
            raise ValidationException(f"Parameter State is not valid: {state} applies to rules with an EventPattern.")
        name = body["Name"]
        tags = (body.get("Tags") or []) if self._row(name) is None else []  # an update ignores them, as on AWS
        check_tags(set(), tags)
        config = {"Name": name, "Arn": self.arn(name), "ScheduleExpression": expression, "State": state,
                  "EventBusName": DEFAULT_BUS, "CreatedBy": ACCOUNT_ID}
        config.update({key: body[key] for key in ("Description", "RoleArn") if body.get(key) is not None})
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO event_rules (name, config) VALUES (?, ?)",
                            (name, json.dumps(config)))
            self.tags.tag(self.arn(name), tags)
        self.on_change(self.arn(name))
        return self.arn(name)

    def get(self, name: str, bus: str | None = None) -> Rule:
        self.check_bus(bus)
        row = self._row(name)
        if row is None:
            raise EventsResourceNotFound(f"Rule {name} does not exist on EventBus {DEFAULT_BUS}.")
        return Rule(json.loads(row["config"]), self.targets(name))

    def all(self, prefix: str | None = None) -> list[Rule]:
        """Every rule, by name, with its targets."""
        rows = self.db.execute("SELECT name, config FROM event_rules ORDER BY name").fetchall()
        return [Rule(json.loads(row["config"]), self.targets(row["name"])) for row in rows
                if not prefix or row["name"].startswith(prefix)]

    def set_state(self, name: str, state: str, bus: str | None = None) -> None:
        """EnableRule / DisableRule."""
        rule = self.get(name, bus)
        config = {**rule.config, "State": state}
        self.db.execute("UPDATE event_rules SET config = ? WHERE name = ?", (json.dumps(config), name))
        self.on_change(rule.arn)

    def delete(self, name: str, bus: str | None = None) -> None:
        """DeleteRule: a rule that does not exist is already deleted; one with targets is refused."""
        self.check_bus(bus)
        if self._row(name) is None:
            return
        if self.targets(name):
            raise ValidationException("Rule can't be deleted since it has targets.")
        with transaction(self.db):
            self.db.execute("DELETE FROM event_rules WHERE name = ?", (name,))
            self.tags.drop(self.arn(name))
        self.on_change(self.arn(name))

    def _row(self, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT config FROM event_rules WHERE name = ?", (name,)).fetchone()
        return row

    def targets(self, name: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT config FROM event_rule_targets WHERE rule = ? ORDER BY seq", (name,))
        return [json.loads(row["config"]) for row in rows]

    def put_targets(self, name: str, targets: list[dict[str, Any]], bus: str | None = None) -> list[dict[str, str]]:
        """PutTargets: add or replace targets by Id; the ones Ember cannot run come back as FailedEntries."""
        rule = self.get(name, bus)
        for target in targets:
            if sum(target.get(member) is not None for member in INPUT_MEMBERS) > 1:
                raise ValidationException("Only one of Input, InputPath, or InputTransformer must be provided "
                                          f"for target {target['Id']}.")
        failed, accepted = [], []
        for index, target in enumerate(targets, start=1):
            problem = check_target(target, index, self.region)
            if problem:
                failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException", "ErrorMessage": problem})
            else:
                accepted.append(target)
        ids = {t["Id"] for t in rule.targets} | {t["Id"] for t in accepted}
        if len(ids) > MAX_TARGETS:
            raise EventsLimitExceeded("The requested resource exceeds the maximum number allowed.")
        self._store_targets(name, accepted)
        self.on_change(rule.arn)
        return failed

    def remove_targets(self, name: str, ids: list[str], bus: str | None = None) -> list[dict[str, str]]:
        rule = self.get(name, bus)
        present = {target["Id"] for target in rule.targets}
        failed = [{"TargetId": target_id, "ErrorCode": "ResourceNotFoundException",
                   "ErrorMessage": f"Rule '{name}' does not have a target with the Id '{target_id}'."}
                  for target_id in ids if target_id not in present]
        self.db.executemany("DELETE FROM event_rule_targets WHERE rule = ? AND id = ?",
                            [(name, target_id) for target_id in ids if target_id in present])
        self.on_change(rule.arn)
        return failed

    def _store_targets(self, name: str, targets: list[dict[str, Any]]) -> None:
        row = self.db.execute("SELECT coalesce(max(seq), 0) FROM event_rule_targets WHERE rule = ?", (name,)).fetchone()
        for seq, target in enumerate(targets, start=row[0] + 1):
            self.db.execute(
                "INSERT INTO event_rule_targets (rule, id, seq, config) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (rule, id) DO UPDATE SET config = excluded.config",
                (name, target["Id"], seq, json.dumps(target)))

    def check_bus(self, bus: str | None) -> None:
        """Ember has the default bus only: by name or by ARN."""
        if bus in (None, DEFAULT_BUS, f"arn:aws:events:{self.region}:{ACCOUNT_ID}:event-bus/{DEFAULT_BUS}"):
            return
        raise EventsResourceNotFound(f"Event bus {str(bus).rpartition('/')[2]} does not exist.")
