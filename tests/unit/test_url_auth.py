"""AWS_IAM function URLs: a SigV4 signature for `lambda`, and a caller allowed both InvokeFunctionUrl and
InvokeFunction by its role's policies or the function's resource policy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgi_call import signed

from ember.api.authorization import Authorizer
from ember.api.middleware import KeyRing
from ember.api.url_auth import SignedCallers
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.function_urls import FunctionUrl
from ember.core.roles import RoleStore
from ember.triggers.http_payloads import HttpCall

URL = FunctionUrl("u" * 32, "target", None, {"AuthType": "AWS_IAM"})
ADDRESS = f"http://{'u' * 32}.lambda-url.us-east-1.localhost:9000/path?x=1"
ROLE = "arn:aws:iam::000000000000:role/worker"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]})


class Policies:
    """The function's resource policy, as ResourcePolicies.document returns it."""

    def __init__(self, statements: list[dict[str, Any]] | None = None) -> None:
        self.policy = {"Version": "2012-10-17", "Statement": statements or []}

    def document(self, name: str, qualifier: str | None) -> dict[str, Any]:
        return self.policy


@pytest.fixture
def roles(tmp_path):
    db = open_database(tmp_path / "ember.db")
    store = RoleStore(db)
    store.create({"RoleName": "worker", "AssumeRolePolicyDocument": TRUST})
    yield store
    db.close()


def checker(roles: RoleStore, sessions: SessionCredentials, policies: Policies | None = None) -> SignedCallers:
    return SignedCallers(KeyRing({"AKIAOP": "op-secret"}, sessions), Authorizer(roles, "us-east-1"),
                         policies or Policies(), "us-east-1")  # type: ignore[arg-type]


def as_call(request) -> HttpCall:
    headers = [(k.lower(), v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    body = request.body or b""
    return HttpCall("GET", "/path", "x=1", headers, body.encode() if isinstance(body, str) else body, "127.0.0.1",
                    "t", 0.0)


def allow(actions: list[str]) -> str:
    return json.dumps({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def test_the_operator_signs_for_the_account(roles):
    identity = checker(roles, SessionCredentials())(as_call(signed("GET", ADDRESS, "AKIAOP", "op-secret")), URL)
    assert identity == {"accessKey": "AKIAOP", "accountId": "000000000000", "callerId": "000000000000",
                        "cognitoIdentity": None, "principalOrgId": None,
                        "userArn": "arn:aws:iam::000000000000:root", "userId": "000000000000"}


@pytest.mark.parametrize("request_of", [
    lambda: signed("GET", ADDRESS, "AKIAOP", "wrong-secret"),
    lambda: signed("GET", ADDRESS, "AKIAOP", "op-secret", service="execute-api"),
    lambda: signed("GET", ADDRESS, "AKIAOP", "op-secret", region="eu-west-1"),
    lambda: signed("GET", ADDRESS.replace("/path", "/other"), "AKIAOP", "op-secret"),
])
def test_a_bad_signature_is_refused(roles, request_of):
    assert checker(roles, SessionCredentials())(as_call(request_of()), URL) is None


def test_unsigned_is_refused(roles):
    call = HttpCall("GET", "/path", "", [("host", "h")], b"", "127.0.0.1", "t", 0.0)
    assert checker(roles, SessionCredentials())(call, URL) is None


def test_a_session_needs_both_actions(roles):
    sessions = SessionCredentials()
    keys = sessions.issue("caller", ROLE)
    request = signed("GET", ADDRESS, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                     keys["AWS_SESSION_TOKEN"])
    roles.put_policy("worker", "url-only", allow(["lambda:InvokeFunctionUrl"]))
    assert checker(roles, sessions)(as_call(request), URL) is None
    roles.put_policy("worker", "invoke", allow(["lambda:InvokeFunction"]))
    identity = checker(roles, sessions)(as_call(request), URL)
    assert identity is not None and identity["userArn"] == "arn:aws:sts::000000000000:assumed-role/worker/caller"
    wrong_token = signed("GET", ADDRESS, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], "forged")
    assert checker(roles, sessions)(as_call(wrong_token), URL) is None


def test_a_resource_policy_may_grant_a_role(roles):
    sessions = SessionCredentials()
    keys = sessions.issue("caller", ROLE)
    request = signed("GET", ADDRESS, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                     keys["AWS_SESSION_TOKEN"])
    grant = Policies([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Resource": "*",
                       "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                       "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}}])
    assert checker(roles, sessions, grant)(as_call(request), URL) is not None
    assert checker(roles, sessions)(as_call(request), URL) is None
