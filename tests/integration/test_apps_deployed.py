"""ember.apps.deployed against a real `ember serve`: a stack's functions, roles and permissions, created as the
apply step will create them, read back so that the plan finds them unchanged, then an edit and a removal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from conftest import EmberProcess, lambda_client

from ember.apps.clients import Clients
from ember.apps.cloudformation import load_stack
from ember.apps.deployed import read_deployed
from ember.apps.model import Stack
from ember.apps.plan import CREATE, DELETE, UNCHANGED, UPDATE_CODE, plan
from ember.cli.packaging import code_sha256, package

DATA = Path(__file__).parents[1] / "unit" / "data" / "apps"
READ_HERE = {"role", "function", "permission"}  # the kinds whose APIs this server has
EXTRA = """
  SecondFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: second/
      Handler: app.handler
      Runtime: python3.12
      MemorySize: 256
      AutoPublishAlias: live
      ReservedConcurrentExecutions: 2
      Environment:
        Variables: {GREETER: !Ref GreeterFunction}
"""


@pytest.fixture(scope="module")
def ember(tmp_path_factory):
    server = EmberProcess(tmp_path_factory.mktemp("apps")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(ember):
    def client(service):
        if service == "lambda":
            return lambda_client(ember.url)
        return boto3.client(service, endpoint_url=ember.url, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
    return Clients.make(client)


def digest(source) -> str:
    return code_sha256(package(source))


def create(stack: Stack, lam, iam) -> None:
    """Roles, functions (reserved concurrency, alias) and permissions, as the apply step will create them."""
    for role in stack.roles:
        iam.create_role(RoleName=role.name, Path=role.path,
                        AssumeRolePolicyDocument=json.dumps(role.assume_role_policy),
                        Tags=[{"Key": k, "Value": v} for k, v in role.tags.items()])
        for name, document in role.inline_policies.items():
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
        for arn in role.managed_policy_arns:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
    for function in stack.functions:
        lam.create_function(**function.create_request(package(function.code), []))
        if function.reserved_concurrency is not None:
            lam.put_function_concurrency(FunctionName=function.name,
                                         ReservedConcurrentExecutions=function.reserved_concurrency)
        if function.alias:
            version = lam.publish_version(FunctionName=function.name)["Version"]
            lam.create_alias(FunctionName=function.name, Name=function.alias.name, FunctionVersion=version)
    for permission in stack.permissions:
        lam.add_permission(**permission.request())


def by_kind(result) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for step in result.steps:
        if step.kind in READ_HERE:
            found.setdefault(step.action, set()).add(step.logical_id)
    return found


def test_a_created_stack_reads_back_unchanged_then_follows_edits(tmp_path: Path, clients):
    lam, iam = clients.lambda_, clients.iam
    folder = tmp_path / "app"
    shutil.copytree(DATA / "sam-python", folder)
    (folder / "second").mkdir()
    (folder / "second" / "app.py").write_text("def handler(event, context):\n    return 2\n")
    template = folder / "template.yaml"
    template.write_text(template.read_text().replace("\nOutputs:", EXTRA + "\nOutputs:"))

    def load() -> Stack:
        return load_stack(template, "itest", "us-east-1", "000000000000")

    stack = load()
    assert set(by_kind(plan(stack, read_deployed(clients, stack), digest))) == {CREATE}
    create(stack, lam, iam)

    result = plan(load(), read_deployed(clients, stack), digest)
    assert set(by_kind(result)) == {UNCHANGED}, [s for s in result.steps if s.action != UNCHANGED]
    assert len(by_kind(result)[UNCHANGED]) == 5  # two roles, two functions, the API's permission

    (folder / "second" / "app.py").write_text("def handler(event, context):\n    return 3\n")
    assert by_kind(plan(load(), read_deployed(clients, stack), digest)).get(UPDATE_CODE) == {"SecondFunction"}

    template.write_text(template.read_text().replace(EXTRA, "\n"))
    changed = by_kind(plan(load(), read_deployed(clients, stack), digest))
    assert changed[DELETE] == {"SecondFunction", "SecondFunctionRole"}
    assert changed[UNCHANGED] == {"GreeterFunction", "GreeterFunctionRole", "GreeterFunctionGreetPermissionProd"}


def test_runtimes_follow_awss_calendar(clients):
    """python3.9 is deprecated but still allowed (warned of, runs on Ember's Python); python3.7 is past its block."""
    from conftest import make_zip

    lam = clients.lambda_
    code = {"ZipFile": make_zip({"index.py": "def handler(event, context):\n    return 39\n"})}
    role = "arn:aws:iam::000000000000:role/ember-function"
    created = lam.create_function(FunctionName="old-python", Runtime="python3.9", Role=role, Handler="index.handler",
                                  Code=code)
    warning = created["ResponseMetadata"]["HTTPHeaders"]["x-ember-warning"]
    assert warning.startswith("python3.9 is deprecated by AWS since 2025-12-15") and "runs here on python:3." in warning
    lam.get_waiter("function_active_v2").wait(FunctionName="old-python")
    assert lam.invoke(FunctionName="old-python")["Payload"].read() == b"39"
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="The runtime parameter of python3.7 is "
                                                                           "no longer supported"):
        lam.create_function(FunctionName="older-python", Runtime="python3.7", Role=role, Handler="index.handler",
                            Code=code)
    lam.delete_function(FunctionName="old-python")
