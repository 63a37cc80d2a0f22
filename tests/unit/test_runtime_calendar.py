"""ember.runtimes.deprecations: AWS's deprecation dates decide what the API and templates accept, in AWS's words."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from ember.core.validation import check_runtime, runtime_warning
from ember.errors import InvalidParameterValueException
from ember.runtimes import SUPPORTED_RUNTIMES, runtime_command
from ember.runtimes.deprecations import DATA, blocked_message, calendar, source
from ember.runtimes.deprecations import today as real_today

DAY = datetime.date


def test_the_calendar_names_its_source_and_is_well_formed():
    url, read = source()
    assert url == "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
    assert DAY.fromisoformat(read) <= real_today()
    for lifecycle in calendar().values():
        assert lifecycle.deprecation <= lifecycle.block_create <= lifecycle.block_update, lifecycle
    assert set(json.loads(DATA.read_text())["runtimes"]) >= {"python3.9", "nodejs18.x", "python3.14", "nodejs24.x"}


@pytest.mark.parametrize(("runtime", "change", "on", "blocked"), [
    ("python3.9", "create", DAY(2027, 7, 28), False),
    ("python3.9", "create", DAY(2027, 7, 29), True),  # AWS's block-create date
    ("python3.9", "update", DAY(2027, 8, 30), False),
    ("python3.9", "update", DAY(2027, 8, 31), True),
    ("python3.7", "create", DAY(2026, 12, 1), True),
    ("python3.7", "update", DAY(2026, 12, 1), False),  # existing functions may still be updated
    ("python3.14", "create", DAY(2026, 12, 1), False),
    ("dotnet8", "create", DAY(2026, 12, 1), False),  # not blocked by AWS (Ember does not run it: another check)
])
def test_block_dates(runtime, change, on, blocked):
    assert (blocked_message(runtime, change, on) is not None) == blocked


def test_a_blocked_runtime_is_refused_with_awss_message():
    with pytest.raises(InvalidParameterValueException) as caught:
        check_runtime("python3.9", "create", DAY(2027, 8, 1))
    assert caught.value.message == (
        "The runtime parameter of python3.9 is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use a supported runtime while creating or updating functions.")


@pytest.mark.parametrize("runtime", ["python3.8", "python3.9", "python3.10", "nodejs16.x", "nodejs18.x", "nodejs20.x"])
def test_deprecated_runtimes_aws_still_allows_deploy_with_a_warning_naming_what_runs(runtime):
    on = DAY(2026, 12, 1)
    check_runtime(runtime, "create", on)
    assert runtime in SUPPORTED_RUNTIMES and runtime_command(runtime, "/var/task", "/var/runtime", 128)
    warning = runtime_warning(runtime, on)
    assert re.fullmatch(rf"{re.escape(runtime)} is deprecated by AWS since \d{{4}}-\d\d-\d\d \(creating functions on "
                        r"it is blocked from 2027-07-29, updating them from 2027-08-31\); it runs here on \S+", warning)


@pytest.mark.parametrize("runtime", ["python3.14", "nodejs24.x", "python3.12", "java11", "java8.al2"])
def test_current_runtimes_deploy_without_a_warning(runtime):
    check_runtime(runtime, "create", DAY(2026, 12, 1))
    assert runtime_warning(runtime, DAY(2026, 12, 1)) is None
