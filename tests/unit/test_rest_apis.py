"""REST APIs (API Gateway v1) as templates will create them: routing, the REST event and API Gateway's answers.

The gateway's function call is a stand-in here (the HTTP API integration tests run the real one):
what is under test is which route, SourceArn and event a request makes, and how each outcome is answered.
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

ARN = "arn:aws:lambda:us-east-1:000000000000:function:{}"
SAM_URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:" \
          "function:items/invocations"


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
    return RestApis(ApiStore(db), lambda api_id: f"http://{api_id}.execute-api.us-east-1.localhost:9000")


def hello_api(db: sqlite3.Connection) -> RestApis:
    rest = apis(db)
    rest.create("abcdefghij", "Prod", [("GET", "/hello", ARN.format("hello")), ("GET", "/items/{id}", SAM_URI),
                                       ("ANY", "/{proxy+}", ARN.format("catchall"))],
                stage_variables={"table": "t1"}, binary_media_types=["image/png"])
    return rest


def call(method: str, path: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpCall:
    return HttpCall(method, path, "a=1&a=2", [("Host", "abcdefghij.execute-api.us-east-1.localhost:9000"),
                                              *(headers or [])], body, "127.0.0.1", "curl/8", 1700000000.0)


def answer(rest: RestApis, caller: Caller, request: HttpCall) -> tuple[int, dict[str, str], bytes]:
    gateway = RestApiGateway(rest, caller, "us-east-1")  # type: ignore[arg-type]
    api = rest.get("abcdefghij")
    response = asyncio.run(gateway.answer(request, api))
    return response.status, dict(response.headers), response.body


def test_sam_hello_world_path_reaches_its_function_with_the_rest_event(db):
    caller = Caller(OK)
    status, headers, body = answer(hello_api(db), caller, call("GET", "/Prod/hello/"))
    assert (status, headers["x-a"], body) == (201, "1", b"made") and headers["x-amzn-requestid"]
    [(target, event)] = caller.calls
    assert target.function.name == "hello"
    assert target.source_arn == "arn:aws:execute-api:us-east-1:000000000000:abcdefghij/Prod/GET/hello"
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


def test_rest_apis_are_kept_and_replaced_and_refuse_what_aws_refuses(db):
    rest = hello_api(db)
    assert apis(db).get("abcdefghij")["routes"][1]["uri"] == SAM_URI  # a new store reads it back
    assert rest.url("abcdefghij", "Prod") == "http://abcdefghij.execute-api.us-east-1.localhost:9000/Prod/"
    rest.create("abcdefghij", "Prod", [("POST", "/only", ARN.format("x"))])
    assert [route["resource"] for route in apis(db).get("abcdefghij")["routes"]] == ["/only"]
    for stage, routes in (("bad stage", []), ("Prod", [("GET", "/{proxy+}/x", ARN.format("x"))]),
                          ("Prod", [("FETCH", "/x", ARN.format("x"))]), ("Prod", [("GET", "/x", "not-an-arn")])):
        with pytest.raises(ValueError):
            rest.create(None, stage, routes)
    rest.delete("abcdefghij")
    assert apis(db).get("abcdefghij") is None
