"""Resource policies decide which trigger may invoke a function, as AWS's evaluation does."""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile

import pytest

from ember.core.code_store import CodeStore
from ember.core.database import open_database
from ember.core.functions import FunctionRegistry
from ember.core.resource_policy import ResourcePolicies, principal_of
from ember.errors import ResourceNotFoundException

RULE = "arn:aws:events:us-east-1:000000000000:rule/nightly"


@pytest.fixture
def policies(tmp_path) -> ResourcePolicies:
    db = open_database(tmp_path / "ember.db")
    registry = FunctionRegistry(db, CodeStore(tmp_path / "code"), "us-east-1")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return e\n")
    asyncio.run(registry.create({"FunctionName": "f", "Runtime": "python3.11", "Handler": "app.handler",
                                 "Role": "arn:aws:iam::000000000000:role/r",
                                 "Code": {"ZipFile": base64.b64encode(buffer.getvalue()).decode()}}))
    return ResourcePolicies(db, registry, "us-east-1")


def permit(policies: ResourcePolicies, sid: str, principal: str, qualifier: str | None = None, **extra: object) -> None:
    policies.add("f", qualifier, {"StatementId": sid, "Action": "lambda:InvokeFunction", "Principal": principal,
                                  **extra})


def test_nobody_may_invoke_without_a_statement(policies):
    assert not policies.allows("f", None, "events.amazonaws.com")
    assert not policies.allows("f", None, "*")


def test_a_service_statement_admits_that_service_from_its_source_only(policies):
    permit(policies, "events", "events.amazonaws.com", SourceArn=RULE)
    assert policies.allows("f", None, "events.amazonaws.com", context={"aws:sourcearn": RULE})
    assert not policies.allows("f", None, "events.amazonaws.com", context={"aws:sourcearn": RULE + "-other"})
    assert not policies.allows("f", None, "events.amazonaws.com")  # no source: the condition cannot hold
    assert not policies.allows("f", None, "apigateway.amazonaws.com", context={"aws:sourcearn": RULE})


def test_source_arn_is_matched_with_wildcards(policies):
    permit(policies, "gw", "apigateway.amazonaws.com", SourceArn="arn:aws:execute-api:us-east-1:000000000000:abc/*")
    assert policies.allows("f", None, "apigateway.amazonaws.com",
                           context={"aws:sourcearn": "arn:aws:execute-api:us-east-1:000000000000:abc/$default/GET/x"})


def test_a_function_url_needs_the_invoked_via_url_condition(policies):
    permit(policies, "url", "*", InvokedViaFunctionUrl=True)
    assert policies.allows("f", None, "*", context={"lambda:invokedviafunctionurl": "true"})
    assert not policies.allows("f", None, "*", context={"lambda:invokedviafunctionurl": "false"})
    assert not policies.allows("f", None, "*", action="lambda:InvokeFunctionUrl")


def test_a_url_permission_names_its_auth_type(policies):
    policies.add("f", None, {"StatementId": "u", "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
                             "FunctionUrlAuthType": "NONE"})
    assert policies.allows("f", None, "*", "lambda:InvokeFunctionUrl", {"lambda:functionurlauthtype": "NONE"})
    assert not policies.allows("f", None, "*", "lambda:InvokeFunctionUrl", {"lambda:functionurlauthtype": "AWS_IAM"})


def test_a_policy_belongs_to_the_resource_it_names(policies):
    permit(policies, "all", "*")
    assert policies.allows("f", None, "*")
    with pytest.raises(ResourceNotFoundException):
        policies.get("f", "live")
    assert not policies.allows("f", "live", "*")


def test_principals_are_written_as_aws_writes_them():
    assert principal_of("*") == "*"
    assert principal_of("111122223333") == {"AWS": "arn:aws:iam::111122223333:root"}
    assert principal_of("arn:aws:iam::111122223333:role/x") == {"AWS": "arn:aws:iam::111122223333:role/x"}
    assert principal_of("sns.amazonaws.com") == {"Service": "sns.amazonaws.com"}
