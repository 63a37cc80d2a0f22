"""The IAM subset through boto3's real `iam` client against a real `ember serve`."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from conftest import EmberProcess, lambda_client, make_zip

pytestmark = pytest.mark.integration

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
INVOKE_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                      "Resource": "*"}]}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def iam_client(url: str, region: str = "us-east-1"):
    return boto3.client("iam", endpoint_url=url, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def ember(tmp_path_factory):
    """One server for the module: IAM does not depend on how environments start."""
    server = EmberProcess(tmp_path_factory.mktemp("iam")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def iam(ember):
    return iam_client(ember.url)


@pytest.fixture
def role(iam):
    name = f"r-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Description="for a test")
    yield name
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def test_create_get_and_list_a_role(iam, role):
    got = iam.get_role(RoleName=role)["Role"]
    assert got["Arn"] == f"arn:aws:iam::000000000000:role/{role}"
    assert got["RoleId"].startswith("AROA") and got["Path"] == "/" and got["Description"] == "for a test"
    assert got["AssumeRolePolicyDocument"] == json.loads(TRUST)  # botocore decodes the url-encoded JSON
    assert got["CreateDate"].year >= 2024
    assert role in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def test_list_roles_pages_with_marker(iam, role):
    extra = f"{role}-b"
    iam.create_role(RoleName=extra, AssumeRolePolicyDocument=TRUST)
    try:
        first = iam.list_roles(MaxItems=1)
        assert first["IsTruncated"] is True and len(first["Roles"]) == 1
        names = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1})
                 for r in page["Roles"]]
        assert {role, extra} <= set(names) and names == sorted(names)
    finally:
        iam.delete_role(RoleName=extra)


def test_inline_policy_round_trip(iam, role):
    iam.put_role_policy(RoleName=role, PolicyName="invoke", PolicyDocument=json.dumps(INVOKE_ALL))
    got = iam.get_role_policy(RoleName=role, PolicyName="invoke")
    assert got["PolicyDocument"] == INVOKE_ALL and got["RoleName"] == role
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["invoke"]
    iam.delete_role_policy(RoleName=role, PolicyName="invoke")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


def test_managed_policy_attach_and_detach(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_delete_role_conflicts_while_policies_are_attached(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC)
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName=role)
    iam.detach_role_policy(RoleName=role, PolicyArn=BASIC)
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(INVOKE_ALL))
    with pytest.raises(iam.exceptions.DeleteConflictException) as raised:
        iam.delete_role(RoleName=role)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_errors_are_the_modelled_exceptions(iam, role):
    with pytest.raises(iam.exceptions.NoSuchEntityException) as raised:
        iam.get_role(RoleName="no-such-role")
    assert raised.value.response["Error"]["Message"] == "The role with name no-such-role cannot be found."
    assert raised.value.response["Error"]["Type"] == "Sender"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.put_role_policy(RoleName=role, PolicyName="bad", PolicyDocument="{not json")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role_policy(RoleName=role, PolicyName="absent")


def test_iam_accepts_any_signing_region(ember, role):
    """boto3 signs IAM for a custom endpoint with the client's region."""
    assert iam_client(ember.url, region="eu-west-1").get_role(RoleName=role)["Role"]["RoleName"] == role


def test_an_unknown_key_is_iams_invalid_client_token_id(ember):
    client = boto3.client("iam", endpoint_url=ember.url, region_name="us-east-1", aws_access_key_id="nobody",
                          aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(client.exceptions.ClientError) as raised:
        client.list_roles()
    assert raised.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_strict_roles_refuses_an_unknown_role_at_create_function(ember_with):
    server = ember_with("--strict-roles")
    client = lambda_client(server.url)
    code = {"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})}
    with pytest.raises(client.exceptions.InvalidParameterValueException) as raised:
        client.create_function(FunctionName="f", Runtime="python3.11", Handler="index.handler", Code=code,
                               Role="arn:aws:iam::000000000000:role/unknown")
    assert raised.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."
    iam = iam_client(server.url)
    arn = iam.create_role(RoleName="known", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    created = client.create_function(FunctionName="f", Runtime="python3.11", Handler="index.handler", Code=code,
                                     Role=arn)
    assert created["Role"] == arn
