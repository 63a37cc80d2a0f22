"""Session credentials at the front door: the middleware, the authorizer and a role's policies together."""

from __future__ import annotations

import json

import pytest
from asgi_call import call, signed
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, Router

from ember.api.authorization import Authorizer
from ember.api.lambda_api.permissions import LambdaPermissions
from ember.api.middleware import AwsApiMiddleware
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.roles import RoleStore

BASE = "http://127.0.0.1:9000"
INVOKE = f"{BASE}/2015-03-31/functions/target/invocations"
ROLE_TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                        "Action": "sts:AssumeRole"}]})


async def echo(request: Request) -> JSONResponse:
    session = request.scope["state"].get("session")
    return JSONResponse({"principal": session.principal if session else "operator"})


@pytest.fixture
def roles(tmp_path):
    db = open_database(tmp_path / "ember.db")
    yield RoleStore(db)
    db.close()


@pytest.fixture
def sessions():
    return SessionCredentials()


@pytest.fixture
def app(roles, sessions):
    guard = LambdaPermissions(Authorizer(roles, "us-east-1"), "us-east-1")
    routes = [Route("/2015-03-31/functions/{name}/invocations", guard.function("lambda:InvokeFunction", echo),
                    methods=["POST"])]
    return AwsApiMiddleware(Router(routes=routes), credentials={"AKIAOPERATOR": "operator-secret"},
                            sessions=sessions, region="us-east-1")


def session_request(keys: dict[str, str], token: str | None = "same", url: str = INVOKE):
    chosen = keys["AWS_SESSION_TOKEN"] if token == "same" else token
    return signed("POST", url, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], chosen)


def test_issued_keys_look_like_aws_temporary_credentials(sessions):
    keys = sessions.issue("fn", "arn:aws:iam::000000000000:role/worker")
    assert set(keys) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert keys["AWS_ACCESS_KEY_ID"].startswith("ASIA") and len(keys["AWS_ACCESS_KEY_ID"]) == 20
    assert keys != sessions.issue("fn", "arn:aws:iam::000000000000:role/worker")


def test_the_operator_is_all_powerful(app):
    answer = call(app, signed("POST", INVOKE, "AKIAOPERATOR", "operator-secret"))
    assert answer.status == 200 and answer.json() == {"principal": "operator"}


def test_a_role_with_no_policy_gets_awss_access_denied(app, roles, sessions):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")
    answer = call(app, session_request(keys))
    assert answer.status == 403
    assert answer.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert answer.json()["Message"] == (
        "User: arn:aws:sts::000000000000:assumed-role/worker/caller is not authorized to perform: "
        "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:target because no "
        "identity-based policy allows the lambda:InvokeFunction action")


def test_an_allowed_session_acts_as_the_assumed_role(app, roles, sessions):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")
    answer = call(app, session_request(keys))
    assert answer.status == 200
    assert answer.json() == {"principal": "arn:aws:sts::000000000000:assumed-role/worker/caller"}


def test_an_inline_deny_wins(app, roles, sessions):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/AdministratorAccess")
    roles.put_policy("worker", "no-target", json.dumps({"Statement": [
        {"Effect": "Deny", "Action": "lambda:*", "Resource": "arn:aws:lambda:*:*:function:target*"}]}))
    answer = call(app, session_request(sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")))
    assert answer.status == 403 and "with an explicit deny in an identity-based policy" in answer.json()["Message"]


def test_an_unknown_role_has_no_policies_and_is_warned_about_once(app, sessions, caplog):
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/test")
    assert call(app, session_request(keys)).status == 403
    assert call(app, session_request(keys)).status == 403
    assert len([r for r in caplog.records if "role/test is not known" in r.getMessage()]) == 1


def test_a_revoked_session_stops_working_at_once(app, roles, sessions):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/AdministratorAccess")
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")
    assert call(app, session_request(keys)).status == 200
    sessions.revoke(keys)
    answer = call(app, session_request(keys))
    assert answer.status == 403 and answer.headers["x-amzn-errortype"] == "UnrecognizedClientException"


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_session_key_needs_its_own_token(app, roles, sessions, token):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/AdministratorAccess")
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")
    answer = call(app, session_request(keys, token))
    assert answer.status == 403 and answer.headers["x-amzn-errortype"] == "UnrecognizedClientException"


def test_one_sessions_token_does_not_fit_anothers_key(app, roles, sessions):
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/AdministratorAccess")
    mine = sessions.issue("a", "arn:aws:iam::000000000000:role/worker")
    theirs = sessions.issue("b", "arn:aws:iam::000000000000:role/worker")
    assert call(app, session_request(mine, theirs["AWS_SESSION_TOKEN"])).status == 403


@pytest.mark.parametrize(("service", "region", "message"), [
    ("s3", "us-east-1", "Credential should be scoped to correct service: 'lambda'. "),
    ("lambda", "eu-west-1", "Credential should be scoped to a valid region, not 'eu-west-1'. "),
])
def test_the_scope_must_name_this_api_and_region(app, service, region, message):
    answer = call(app, signed("POST", INVOKE, "AKIAOPERATOR", "operator-secret", service=service, region=region))
    assert answer.status == 403 and answer.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert answer.json()["message"] == message


def test_a_session_calling_iam_is_denied_by_default_in_iams_xml(roles, sessions):
    from ember.api.iam_api import IamApi

    authorizer = Authorizer(roles, "us-east-1")
    iam_app = AwsApiMiddleware(Router(routes=[Route("/", IamApi(roles, authorizer).dispatch, methods=["POST"])]),
                               credentials={"AKIAOPERATOR": "operator-secret"}, sessions=sessions, region="us-east-1")
    roles.create({"RoleName": "worker", "AssumeRolePolicyDocument": ROLE_TRUST})
    roles.attach("worker", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/worker")
    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = signed("POST", f"{BASE}/", keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                     keys["AWS_SESSION_TOKEN"], b"Action=ListRoles&Version=2010-05-08", "iam", "eu-west-1", form)
    answer = call(iam_app, request)
    assert answer.status == 403 and b"<Code>AccessDenied</Code>" in answer.body
    assert b"iam:ListRoles on resource: *" in answer.body
    roles.attach("worker", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    request = signed("POST", f"{BASE}/", keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                     keys["AWS_SESSION_TOKEN"], b"Action=ListRoles&Version=2010-05-08", "iam", "eu-west-1", form)
    assert call(iam_app, request).status == 200
