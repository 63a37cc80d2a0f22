"""The scheduler: runs every enabled rule and schedule when its time comes, through the async queue.

Each one has a timer row in SQLite (`timers`: its next run and when it falls due, with the spec it
was computed from). A run is one transaction: its events are enqueued (ember.events.async_queue,
source `schedule`, which metrics count as OpenTelemetry's `timer` trigger) and the timer moves on
together, so a run is never lost and never sent twice, whatever stops the server.

Missed runs (Ember's policy; AWS documents none): runs that fell due while the server was down (or
its clock was stopped) are run **at most once**. When the scheduler finds a timer past due by more
than one run, it runs the latest missed run once, with that run's time, logs how many it skipped,
and carries on from the next run after now. A disabled rule or schedule has no timer: enabling it
starts afresh and catches nothing up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import sqlite3
import uuid
from collections.abc import Callable

from ember.core.database import transaction
from ember.errors import AwsError
from ember.events.async_queue import EventQueue
from ember.events.clock import SchedulerClock
from ember.events.expressions import iso
from ember.events.gate import DeliveryGate
from ember.events.payloads import rule_payload, scheduled_event, scheduler_payload
from ember.events.rules import RuleStore
from ember.events.schedules import ScheduleStore
from ember.events.targets import function_of
from ember.events.timing import Timed, timed_rule, timed_schedule
from ember.observe.metrics import Metrics

log = logging.getLogger("ember.events")
MAX_SLEEP_S = 30.0  # real seconds between looks at the clock even with nothing due (the wall clock may jump)
SOURCE = "schedule"


class Scheduler:
    def __init__(self, db: sqlite3.Connection, clock: SchedulerClock, rules: RuleStore, schedules: ScheduleStore,
                 queue: EventQueue, gate: DeliveryGate, metrics: Metrics, region: str) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        self.schedules = schedules
        self.queue = queue
        self.gate = gate
        self.metrics = metrics
        self.region = region
        self._wake = asyncio.Event()
        self._refused: set[tuple[str, str, str]] = set()  # (ARN, target, reason) already logged

    def start(self) -> None:
        """Timers for what changed while the server was down; runs missed meanwhile wait for `run`. A clock
        that did not carry on (its speed changed) starts every timer afresh: its old times mean nothing now."""
        items = {t.arn: t for t in self._all()}
        for row in self.db.execute("SELECT arn FROM timers").fetchall():
            if row["arn"] not in items or not self.clock.continued:
                self.db.execute("DELETE FROM timers WHERE arn = ?", (row["arn"],))
        for timed in items.values():
            self._reconcile(timed.arn, timed)

    def changed(self, arn: str) -> None:
        """A rule or schedule was created, changed or deleted (the stores call this)."""
        self._reconcile(arn, self._lookup(arn))
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = self.tick()
            except Exception:  # the loop outlives any one bad run: log it and look again later
                log.exception("the scheduler failed a tick")
                wait = None
            real = MAX_SLEEP_S if wait is None else min(MAX_SLEEP_S, self.clock.real_seconds(wait))
            try:
                async with asyncio.timeout(max(0.001, real)):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def tick(self) -> float | None:
        """Run what is due; scheduler seconds until the next run falls due (None: nothing waits)."""
        now = self.clock.now()
        for row in self.db.execute("SELECT arn, next_slot FROM timers WHERE next_due <= ? ORDER BY next_due",
                                   (now,)).fetchall():
            timed = self._lookup(row["arn"])
            if timed is None:
                self.db.execute("DELETE FROM timers WHERE arn = ?", (row["arn"],))
                continue
            try:
                self._run_due(timed, row["next_slot"], now)
            except Exception:  # never retried in a loop: the run is dropped, the timer moves past now
                log.exception("%s %s: its run failed and is dropped", timed.kind, timed.label)
                self._reconcile(timed.arn, None)
                self._reconcile(timed.arn, timed)
        soonest = self.db.execute("SELECT min(next_due) FROM timers").fetchone()[0]
        return None if soonest is None else max(0.0, soonest - now)

    def _run_due(self, timed: Timed, slot: float, now: float) -> None:
        slot, skipped = timed.latest_due(slot, now)
        if skipped:
            log.warning("%s %s: %d runs missed while the server was down (or its clock stopped); ran once, for "
                        "%s", timed.kind, timed.label, skipped, iso(slot))
        following = timed.slot_after(slot)
        if following is not None and following <= now:  # a cron whose missed runs were too many to count
            following = timed.slot_after(now)
        with transaction(self.db):
            self._deliver(timed, slot)
            if following is None:
                self._complete(timed)
            else:
                self._set_timer(timed, following)

    def _deliver(self, timed: Timed, slot: float) -> None:
        """Enqueue the run's event for each target its permission lets it invoke."""
        if timed.kind == "rule":
            rule = self.rules.get(timed.label)
            event = scheduled_event(rule.arn, self.region, slot)
            for target in rule.targets:
                function = function_of(target["Arn"], self.region)
                refusal = None if function is None else self.gate.rule_refusal(rule.arn, function)
                self._send(timed, target["Arn"], refusal, functools.partial(rule_payload, target, event, rule.name))
            return
        schedule = self.schedules.get(timed.label.partition("/")[2], timed.label.partition("/")[0])
        target = schedule.config["Target"]
        function = function_of(target["Arn"], self.region)
        refusal = None if function is None else self.gate.schedule_refusal(target["RoleArn"], target["Arn"], function)
        self._send(timed, target["Arn"], refusal, functools.partial(
            scheduler_payload, target.get("Input"), schedule.arn, slot, secrets.token_hex(8)))

    def _send(self, timed: Timed, target_arn: str, refusal: str | None, payload: Callable[[], bytes]) -> None:
        function = function_of(target_arn, self.region)
        if refusal is not None or function is None:
            self._refused_once(timed, target_arn, refusal or "not a function of this server")
            self.metrics.observe_scheduled(timed.kind, timed.label, sent=False)
            return
        self.queue.enqueue(str(uuid.uuid4()), function.name, function.qualifier, payload(), source=SOURCE)
        self.metrics.observe_scheduled(timed.kind, timed.label, sent=True)

    def _refused_once(self, timed: Timed, target_arn: str, reason: str) -> None:
        key = (timed.arn, target_arn, reason)
        if key not in self._refused:
            self._refused.add(key)
            log.warning("%s %s does not invoke %s: %s (said once; each refused run is counted in "
                        "ember_scheduled_invocations_total{outcome=\"failed\"})", timed.kind, timed.label,
                        target_arn, reason)

    def _complete(self, timed: Timed) -> None:
        """No run is left: the timer goes, and a schedule whose ActionAfterCompletion is DELETE with it."""
        self.db.execute("DELETE FROM timers WHERE arn = ?", (timed.arn,))
        if timed.kind == "schedule":
            group, _, name = timed.label.partition("/")
            if self.schedules.get(name, group).config["ActionAfterCompletion"] == "DELETE":
                self.schedules.delete(name, group)

    def _reconcile(self, arn: str, timed: Timed | None) -> None:
        """Keep the timer while what decides the runs is unchanged; start afresh otherwise; drop it if disabled."""
        row = self.db.execute("SELECT spec FROM timers WHERE arn = ?", (arn,)).fetchone()
        if timed is None:
            self.db.execute("DELETE FROM timers WHERE arn = ?", (arn,))
            return
        if row is not None and row["spec"] == timed.spec:
            return
        first = timed.first_slot(self.clock.now())
        if first is None:
            self.db.execute("DELETE FROM timers WHERE arn = ?", (arn,))
        else:
            self._set_timer(timed, first)

    def _set_timer(self, timed: Timed, slot: float) -> None:
        due = slot + random.uniform(0, timed.window_s) if timed.window_s else slot
        self.db.execute("INSERT OR REPLACE INTO timers (arn, spec, next_slot, next_due) VALUES (?, ?, ?, ?)",
                        (timed.arn, timed.spec, slot, due))

    def _lookup(self, arn: str) -> Timed | None:
        """The enabled rule or schedule behind an ARN, or None."""
        kind, _, path = arn.rpartition(":")[2].partition("/")
        try:
            if kind == "rule":
                rule = self.rules.get(path)
                return timed_rule(rule) if rule.enabled else None
            group, _, name = path.partition("/")
            schedule = self.schedules.get(name, group)
            return timed_schedule(schedule) if schedule.enabled else None
        except AwsError:
            return None

    def _all(self) -> list[Timed]:
        timed = [timed_rule(rule) for rule in self.rules.all() if rule.enabled]
        return timed + [timed_schedule(schedule) for schedule in self.schedules.all() if schedule.enabled]
