"""apigateway's (v1) control plane in-process: its wire (status codes, `item` lists, raw definition bodies),
warnings in X-Ember-Warning, API Gateway's errors, and a session's IAM actions on `/restapis/…`."""

from __future__ import annotations

import json

import pytest
from asgi_call import call, signed
from starlette.routing import Router

from ember.api.apigateway.rest_operations import OPERATIONS, RestApiGatewayApi
from ember.api.apigateway.wire import V1, operation
from ember.api.authorization import Authorizer
from ember.api.middleware import AwsApiMiddleware
from ember.core.credentials import SessionCredentials
from ember.core.database import open_database
from ember.core.roles import RoleStore
from ember.triggers.api_store import ApiStore
from ember.triggers.rest_apis import RestApis

BASE = "http://127.0.0.1:9000/restapis"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]})
URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:000000000000:function:fn/invocations")


@pytest.fixture
def world(tmp_path):
    db = open_database(tmp_path / "ember.db")
    roles, sessions = RoleStore(db), SessionCredentials()
    apis = RestApis(ApiStore(db), "us-east-1", lambda api_id: f"http://{api_id}.execute-api.us-east-1.localhost")
    routes = RestApiGatewayApi(apis, Authorizer(roles, "us-east-1"), "us-east-1").routes()
    app = AwsApiMiddleware(Router(routes=routes), credentials={"test": "test"}, sessions=sessions, region="us-east-1")
    yield app, roles, sessions
    db.close()


def operator(method: str, url: str, body: object = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    return signed(method, url, "test", "test", body=data, service="apigateway")


def test_create_answers_201_with_the_root_resource_and_lists_travel_as_item(world):
    app, _, _ = world
    made = call(app, operator("POST", BASE, {"name": "a", "tags": {"k": "v"}, "binaryMediaTypes": ["image/png"]}))
    assert made.status == 201
    api = made.json()
    assert (api["name"], api["tags"], api["binaryMediaTypes"]) == ("a", {"k": "v"}, ["image/png"])
    assert isinstance(api["createdDate"], int) and api["endpointConfiguration"]["types"] == ["EDGE"]
    listed = call(app, operator("GET", BASE)).json()
    assert [item["id"] for item in listed["item"]] == [api["id"]] and "position" not in listed
    resources = call(app, operator("GET", f"{BASE}/{api['id']}/resources")).json()
    assert resources["item"] == [{"id": api["rootResourceId"], "path": "/", "resourceMethods": {}}]
    assert call(app, operator("DELETE", f"{BASE}/{api['id']}")).status == 202
    answer = call(app, operator("GET", f"{BASE}/{api['id']}"))
    assert answer.status == 404 and answer.headers["x-amzn-errortype"] == "NotFoundException"


def test_lists_page_by_position_and_limit(world):
    app, _, _ = world
    made = sorted(call(app, operator("POST", BASE, {"name": f"a{i}"})).json()["id"] for i in range(3))
    first = call(app, operator("GET", f"{BASE}?limit=2")).json()
    assert [item["id"] for item in first["item"]] == made[:2] and first["position"] == made[1]
    rest = call(app, operator("GET", f"{BASE}?limit=2&position={first['position']}")).json()
    assert [item["id"] for item in rest["item"]] == made[2:] and "position" not in rest
    assert call(app, operator("GET", f"{BASE}?limit=501")).status == 400


def test_a_definition_travels_raw_and_its_warnings_come_back_in_a_header(world):
    app, _, _ = world
    api_id = call(app, operator("POST", BASE, {"name": "a"})).json()["id"]
    yaml = (f"swagger: '2.0'\ninfo: {{title: b}}\npaths:\n  /h:\n    get:\n      x-amazon-apigateway-integration:\n"
            f"        {{type: aws_proxy, httpMethod: POST, uri: '{URI}'}}\n  /m:\n    get:\n"
            f"      x-amazon-apigateway-integration: {{type: http_proxy, uri: 'http://example.com'}}\n")
    put = call(app, operator("PUT", f"{BASE}/{api_id}?mode=overwrite", raw=yaml.encode()))
    assert put.status == 200 and put.json()["name"] == "b"
    assert put.headers["x-ember-warning"].startswith("GET /m: integration type HTTP_PROXY is kept but not run")
    assert put.json()["warnings"] == [put.headers["x-ember-warning"]]
    imported = call(app, operator("POST", f"{BASE}?mode=import", raw=yaml.encode()))
    assert imported.status == 201 and imported.json()["id"] != api_id
    bad = call(app, operator("PUT", f"{BASE}/{api_id}", raw=b"{\"swagger\": \"2.0\", \"paths\": 3}"))
    assert bad.status == 400 and bad.headers["x-amzn-errortype"] == "BadRequestException"


def test_methods_and_integrations_on_the_wire(world):
    app, _, _ = world
    api = call(app, operator("POST", BASE, {"name": "a"})).json()
    method_url = f"{BASE}/{api['id']}/resources/{api['rootResourceId']}/methods/GET"
    put = call(app, operator("PUT", method_url, {"authorizationType": "AWS_IAM"}))
    assert put.status == 201 and put.json() == {"httpMethod": "GET", "authorizationType": "AWS_IAM",
                                                "apiKeyRequired": False}
    assert "AWS_IAM kept but not enforced" in put.headers["x-ember-warning"]
    integration = call(app, operator("PUT", f"{method_url}/integration",
                                     {"type": "AWS_PROXY", "httpMethod": "POST", "uri": URI}))
    assert integration.status == 201 and "x-ember-warning" not in integration.headers
    assert integration.json()["httpMethod"] == "POST" and integration.json()["timeoutInMillis"] == 29000
    assert call(app, operator("GET", method_url)).json()["methodIntegration"]["uri"] == URI
    deployed = call(app, operator("POST", f"{BASE}/{api['id']}/deployments", {"stageName": "Prod"}))
    assert deployed.status == 201 and deployed.json()["apiSummary"] == {
        "/": {"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": False}}}
    assert call(app, operator("DELETE", f"{method_url}/integration")).status == 204
    assert call(app, operator("GET", f"{method_url}/integration")).status == 404
    stages = call(app, operator("GET", f"{BASE}/{api['id']}/stages")).json()
    assert [stage["stageName"] for stage in stages["item"]] == ["Prod"]


