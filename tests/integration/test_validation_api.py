"""What boto3 leaves to the server is checked with AWS's codes, statuses and messages; tags round-trip."""

from __future__ import annotations

import pytest
from conftest import ROLE, make_zip

CODE = {"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})}
BASE = {"Runtime": "python3.11", "Role": ROLE, "Handler": "index.handler", "Code": CODE}


@pytest.mark.parametrize("override, code, fragment", [
    ({"MemorySize": 10241}, "ValidationException", "Member must have value less than or equal to 10240"),
    ({"Timeout": 901}, "ValidationException", "Member must have value less than or equal to 900"),
    ({"EphemeralStorage": {"Size": 10241}}, "ValidationException", "at 'ephemeralStorage.size'"),
    ({"Architectures": ["x86_64", "arm64"]}, "ValidationException", "Member must have length less than or equal to 1"),
    ({"Architectures": ["sparc"]}, "ValidationException", "enum value set: [x86_64, arm64]"),
    ({"Handler": "has space.handler"}, "ValidationException", "at 'handler'"),
    ({"Runtime": "cobol9"}, "InvalidParameterValueException", "Member must satisfy enum value set"),
    ({"Runtime": "dotnet8"}, "InvalidParameterValueException", "not supported by this Ember server"),
    ({"Role": "not-a-role"}, "ValidationException", "at 'role'"),
    ({"Description": "d" * 257}, "ValidationException", "Member must have length less than or equal to 256"),
    ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "InvalidParameterValueException", "reserved keys"),
    ({"Environment": {"Variables": {"BIG": "x" * 4100}}}, "InvalidParameterValueException", "4KB"),
    ({"Code": {"ZipFile": b"PK\x03\x04 broken"}}, "InvalidParameterValueException", "Could not unzip uploaded file"),
])
def test_create_function_rejects(client, override, code, fragment):
    with pytest.raises(client.exceptions.ClientError) as info:
        client.create_function(FunctionName="invalid-fn", **{**BASE, **override})
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400)
    assert fragment in error["Message"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="invalid-fn")


@pytest.mark.parametrize("name", ["has space", "x" * 65, "bad/name"])
def test_bad_function_names_are_rejected(client, name):
    with pytest.raises(client.exceptions.ClientError) as info:
        client.create_function(FunctionName=name, **BASE)
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_update_configuration_is_validated_and_changes_nothing_on_error(client, deploy):
    name = deploy("def handler(e, c):\n    return 1\n")
    with pytest.raises(client.exceptions.ClientError):
        client.update_function_configuration(FunctionName=name, MemorySize=20000)
    assert client.get_function_configuration(FunctionName=name)["MemorySize"] == 128


def test_valid_edges_are_accepted(client, deploy):
    name = deploy("def handler(e, c):\n    return 1\n")
    client.update_function_configuration(FunctionName=name, MemorySize=10240, Timeout=900,
                                         EphemeralStorage={"Size": 10240})
    config = client.update_function_code(FunctionName=name, ZipFile=CODE["ZipFile"], Architectures=["arm64"])
    assert (config["MemorySize"], config["Timeout"], config["EphemeralStorage"], config["Architectures"]) == \
        (10240, 900, {"Size": 10240}, ["arm64"])


def test_tags_round_trip(client, deploy):
    name = deploy("def handler(e, c):\n    return 1\n")
    arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
    client.tag_resource(Resource=arn, Tags={"team": "core", "env": "dev"})
    assert client.list_tags(Resource=arn)["Tags"] == {"team": "core", "env": "dev"}
    client.untag_resource(Resource=arn, TagKeys=["env"])
    assert client.list_tags(Resource=arn)["Tags"] == {"team": "core"}
    assert client.get_function(FunctionName=name)["Tags"] == {"team": "core"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags(Resource=arn + "-missing")
