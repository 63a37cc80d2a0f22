"""apigatewayv2's control plane in-process: its camelCase wire, API Gateway's errors, and a session's IAM actions."""

from __future__ import annotations

import json

import pytest
from asgi_call import call, signed
from starlette.routing import Router

from ember.api.apigateway.operations import ApiGatewayApi
from ember.api.authorization import Authorizer
from ember.api.middleware import AwsApiMiddleware
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.roles import RoleStore
from ember.triggers.api_store import ApiStore
from ember.triggers.http_apis import HttpApis

BASE = "http://127.0.0.1:9000/v2/apis"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]})
TARGET = "arn:aws:lambda:us-east-1:000000000000:function:fn"


@pytest.fixture
def world(tmp_path):
    db = open_database(tmp_path / "ember.db")
    roles, sessions = RoleStore(db), SessionCredentials()
    apis = HttpApis(ApiStore(db), "us-east-1")
    routes = ApiGatewayApi(apis, Authorizer(roles, "us-east-1"), "us-east-1").routes()
    app = AwsApiMiddleware(Router(routes=routes), credentials={"test": "test"}, sessions=sessions, region="us-east-1")
    yield app, roles, sessions
    db.close()


def operator(method: str, url: str, body: object = None):
    raw = json.dumps(body).encode() if body is not None else b""
    return signed(method, url, "test", "test", body=raw, service="apigateway")


def test_quick_create_on_the_wire_is_camel_case_with_a_201(world):
    app, _, _ = world
    answer = call(app, operator("POST", BASE, {"name": "q", "protocolType": "HTTP", "target": TARGET}))
    assert answer.status == 201
    body = answer.json()
    assert body["name"] == "q" and body["protocolType"] == "HTTP" and len(body["apiId"]) == 10
    assert body["apiEndpoint"] == f"http://{body['apiId']}.execute-api.us-east-1.localhost"
    routes = call(app, operator("GET", f"{BASE}/{body['apiId']}/routes")).json()
    assert [item["routeKey"] for item in routes["items"]] == ["$default"]
    stage = call(app, operator("GET", f"{BASE}/{body['apiId']}/stages/$default")).json()
    assert stage["autoDeploy"] is True and stage["stageName"] == "$default"


def test_bad_bodies_are_bad_requests(world):
    app, _, _ = world
    answer = call(app, operator("POST", BASE, {"name": 5, "protocolType": "HTTP"}))
    assert answer.status == 400 and answer.headers["x-amzn-errortype"] == "BadRequestException"
    answer = call(app, operator("POST", BASE, {"protocolType": "HTTP"}))
    assert answer.status == 400 and "name" in answer.json()["message"]
    answer = call(app, operator("GET", f"{BASE}/nothere123"))
    assert answer.status == 404 and answer.headers["x-amzn-errortype"] == "NotFoundException"


def test_list_pages_with_next_token(world):
    app, _, _ = world
    made = sorted(call(app, operator("POST", BASE, {"name": f"a{i}", "protocolType": "HTTP"})).json()["apiId"]
                  for i in range(3))
    first = call(app, operator("GET", f"{BASE}?maxResults=2")).json()
    assert [item["apiId"] for item in first["items"]] == made[:2] and first["nextToken"] == made[1]
    rest = call(app, operator("GET", f"{BASE}?maxResults=2&nextToken={first['nextToken']}")).json()
    assert [item["apiId"] for item in rest["items"]] == made[2:] and "nextToken" not in rest


def test_a_session_is_authorized_as_apigateway_method_on_the_path(world):
    app, roles, sessions = world
    roles.create({"RoleName": "reader", "AssumeRolePolicyDocument": TRUST})
    roles.put_policy("reader", "read", json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "arn:aws:apigateway:us-east-1::/apis*"}]}))
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/reader")

    def as_session(method: str, url: str, body: bytes = b""):
        return signed(method, url, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                      keys["AWS_SESSION_TOKEN"], body=body, service="apigateway")

    assert call(app, as_session("GET", BASE)).status == 200
    denied = call(app, as_session("POST", BASE, json.dumps({"name": "x", "protocolType": "HTTP"}).encode()))
    assert denied.status == 403 and denied.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "apigateway:POST on resource: arn:aws:apigateway:us-east-1::/apis " in denied.json()["Message"]


@pytest.mark.parametrize("cors", [
    {"allowMethods": ["GET", "FETCH"]},
    {"allowHeaders": ["x-ok", "bad header"]},
    {"exposeHeaders": ["x\r\ny"]},
    {"allowOrigins": ["https://a.example\r\nX-Forged: 1"]},
    {"allowOrigins": ["*"], "allowCredentials": True},
    {"maxAge": 86401},
])
def test_a_cors_configuration_api_gateway_would_refuse_is_a_bad_request(world, cors):
    app, _, _ = world
    answer = call(app, operator("POST", BASE, {"name": "c", "protocolType": "HTTP", "corsConfiguration": cors}))
    assert answer.status == 400 and answer.headers["x-amzn-errortype"] == "BadRequestException"
    made = call(app, operator("POST", BASE, {"name": "c", "protocolType": "HTTP"})).json()["apiId"]
    answer = call(app, operator("PATCH", f"{BASE}/{made}", {"corsConfiguration": cors}))
    assert answer.status == 400
