"""What a function may do with the keys it holds: its own, standing for its execution role, used by
boto3 inside the sandbox unchanged (AWS_ENDPOINT_URL_LAMBDA points at Ember's in-namespace API)."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from conftest import ROLE, lambda_client, make_zip
from test_iam import TRUST, iam_client

pytestmark = pytest.mark.integration

CALLER = """
import json, os, boto3

def handler(event, context):
    found = {"key": os.environ["AWS_ACCESS_KEY_ID"], "has_token": "AWS_SESSION_TOKEN" in os.environ}
    client = boto3.client("lambda")
    try:
        response = client.invoke(FunctionName=event["target"], Payload=b'{"n": 2}')
        found["result"] = json.loads(response["Payload"].read())
    except client.exceptions.ClientError as error:
        found["error"] = error.response["Error"]["Code"]
    try:
        client.delete_function(FunctionName=event["target"])
        found["deleted"] = True
    except client.exceptions.ClientError as error:
        found["delete_error"] = error.response["Error"]["Code"]
    return found
"""


def create(client, name: str, source: str, role: str) -> None:
    client.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": source})}, Timeout=20, MemorySize=256)


def call(client, name: str, event: dict) -> dict:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event))
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_a_role_without_policy_may_do_nothing_and_one_with_a_policy_what_it_allows(ember):
    client, iam = lambda_client(ember.url), iam_client(ember.url)
    suffix = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"caller-{suffix}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    target, caller = f"target-{suffix}", f"caller-{suffix}"
    create(client, target, "def handler(event, context):\n    return event['n'] * 21\n", ROLE)
    create(client, caller, CALLER, role)
    denied = call(client, caller, {"target": target})
    assert denied["has_token"] and denied["key"].startswith("ASIA") and denied["key"] != "test"
    assert denied["error"] == "AccessDeniedException" and denied["delete_error"] == "AccessDeniedException"
    target_arn = client.get_function(FunctionName=target)["Configuration"]["FunctionArn"]
    iam.put_role_policy(RoleName=f"caller-{suffix}", PolicyName="invoke-target", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                 "Resource": target_arn}]}))
    allowed = call(client, caller, {"target": target})
    assert allowed["result"] == 42, "the nested invoke went through Ember with the role's permission"
    assert allowed["delete_error"] == "AccessDeniedException", "and nothing more"
    client.get_function(FunctionName=target)


def test_an_environments_keys_stop_working_when_it_ends(ember):
    client = lambda_client(ember.url)
    name = f"leak-{uuid.uuid4().hex[:8]}"
    create(client, name, "import os\ndef handler(event, context):\n    return {k: os.environ[k] for k in "
                         "('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n", ROLE)
    keys = call(client, name, {})
    leaked = boto3.client("lambda", endpoint_url=ember.url, region_name="us-east-1",
                          aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=keys["AWS_SESSION_TOKEN"], config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(leaked.exceptions.ClientError) as denied:
        leaked.get_function(FunctionName=name)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException", "valid while it lives"
    client.update_function_configuration(FunctionName=name, MemorySize=512)  # retires its environment
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    with pytest.raises(leaked.exceptions.ClientError) as gone:
        leaked.get_function(FunctionName=name)
    assert gone.value.response["Error"]["Code"] == "UnrecognizedClientException"
