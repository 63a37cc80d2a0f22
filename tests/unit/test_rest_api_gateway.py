"""REST APIs' (API Gateway v1) data plane: routing, the REST event and API Gateway's answers.

The API is built through the control plane's domain (ember.triggers.rest_apis) from a SAM-shaped
definition; the gateway's function call is a stand-in here (tests/integration/test_rest_apis.py runs
the real one): what is under test is which method, SourceArn and event a request makes, and how each
outcome is answered.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest
from aws_go_samples import sample

from ember.core.database import open_database
from ember.triggers.api_invoke import Invoked, Outcome, Target
from ember.triggers.api_store import ApiStore
from ember.triggers.http_call import HttpCall
from ember.triggers.rest_api_gateway import RestApiGateway
from ember.triggers.rest_apis import RestApis

URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:" \
      "function:{}/invocations"


class Caller:
    """Records what API Gateway would invoke, and answers as told."""

    def __init__(self, invoked: Invoked) -> None:
        self.invoked = invoked
        self.calls: list[tuple[Target, dict[str, Any]]] = []

    async def call(self, target: Target, event: dict[str, Any]) -> Invoked:
        self.calls.append((target, event))
        return self.invoked


OK = Invoked(Outcome.ANSWERED, json.dumps({"statusCode": 201, "headers": {"x-a": "1"}, "body": "made"}).encode())


@pytest.fixture
def db(tmp_path) -> sqlite3.Connection:
    conn = open_database(tmp_path / "ember.db")
    yield conn
    conn.close()


def apis(db: sqlite3.Connection) -> RestApis:
    return RestApis(ApiStore(db), "us-east-1", lambda api_id: f"http://{api_id}.execute-api.us-east-1.localhost:9000")


def proxy(function: str) -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": URI.format(function)}}


def definition(paths: dict[str, dict[str, Any]], **top: Any) -> bytes:
    return json.dumps({"swagger": "2.0", "info": {"title": "hello"}, "paths": paths, **top}).encode()


def hello_api(db: sqlite3.Connection) -> tuple[RestApis, str]:
    rest = apis(db)
    api_id = rest.create({"name": "hello"})["id"]
    rest.put_definition(api_id, definition({"/hello": {"get": proxy("hello")}, "/items/{id}": {"get": proxy("items")},
                                            "/{proxy+}": {"x-amazon-apigateway-any-method": proxy("catchall")}},
                                           **{"x-amazon-apigateway-binary-media-types": ["image/png"]}),
                        "overwrite", {}, False)
    rest.stages.create_deployment(api_id, {"stageName": "Prod", "variables": {"table": "t1"}})
    return rest, api_id


def call(method: str, path: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpCall:
    return HttpCall(method, path, "a=1&a=2", [("Host", "abcdefghij.execute-api.us-east-1.localhost:9000"),
                                              *(headers or [])], body, "127.0.0.1", "curl/8", 1700000000.0)


def answer(api: tuple[RestApis, str], caller: Caller, request: HttpCall,
           gateway: RestApiGateway | None = None) -> tuple[int, dict[str, str], bytes]:
    rest, api_id = api
    gateway = gateway or RestApiGateway(rest, caller, "us-east-1")  # type: ignore[arg-type]
    response = asyncio.run(gateway.answer(request, rest.get(api_id)))
    return response.status, dict(response.headers), response.body


def test_sam_hello_world_path_reaches_its_function_with_the_rest_event(db):
    caller = Caller(OK)
    api = hello_api(db)
    status, headers, body = answer(api, caller, call("GET", "/Prod/hello/"))
    assert (status, headers["x-a"], body) == (201, "1", b"made") and headers["x-amzn-requestid"]
    [(target, event)] = caller.calls
    assert target.function.name == "hello" and target.timeout_s == 29.0
    assert target.source_arn == f"arn:aws:execute-api:us-east-1:000000000000:{api[1]}/Prod/GET/hello"
    assert "version" not in event
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/hello", "/hello/", "GET")
    assert event["requestContext"]["path"] == "/Prod/hello/" and event["requestContext"]["stage"] == "Prod"
    assert event["stageVariables"] == {"table": "t1"} and event["pathParameters"] is None
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["headers"]["Host"].startswith("abcdefghij.")  # a REST API keeps header names as sent
    aws = sample("apigw-request.json")
    assert set(aws) | {"isBase64Encoded"} == set(event)
    assert set(aws["requestContext"]) - {"authorizer"} == set(event["requestContext"])


def test_resources_route_by_specificity_with_path_parameters(db):
    caller = Caller(OK)
    rest = hello_api(db)
    answer(rest, caller, call("GET", "/Prod/items/42"))
    answer(rest, caller, call("DELETE", "/Prod/hello"))
    answer(rest, caller, call("POST", "/Prod/a/b/c"))
    (items, items_event), (any_hello, hello_event), (_, deep_event) = caller.calls
    assert items.function.name == "items" and items_event["pathParameters"] == {"id": "42"}
    assert items_event["resource"] == "/items/{id}"
    assert any_hello.function.name == "catchall" and hello_event["pathParameters"] == {"proxy": "hello"}
    assert deep_event["resource"] == "/{proxy+}" and deep_event["pathParameters"] == {"proxy": "a/b/c"}


def test_binary_media_types_pass_the_body_base64(db):
    caller = Caller(OK)
    answer(hello_api(db), caller, call("POST", "/Prod/up", bytes([0, 255]), [("Content-Type", "image/png")]))
    answer(hello_api(db), caller, call("POST", "/Prod/up", b"text", [("Content-Type", "text/plain")]))
    (_, binary), (_, text) = caller.calls
    assert (binary["body"], binary["isBase64Encoded"]) == ("AP8=", True)
    assert (text["body"], text["isBase64Encoded"]) == ("text", False)


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/Dev/hello", 403, "Forbidden"),  # no such stage
    ("/hello", 403, "Forbidden"),  # REST APIs have no $default stage
    ("/Prod", 403, "Missing Authentication Token"),  # no resource at the stage's root
])
def test_unrouted_requests_are_refused_as_rest_apis_refuse_them(db, path, status, message):
    caller = Caller(OK)
    assert answer(hello_api(db), caller, call("GET", path))[::2] == (status, json.dumps({"message": message},
                                                                                       separators=(",", ":")).encode())
    assert not caller.calls


@pytest.mark.parametrize(("invoked", "status", "message"), [
    (Invoked(Outcome.FUNCTION_ERROR, b'{"errorMessage":"boom"}'), 502, "Internal server error"),
    (Invoked(Outcome.ANSWERED, b'{"statusCode": "soon"}'), 502, "Internal server error"),  # malformed
    (Invoked(Outcome.ANSWERED, b'"just a string"'), 502, "Internal server error"),  # no statusCode
    (Invoked(Outcome.REJECTED), 500, "Internal server error"),  # Lambda refused: a throttle, say
    (Invoked(Outcome.DENIED), 500, "Internal server error"),  # no permission for apigateway.amazonaws.com
    (Invoked(Outcome.TIMED_OUT), 504, "Endpoint request timed out"),
])
def test_each_outcome_is_answered_as_a_rest_api_answers(db, invoked, status, message):
    got = answer(hello_api(db), Caller(invoked), call("GET", "/Prod/hello"))
    assert (got[0], json.loads(got[2])) == (status, {"message": message})


def test_a_stage_serves_its_deployment_until_the_next_one(db):
    caller = Caller(OK)
    rest, api_id = api = hello_api(db)
    gateway = RestApiGateway(rest, caller, "us-east-1")  # type: ignore[arg-type]
    rest.put_definition(api_id, definition({"/": {"post": proxy("x")}}), "overwrite", {}, False)
    assert answer(api, caller, call("POST", "/Prod/"), gateway)[0] == 403  # not deployed yet
    assert answer(api, caller, call("GET", "/Prod/hello"), gateway)[0] == 201  # the old deployment still serves
    rest.stages.create_deployment(api_id, {"stageName": "Prod"})
    assert answer(api, caller, call("POST", "/Prod"), gateway)[0] == 201
    assert answer(api, caller, call("GET", "/Prod/hello"), gateway)[0] == 403
    assert [target.function.name for target, _ in caller.calls] == ["hello", "x"]
    assert caller.calls[1][0].source_arn.endswith(f"{api_id}/Prod/POST/")  # the root resource's SourceArn
    assert apis(db).get(api_id)["name"] == "hello"  # a new store reads it all back
    assert rest.url(api_id, "Prod") == f"http://{api_id}.execute-api.us-east-1.localhost:9000/Prod/"


def test_an_integration_ember_does_not_run_is_a_500_without_a_call(db):
    caller = Caller(OK)
    rest = apis(db)
    api_id = rest.create({"name": "http"})["id"]
    mock = {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "http://example.com"}}
    get_proxy = {"x-amazon-apigateway-integration": {**proxy("f")["x-amazon-apigateway-integration"],
                                                     "httpMethod": "GET"}}
    put = rest.put_definition(api_id, definition({"/m": {"get": mock}, "/g": {"get": get_proxy}}), "merge", {}, False)
    assert len(put["warnings"]) == 2
    rest.stages.create_deployment(api_id, {"stageName": "Prod"})
    for path in ("/Prod/m", "/Prod/g"):
        got = answer((rest, api_id), caller, call("GET", path))
        assert (got[0], json.loads(got[2])) == (500, {"message": "Internal server error"})
    assert not caller.calls


def test_a_disabled_execute_api_endpoint_is_forbidden(db):
    caller = Caller(OK)
    rest, api_id = api = hello_api(db)
    rest.update(api_id, [{"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
    assert answer(api, caller, call("GET", "/Prod/hello"))[0] == 403 and not caller.calls


def test_a_mock_answers_from_its_deployed_responses_without_a_call(db):
    caller = Caller(OK)
    rest = apis(db)
    api_id = rest.create({"name": "cors"})["id"]
    preflight = {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200", "responseParameters": {
            "method.response.header.Access-Control-Allow-Origin": "'*'"}}}}}
    put = rest.put_definition(api_id, definition({"/hello": {"options": preflight, "get": proxy("hello")}}),
                              "overwrite", {}, False)
    assert "warnings" not in put
    rest.stages.create_deployment(api_id, {"stageName": "Prod"})
    status, headers, body = answer((rest, api_id), caller, call("OPTIONS", "/Prod/hello"))
    assert (status, headers["Access-Control-Allow-Origin"], body) == (200, "*", b"") and headers["x-amzn-requestid"]
    assert not caller.calls
    assert answer((rest, api_id), caller, call("GET", "/Prod/hello"))[0] == 201 and len(caller.calls) == 1
