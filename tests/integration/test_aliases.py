"""Aliases: CRUD, invoking through them, and weighted routing between two versions."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import make_zip

SOURCE = "STAMP = 'one'\ndef handler(e, c):\n    return [STAMP, c.invoked_function_arn]\n"


@pytest.fixture
def two_versions(client, deploy):
    name = deploy(SOURCE)
    client.publish_version(FunctionName=name)
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": SOURCE.replace("one", "two")}),
                                Publish=True)
    return name


def test_alias_lifecycle(client, two_versions):
    name = two_versions
    created = client.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert created["AliasArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    assert created["FunctionVersion"] == "1" and created["RevisionId"]
    assert client.get_alias(FunctionName=name, Name="live")["Description"] == "prod"
    updated = client.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["RevisionId"] != created["RevisionId"]
    client.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    assert [a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]] == ["beta", "live"]
    client.delete_alias(FunctionName=name, Name="beta")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_alias(FunctionName=name, Name="beta")
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.update_alias(FunctionName=name, Name="live", Description="x", RevisionId=created["RevisionId"])


def test_alias_errors(client, two_versions):
    name = two_versions
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_alias(FunctionName=name, Name="ghost", FunctionVersion="9")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.create_alias(FunctionName=name, Name="123", FunctionVersion="1")
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_invoke_through_an_alias(client, two_versions):
    name = two_versions
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    alias_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    for args in ({"FunctionName": name, "Qualifier": "live"}, {"FunctionName": f"{name}:live"},
                 {"FunctionName": alias_arn}):
        response = client.invoke(**args)
        assert response["ExecutedVersion"] == "1"
        assert json.loads(response["Payload"].read()) == ["one", alias_arn]
    assert client.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"


def test_weighted_routing_follows_the_weights(client, two_versions):
    name = two_versions
    client.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    ran = Counter(client.invoke(FunctionName=name, Qualifier="canary")["ExecutedVersion"] for _ in range(500))
    assert set(ran) == {"1", "2"}
    # 500 draws at p=0.2: mean 100, sd ~8.9; ±5 sd keeps a false failure below one in a million.
    assert 55 <= ran["2"] <= 145, ran
    client.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert {client.invoke(FunctionName=name, Qualifier="canary")["ExecutedVersion"] for _ in range(20)} == {"1"}


def test_deleting_the_function_removes_its_aliases(client, deploy):
    name = deploy(SOURCE)
    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    client.delete_function(FunctionName=name)
    client.create_function(FunctionName=name, Runtime="python3.11", Role="arn:aws:iam::000000000000:role/x",
                           Handler="index.handler", Code={"ZipFile": make_zip({"index.py": SOURCE})})
    assert client.list_aliases(FunctionName=name)["Aliases"] == []
