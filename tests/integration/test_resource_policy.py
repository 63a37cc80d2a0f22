"""Functions' resource-based policies through boto3: AddPermission, GetPolicy, RemovePermission."""

from __future__ import annotations

import json

import pytest

SOURCE = "def handler(e, c):\n    return 'ok'\n"
RULE = "arn:aws:events:us-east-1:000000000000:rule/nightly"


def test_a_permission_is_written_as_aws_writes_it(client, deploy):
    name = deploy(SOURCE)
    added = client.add_permission(FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
                                  Principal="events.amazonaws.com", SourceArn=RULE)
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        "Condition": {"ArnLike": {"AWS:SourceArn": RULE}}}
    client.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunction", Principal="*",
                          InvokedViaFunctionUrl=True)
    policy = client.get_policy(FunctionName=name)
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17" and [s["Sid"] for s in document["Statement"]] == ["events", "url"]
    assert document["Statement"][1]["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    assert document["Statement"][1]["Principal"] == "*"
    assert policy["RevisionId"]


def test_permission_errors_are_aws_errors(client, deploy):
    name = deploy(SOURCE)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName=name)
    client.add_permission(FunctionName=name, StatementId="a", Action="lambda:InvokeFunction", Principal="111122223333")
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.add_permission(FunctionName=name, StatementId="a", Action="lambda:InvokeFunction", Principal="*")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.remove_permission(FunctionName=name, StatementId="nope")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.add_permission(FunctionName="no-such-fn", StatementId="a", Action="lambda:InvokeFunction",
                              Principal="*")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.add_permission(FunctionName=name, Qualifier="ghost", StatementId="a",
                              Action="lambda:InvokeFunction", Principal="*")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.add_permission(FunctionName=name, StatementId="bad sid", Action="lambda:InvokeFunction", Principal="*")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.add_permission(FunctionName=name, StatementId="b", Action="lambda:InvokeFunction", Principal="*",
                              RevisionId="stale")


def test_remove_and_qualified_policies(client, deploy):
    name = deploy(SOURCE)
    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    client.add_permission(FunctionName=name, Qualifier="live", StatementId="gw", Action="lambda:InvokeFunction",
                          Principal="apigateway.amazonaws.com")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName=name)  # the alias has a policy; the function itself has none
    aliased = json.loads(client.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    assert aliased["Statement"][0]["Resource"].endswith(f"function:{name}:live")
    client.remove_permission(FunctionName=name, Qualifier="live", StatementId="gw")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName=name, Qualifier="live")


def test_a_deleted_function_takes_its_policy_with_it(client, deploy):
    name = deploy(SOURCE)
    client.add_permission(FunctionName=name, StatementId="a", Action="lambda:InvokeFunction", Principal="*")
    client.delete_function(FunctionName=name)
    name = deploy(SOURCE, name=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName=name)
