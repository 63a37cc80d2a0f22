"""The scheduler's clock: the wall clock, or one that runs `speed` times faster (`ember serve --clock-speed`).

Only rules and schedules read it (environments, keep-alive and timeouts keep real time), so a test
or a benchmark can watch an hour of `rate(5 minutes)` pings in a minute. An accelerated clock is a
straight line through an anchor kept in SQLite, `time = anchor_time + speed × (wall − anchor_wall)`:
it carries on across a restart at the same speed, and time the server was down passes at that
speed too, so the missed-run policy can be tested without waiting. At speed 1 it is the wall clock.
"""

from __future__ import annotations

import sqlite3
import time


class SchedulerClock:
    def __init__(self, speed: float = 1.0, anchor_wall: float | None = None, anchor_time: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be above 0")
        self.speed = speed
        self.anchor_wall = time.time() if anchor_wall is None else anchor_wall
        self.anchor_time = self.anchor_wall if anchor_time is None else anchor_time
        self.continued = True  # False: `load` re-anchored it (its speed changed), so old instants mean nothing

    def now(self) -> float:
        """Scheduler time, epoch seconds."""
        return self.anchor_time + self.speed * (time.time() - self.anchor_wall)

    def real_seconds(self, scheduler_seconds: float) -> float:
        """How long the wall clock takes for this much scheduler time."""
        return scheduler_seconds / self.speed

    @classmethod
    def load(cls, db: sqlite3.Connection, speed: float) -> SchedulerClock:
        """The clock this data dir's last server left, at `speed` (re-anchored where the speed changed)."""
        row = db.execute("SELECT speed, anchor_wall, anchor_time FROM scheduler_clock").fetchone()
        if speed == 1.0:
            clock = cls()
        elif row is not None and row["speed"] == speed:
            clock = cls(speed, row["anchor_wall"], row["anchor_time"])
        else:
            previous = cls(row["speed"], row["anchor_wall"], row["anchor_time"]) if row else cls()
            clock = cls(speed, anchor_time=max(time.time(), previous.now()))
        clock.continued = row is None or row["speed"] == speed
        db.execute("DELETE FROM scheduler_clock")
        db.execute("INSERT INTO scheduler_clock (speed, anchor_wall, anchor_time) VALUES (?, ?, ?)",
                   (clock.speed, clock.anchor_wall, clock.anchor_time))
        return clock
