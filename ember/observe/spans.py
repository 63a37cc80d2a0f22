"""Named phases of one invocation on a monotonic clock, reported as an HTTP `Server-Timing` header.

received ─resolve─▶ acquiring ─acquire─▶ acquired ─thaw─▶ thawed ─init─▶ initialised ─deliver─▶
taken (by the runtime) ─run─▶ responded ─finish─▶ done. A warm call's init is 0; its thaw is 0 unless
the environment had been idle long enough to be frozen. A regression then points at a phase instead
of at "invoke got slower".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PHASES = (
    ("resolve", "received", "acquiring"),
    ("acquire", "acquiring", "acquired"),
    ("thaw", "acquired", "thawed"),
    ("init", "thawed", "initialised"),
    ("deliver", "initialised", "taken"),
    ("run", "taken", "responded"),
    ("finish", "responded", "done"),
)


@dataclass
class Spans:
    marks: dict[str, int] = field(default_factory=lambda: {"received": time.perf_counter_ns()})

    def mark(self, name: str, at_ns: int = 0) -> None:
        self.marks[name] = at_ns or time.perf_counter_ns()

    def durations_ms(self) -> dict[str, float]:
        """Each phase's length in ms; 0 when one of its marks is missing (the runtime never took it)."""
        result = {}
        for phase, start, end in PHASES:
            begin, finish = self.marks.get(start), self.marks.get(end)
            result[phase] = (finish - begin) / 1e6 if begin and finish else 0.0
        return result

    def server_timing(self) -> str:
        return ", ".join(f"{phase};dur={ms:.3f}" for phase, ms in self.durations_ms().items())
