"""AWS's async retry rules (ember.events.retry_policy), decision by decision."""

from __future__ import annotations

import pytest

from ember.events.retry_policy import (
    EVENT_AGE_EXCEEDED,
    REJECTED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    Decision,
    Outcome,
    RetryPolicy,
    backoff,
    decide,
    due_at,
    function_error_delay,
)

DEFAULT = RetryPolicy()


def test_a_success_is_done():
    assert decide(Outcome.SUCCESS, 1, 0, DEFAULT) == Decision(None, SUCCESS)


def test_function_errors_wait_one_then_two_minutes_and_stop_after_two_retries():
    assert decide(Outcome.FUNCTION_ERROR, 1, 0, DEFAULT) == Decision(60.0)
    assert decide(Outcome.FUNCTION_ERROR, 2, 0, DEFAULT) == Decision(120.0)
    assert decide(Outcome.FUNCTION_ERROR, 3, 0, DEFAULT) == Decision(None, RETRIES_EXHAUSTED)


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_maximum_retry_attempts_counts_function_errors_only(retries):
    policy = RetryPolicy(max_retries=retries)
    for attempts in range(1, retries + 1):
        assert not decide(Outcome.FUNCTION_ERROR, attempts, 0, policy).done
    assert decide(Outcome.FUNCTION_ERROR, retries + 1, 0, policy).condition == RETRIES_EXHAUSTED
    # throttles and system errors go on, however many attempts and back-offs came before
    assert not decide(Outcome.THROTTLED, retries + 1, 40, policy).done
    assert not decide(Outcome.SYSTEM_ERROR, retries + 1, 40, policy).done


def test_throttles_and_system_errors_back_off_from_one_second_to_five_minutes():
    delays = [decide(Outcome.THROTTLED, 0, n, DEFAULT).retry_in_s for n in range(12)]
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(delays) == 300.0 and delays[-1] == 300.0
    assert decide(Outcome.SYSTEM_ERROR, 0, 3, DEFAULT).retry_in_s == 8.0
    assert backoff(10_000) == 300.0, "a huge count does not overflow"


def test_jitter_shortens_a_back_off_but_not_a_function_error_wait():
    assert decide(Outcome.THROTTLED, 0, 2, DEFAULT, jitter=0.5).retry_in_s == 2.0
    assert decide(Outcome.FUNCTION_ERROR, 1, 0, DEFAULT, jitter=0.5).retry_in_s == 60.0


def test_a_rejected_event_is_given_up_at_once():
    assert decide(Outcome.REJECTED, 0, 0, DEFAULT) == Decision(None, REJECTED)


def test_the_scale_shortens_every_delay_and_the_age():
    fast = RetryPolicy(max_age_s=60, scale=0.01)
    assert decide(Outcome.FUNCTION_ERROR, 1, 0, fast).retry_in_s == pytest.approx(0.6)
    assert decide(Outcome.THROTTLED, 0, 0, fast).retry_in_s == pytest.approx(0.01)
    assert fast.expired(0.6) and not fast.expired(0.59)


def test_age_runs_from_acceptance_and_defaults_to_six_hours():
    assert not DEFAULT.expired(6 * 3600 - 1) and DEFAULT.expired(6 * 3600)
    assert EVENT_AGE_EXCEEDED == "EventAgeExceeded"


def test_an_event_is_looked_at_again_no_later_than_when_it_expires():
    policy = RetryPolicy(max_age_s=100)
    assert due_at(now=1000.0, delay_s=60.0, accepted_at=990.0, policy=policy) == 1060.0
    assert due_at(now=1000.0, delay_s=120.0, accepted_at=990.0, policy=policy) == 1090.0


def test_function_error_delays_past_the_second_stay_at_two_minutes():
    assert [function_error_delay(n) for n in (0, 1, 2, 3)] == [60.0, 60.0, 120.0, 120.0]
