"""ember.core.shapes via check_request: bodies read and validated against botocore's model, in AWS's words."""

from __future__ import annotations

import pytest

from ember.core.validation import check_logs_request, check_request
from ember.errors import (
    InvalidRequestContentException,
    LogsInvalidParameter,
    SerializationException,
    ValidationException,
)


@pytest.mark.parametrize("member, value, path", [
    ("MemorySize", "128", "memorySize"), ("Timeout", True, "timeout"), ("Handler", ["x"], "handler"),
    ("Environment", [], "environment"), ("Environment", {"Variables": {"KEY": 1}}, "environment.variables"),
    ("EphemeralStorage", {"Size": "512"}, "ephemeralStorage.size"), ("Architectures", "x86_64", "architectures"),
    ("Tags", {"k": []}, "tags"), ("Code", {"ZipFile": 1}, "code.zipFile"), ("Publish", "yes", "publish"),
])
def test_a_wrong_json_type_is_unparseable_and_names_the_member(member, value, path):
    with pytest.raises(InvalidRequestContentException) as caught:
        check_request("CreateFunction", {member: value})
    assert caught.value.message.startswith("Could not parse request body into json: Cannot deserialize value")
    assert caught.value.message.endswith(f"at '{path}'")


def test_every_violated_constraint_is_listed_in_one_message():
    with pytest.raises(ValidationException) as caught:
        check_request("UpdateFunctionConfiguration", {"MemorySize": 127, "Timeout": 901, "Description": "d" * 257})
    assert caught.value.message == (
        "3 validation errors detected: "
        "Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal "
        "to 128; Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal "
        f"to 900; Value '{'d' * 257}' at 'description' failed to satisfy constraint: Member must have length less "
        "than or equal to 256")


def test_a_standard_function_keeps_its_limits_not_the_models_managed_instance_ones():
    with pytest.raises(ValidationException, match="Member must have value less than or equal to 10240"):
        check_request("CreateFunction", {"FunctionName": "f", "Role": "arn:aws:iam::000000000000:role/r",
                                         "Code": {}, "MemorySize": 32768})


def test_environment_keys_are_checked_as_aws_does_without_showing_the_sensitive_map():
    for key in ("1A", "A", "A=B", "", "A-B", "A\x00"):
        with pytest.raises(ValidationException) as caught:
            check_request("UpdateFunctionConfiguration", {"Environment": {"Variables": {key: "v"}}})
        assert caught.value.message == (
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
            "[a-zA-Z]([a-zA-Z0-9_])+]")


def test_nested_required_members_and_nulls():
    with pytest.raises(ValidationException, match="Value null at 'ephemeralStorage.size' failed to satisfy "
                                                  "constraint: Member must not be null"):
        check_request("UpdateFunctionConfiguration", {"EphemeralStorage": {}})
    assert check_request("UpdateFunctionConfiguration", {"Timeout": None, "Unknown": 1}) == {}


def test_path_members_in_the_body_are_not_the_bodys():
    assert check_request("UpdateFunctionCode", {"FunctionName": 5, "Publish": True}) == {"Publish": True}


def test_a_lone_surrogate_is_no_text():
    with pytest.raises(InvalidRequestContentException, match="at 'description'"):
        check_request("UpdateFunctionConfiguration", {"Description": "\ud800"})


def test_list_members_are_checked_against_the_member_shape():
    with pytest.raises(ValidationException) as caught:
        check_request("UpdateFunctionCode", {"Architectures": ["sparc", "x86_64"]})
    assert "Value '[sparc, x86_64]' at 'architectures'" in caught.value.message
    assert "Member must have length less than or equal to 1" in caught.value.message
    assert "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]" in \
        caught.value.message


def test_the_runtime_keeps_its_own_check():
    assert check_request("UpdateFunctionConfiguration", {"Runtime": "cobol9"}) == {"Runtime": "cobol9"}


def test_logs_bodies_use_logs_errors():
    with pytest.raises(SerializationException):
        check_logs_request("FilterLogEvents", {"limit": "ten"})
    with pytest.raises(LogsInvalidParameter, match="Value '0' at 'limit'"):
        check_logs_request("FilterLogEvents", {"logGroupName": "/aws/lambda/f", "limit": 0})
