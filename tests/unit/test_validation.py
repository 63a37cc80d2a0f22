"""ember.core.validation: the server-side checks, with AWS's error codes."""

from __future__ import annotations

import pytest

from ember.core.validation import (
    SUPPORTED_RUNTIMES,
    check_environment,
    check_function_name,
    check_limits,
    check_role,
    check_runtime,
)
from ember.errors import InvalidParameterValueException, ValidationException


@pytest.mark.parametrize("runtime", [r for r in SUPPORTED_RUNTIMES if r != "provided"])
def test_supported_runtimes_pass(runtime):
    check_runtime(runtime)


def test_a_runtime_past_its_create_block_date_still_runs_but_cannot_be_created():
    """`provided` (Amazon Linux 1): AWS blocked creating functions on it in 2024; Ember still runs old ones."""
    with pytest.raises(InvalidParameterValueException, match="The runtime parameter of provided is no longer"):
        check_runtime("provided")


def test_python312_passes():
    check_runtime("python3.12")


def test_real_aws_runtime_ember_does_not_run_names_the_supported_ones():
    with pytest.raises(InvalidParameterValueException) as caught:
        check_runtime("dotnet8")
    assert "dotnet8" in caught.value.message
    for runtime in SUPPORTED_RUNTIMES:
        assert runtime in caught.value.message


def test_a_java_runtime_without_a_jdk_says_what_to_install(monkeypatch):
    monkeypatch.setattr("ember.runtimes.jvm.JAVA", "/nonexistent/java")
    with pytest.raises(InvalidParameterValueException) as caught:
        check_runtime("java21")
    assert caught.value.message == ("The runtime java21 can't run on this Ember server: /nonexistent/java is missing "
                                    "(apt-get install openjdk-17-jdk-headless).")


def test_unknown_runtime_fails_the_enum_constraint():
    with pytest.raises(InvalidParameterValueException) as caught:
        check_runtime("cobol")
    assert "enum value set" in caught.value.message
    assert "cobol" in caught.value.message


@pytest.mark.parametrize("role", [
    "arn:aws:iam::000000000000:role/lambda-role",
    "arn:aws:iam::123456789012:role/service-role/my_role+x=y,z.@a-b",
])
def test_good_role_passes(role):
    check_role(role)


@pytest.mark.parametrize("role", ["", "lambda-role", "arn:aws:iam::123:role/r", "arn:aws:iam::000000000000:user/u"])
def test_bad_role_is_a_validation_error(role):
    with pytest.raises(ValidationException) as caught:
        check_role(role)
    assert "at 'role' failed to satisfy constraint" in caught.value.message


@pytest.mark.parametrize(("memory", "timeout"), [(128, 1), (10240, 900)])
def test_limits_at_the_bounds_pass(memory, timeout):
    check_limits(memory, timeout)


@pytest.mark.parametrize("memory", [127, 10241])
def test_memory_out_of_range_is_a_validation_error(memory):
    with pytest.raises(ValidationException) as caught:
        check_limits(memory, 3)
    assert "memorySize" in caught.value.message


@pytest.mark.parametrize("timeout", [0, 901])
def test_timeout_out_of_range_is_a_validation_error(timeout):
    with pytest.raises(ValidationException) as caught:
        check_limits(128, timeout)
    assert "timeout" in caught.value.message


def test_ordinary_environment_passes():
    check_environment({"STAGE": "dev", "TABLE": "t"})


def test_reserved_environment_key_is_an_invalid_parameter_value():
    with pytest.raises(InvalidParameterValueException) as caught:
        check_environment({"STAGE": "dev", "AWS_REGION": "eu-west-1"})
    assert "AWS_REGION" in caught.value.message


def test_environment_over_4_kb_is_an_invalid_parameter_value():
    with pytest.raises(InvalidParameterValueException) as caught:
        check_environment({"A": "x" * 2048, "B": "y" * 2048})
    assert "4KB" in caught.value.message


@pytest.mark.parametrize("name", ["fn", "my-function_2", "a" * 64])
def test_good_function_name_passes(name):
    check_function_name(name)


@pytest.mark.parametrize("name", ["bad name", "", "a" * 65, "fn:x"])
def test_bad_function_name_is_a_validation_error(name):
    with pytest.raises(ValidationException) as caught:
        check_function_name(name)
    assert "functionName" in caught.value.message


def test_a_nul_in_the_handler_or_a_variable_is_refused():
    from ember.core.validation import check_handler

    with pytest.raises(InvalidParameterValueException, match="null character"):
        check_handler("index\x00.handler")
    with pytest.raises(InvalidParameterValueException, match="contains a null character"):
        check_environment({"KEY": "a\x00b"})
