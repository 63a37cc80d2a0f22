"""The control plane through boto3: create, get, list (paginated), update, delete, waiters, errors."""

from __future__ import annotations

import base64
import hashlib
import urllib.request

import pytest
from conftest import ROLE, make_zip

HELLO = "def handler(event, context):\n    return {'ok': True}\n"


def test_create_returns_aws_function_configuration(client, deploy):
    name = deploy(HELLO, memory=256, timeout=5)
    config = client.get_function_configuration(FunctionName=name)
    assert config["FunctionName"] == name
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert config["MemorySize"] == 256 and config["Timeout"] == 5
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert config["Version"] == "$LATEST" and config["PackageType"] == "Zip"
    zipped = make_zip({"index.py": HELLO})
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(zipped).digest()).decode()
    assert config["CodeSize"] == len(zipped)


def test_waiters_finish(client, deploy):
    name = deploy(HELLO)
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"MaxAttempts": 2})
    client.get_waiter("function_exists").wait(FunctionName=name, WaiterConfig={"MaxAttempts": 2})
    client.update_function_configuration(FunctionName=name, MemorySize=512)
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"MaxAttempts": 2})


def test_get_function_gives_a_downloadable_code_location(client, deploy):
    name = deploy(HELLO)
    response = client.get_function(FunctionName=name)
    assert response["Configuration"]["FunctionName"] == name
    assert response["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(response["Code"]["Location"]) as download:
        assert download.read() == make_zip({"index.py": HELLO})


def test_update_code_and_configuration_take_effect(client, deploy):
    name = deploy(HELLO)
    client.invoke(FunctionName=name)
    new_code = make_zip({"index.py": "import os\ndef handler(e, c):\n    return os.environ['GREETING']\n"})
    client.update_function_code(FunctionName=name, ZipFile=new_code)
    updated = client.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "hi"}},
                                                   Description="second")
    assert updated["Description"] == "second"
    response = client.invoke(FunctionName=name)
    assert response["Payload"].read() == b'"hi"'


def test_list_functions_paginates(client, deploy):
    names = {deploy(HELLO) for _ in range(120)}
    pages = list(client.get_paginator("list_functions").paginate())
    listed = [fn["FunctionName"] for page in pages for fn in page["Functions"]]
    assert names <= set(listed)
    assert len(listed) == len(set(listed))
    assert len(pages) >= 3 and all(len(page["Functions"]) <= 50 for page in pages)


def test_delete_then_everything_is_404(client, deploy):
    name = deploy(HELLO)
    client.delete_function(FunctionName=name)
    for call in (client.get_function, client.get_function_configuration, client.delete_function, client.invoke):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            call(FunctionName=name)


def test_duplicate_name_is_a_conflict(client, deploy):
    name = deploy(HELLO)
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": HELLO})})


def test_bad_zip_is_rejected(client):
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="Could not unzip uploaded file"):
        client.create_function(FunctionName="bad-zip", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": b"not a zip"})


def test_runtime_this_server_cannot_run_is_a_clear_400(client):
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="python3.10"):
        client.create_function(FunctionName="dotnet-fn", Runtime="dotnet8", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": HELLO})})


def test_role_is_checked_against_aws_pattern(client):
    with pytest.raises(client.exceptions.ClientError) as info:
        client.create_function(FunctionName="bad-role", Runtime="python3.11", Role="r1", Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": HELLO})})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