def test_a_session_is_authorized_as_apigateway_method_on_the_path(world):
    app, roles, sessions = world
    roles.create({"RoleName": "reader", "AssumeRolePolicyDocument": TRUST})
    roles.put_policy("reader", "read", json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "arn:aws:apigateway:us-east-1::/restapis*"}]}))
    keys = sessions.issue("caller", "arn:aws:iam::000000000000:role/reader")

    def as_session(method: str, url: str, body: bytes = b""):
        return signed(method, url, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"],
                      keys["AWS_SESSION_TOKEN"], body=body, service="apigateway")

    assert call(app, as_session("GET", BASE)).status == 200
    denied = call(app, as_session("POST", BASE, json.dumps({"name": "x"}).encode()))
    assert denied.status == 403 and denied.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "apigateway:POST on resource: arn:aws:apigateway:us-east-1::/restapis " in denied.json()["Message"]


GARBAGE = [b"", b"[]", b"{", b'{"name": 5, "pathPart": [], "type": {}, "patchOperations": 3}',
           b'{"name": "n", "pathPart": "x", "type": "MOCK", "authorizationType": "NONE", "stageName": "s", '
           b'"deploymentId": "nope", "tags": {"k": "v"}, "patchOperations": [{"op": "move", "path": "/x"}]}',
           b"swagger: '2.0'\npaths: {/a: {get: {x-amazon-apigateway-integration: {timeoutInMillis: soon}}}}",
           b'{"swagger": "2.0", "securityDefinitions": [1], "paths": {"/a": {"get": {"security": [{"s": []}]}}}}']


def test_no_operation_answers_a_bad_request_with_a_500(world):
    """Every v1 operation, fed garbage bodies on real ids and on unknown ones: AWS's 4xx shape, never a 500."""
    app, _, _ = world
    api = call(app, operator("POST", BASE, {"name": "a"})).json()
    labels = {"restapi_id": api["id"], "resource_id": api["rootResourceId"], "parent_id": api["rootResourceId"],
              "http_method": "GET", "stage_name": "Prod", "deployment_id": "nope",
              "resource_arn": f"arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2F{api['id']}"}
    for name in OPERATIONS:
        if name == "DeleteRestApi":
            continue
        http = operation(name, V1).http
        for values in (labels, {key: "x1" for key in labels}):
            path = http["requestUri"]
            for key, value in values.items():
                path = path.replace(f"{{{key}}}", value)
            for body in GARBAGE:
                answer = call(app, operator(http["method"], f"http://127.0.0.1:9000{path}", raw=body))
                assert answer.status < 500, (name, path, body, answer.body)
                assert answer.status < 400 or answer.headers["x-amzn-errortype"], (name, body)
