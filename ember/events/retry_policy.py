"""When an async event runs again and when Lambda gives up on it: AWS's rules as pure functions.

How one attempt ended (ember.events.async_queue tells which) decides what comes next:

    SUCCESS         the function returned a result                  → done (Success)
    FUNCTION_ERROR  the function returned an error, crashed, ran    → again after 1 minute, then 2 minutes,
                    out of memory or timed out (its Init included)    up to MaximumRetryAttempts (default 2),
                                                                      then RetriesExhausted
    THROTTLED       no concurrency slot (429)                       → again after an exponential back-off:
    SYSTEM_ERROR    Ember failed, not the function: no environment    1 s doubling to 5 minutes, jittered;
                    could be made, or an internal 5xx                 not counted against MaximumRetryAttempts
    REJECTED        the event can never run: the version or alias  → done at once (Rejected, Ember's own
                    it names was deleted                              condition: AWS documents none)

Whatever came before, an event older than MaximumEventAgeInSeconds (default 6 hours, counted from its
first acceptance) is given up as EventAgeExceeded when it comes up to run again.

`scale` (`ember serve --async-retry-scale`) multiplies every delay and the event age alike, so a test
sees the 1- and 2-minute waits and a 60 s maximum age pass in a hundredth of the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(Enum):
    SUCCESS = "success"
    FUNCTION_ERROR = "function"
    THROTTLED = "throttle"
    SYSTEM_ERROR = "system"
    REJECTED = "rejected"


# The invocation record's requestContext.condition (AWS's words), and Ember's one addition.
SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
REJECTED = "Rejected"

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_S = 21600
FUNCTION_ERROR_DELAYS_S = (60.0, 120.0)  # before the first retry, before the second
BACKOFF_S, MAX_BACKOFF_S = 1.0, 300.0
JITTER = (0.5, 1.0)  # a back-off is multiplied by a uniform draw from this range


@dataclass(frozen=True)
class RetryPolicy:
    """An event's limits: its function's event-invoke config, and the server's time scale."""

    max_retries: int = DEFAULT_RETRY_ATTEMPTS
    max_age_s: float = DEFAULT_MAX_EVENT_AGE_S
    scale: float = 1.0

    @property
    def age_limit_s(self) -> float:
        return self.max_age_s * self.scale

    def expired(self, age_s: float) -> bool:
        return age_s >= self.age_limit_s


@dataclass(frozen=True)
class Decision:
    """Run again in `retry_in_s` seconds, or (None) done, with the condition it ended on."""

    retry_in_s: float | None
    condition: str | None = None

    @property
    def done(self) -> bool:
        return self.retry_in_s is None


def decide(outcome: Outcome, attempts: int, backoffs: int, policy: RetryPolicy, jitter: float = 1.0) -> Decision:
    """What follows an attempt. `attempts`: the function's attempts so far, this one included;
    `backoffs`: throttles and system errors before this one (the exponent of the next back-off)."""
    if outcome is Outcome.SUCCESS:
        return Decision(None, SUCCESS)
    if outcome is Outcome.REJECTED:
        return Decision(None, REJECTED)
    if outcome is Outcome.FUNCTION_ERROR:
        if attempts > policy.max_retries:
            return Decision(None, RETRIES_EXHAUSTED)
        return Decision(function_error_delay(attempts) * policy.scale)
    return Decision(backoff(backoffs, jitter) * policy.scale)


def function_error_delay(attempts: int) -> float:
    """AWS waits 1 minute before the first retry and 2 before the second."""
    return FUNCTION_ERROR_DELAYS_S[min(max(attempts, 1), len(FUNCTION_ERROR_DELAYS_S)) - 1]


def backoff(backoffs: int, jitter: float = 1.0) -> float:
    """1 s after the first throttle or system error, doubling up to 5 minutes, times the jitter."""
    return min(MAX_BACKOFF_S, BACKOFF_S * 2 ** min(backoffs, 16)) * jitter


def due_at(now: float, delay_s: float, accepted_at: float, policy: RetryPolicy) -> float:
    """When to look at the event again: after its delay, but no later than the moment it expires, so an
    expired event is given up when its age runs out rather than after a long back-off."""
    return min(now + delay_s, accepted_at + policy.age_limit_s)
