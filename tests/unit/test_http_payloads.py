"""The HTTP payload formats against AWS's published samples, field by field, and AWS's rules one by one."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_go_samples import sample

from ember.triggers.http_payloads import (
    HttpCall,
    RouteContext,
    event_v1,
    event_v2,
    response_v1,
    response_v2,
)

T0 = 1583348638.390


def call(method: str = "GET", path: str = "/", query: str = "", headers: list[tuple[str, str]] | None = None,
         body: bytes = b"", **extra: Any) -> HttpCall:
    headers = headers or [("host", "abc.lambda-url.us-east-1.localhost:9000")]
    agent = next((v for k, v in headers if k.lower() == "user-agent"), "")
    return HttpCall(method, path, query, headers, body, "1.2.3.4", agent, T0, **extra)


def route(**fields: Any) -> RouteContext:
    return RouteContext(**{"api_id": "abc", "domain_name": "abc.lambda-url.us-east-1.on.aws", "request_id": "rid",
                           **fields})


def shape(value: Any) -> Any:
    """A value's structure: dicts by key, lists by their first item, leaves by JSON type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# Maps whose keys are the request's data, not the format's: only their values' types are compared.
DATA_MAPS = frozenset({"headers.", "multiValueHeaders.", "queryStringParameters.", "multiValueQueryStringParameters.",
                       "pathParameters.", "stageVariables."})


def compare(ours: Any, theirs: Any, where: str = "", extra: frozenset[str] = frozenset(),
            missing: frozenset[str] = frozenset()) -> None:
    """Same keys at every level (but the named `extra`/`missing` paths) and the same JSON type per leaf."""
    if where in DATA_MAPS and theirs is not None and ours is not None:
        assert {repr(shape(v)) for v in ours.values()} == {repr(shape(v)) for v in theirs.values()}, where
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: {ours!r} is not an object"
        mine = {key for key in ours if f"{where}{key}" not in extra}
        aws = {key for key in theirs if f"{where}{key}" not in missing}
        assert mine == aws, f"{where or 'top'}: ours has {sorted(mine - aws)} more, AWS's {sorted(aws - mine)} more"
        for key in mine:
            compare(ours[key], theirs[key], f"{where}{key}.", extra, missing)
    elif theirs is not None and ours is not None:
        assert shape(ours) == shape(theirs), f"{where}: {ours!r} vs AWS's {theirs!r}"


def call_like(event: dict[str, Any], content_type: str | None = None) -> HttpCall:
    """The request a 2.0 sample describes: comma-joined headers sent as repeats, cookies as one Cookie header."""
    headers = [(name, part) for name, value in event["headers"].items() for part in value.split(",")]
    if event.get("cookies"):
        headers.append(("cookie", "; ".join(event["cookies"])))
    if content_type:
        headers.append(("content-type", content_type))
    http = event["requestContext"]["http"]
    body = event.get("body", "").encode()
    return HttpCall(http["method"], event["rawPath"], event["rawQueryString"], headers, body, http["sourceIp"],
                    http["userAgent"], event["requestContext"]["timeEpoch"] / 1000)


def route_like(event: dict[str, Any], **fields: Any) -> RouteContext:
    context = event["requestContext"]
    return RouteContext(api_id=context["apiId"], domain_name=context["domainName"], request_id=context["requestId"],
                        account_id=context["accountId"], authorizer=context.get("authorizer"), **fields)


def lower_keys(mapping: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in mapping.items()}


def test_function_url_event_matches_aws_sample():
    aws = sample("lambda-urls-request.json")
    ours = event_v2(call_like(aws, "text/plain"), route_like(aws))
    # AWS's own documentation of function URLs adds the placeholders `routeKey` and `stage`
    # (urls-invocation.md); aws-lambda-go's sample predates them.
    compare(ours, aws, extra=frozenset({"routeKey", "requestContext.routeKey", "requestContext.stage"}))
    for key in ("version", "rawPath", "rawQueryString", "cookies", "queryStringParameters", "body", "isBase64Encoded"):
        assert ours[key] == aws[key], key
    assert ours["headers"] == {**aws["headers"], "content-type": "text/plain"}
    for key in ("accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "timeEpoch", "authorizer"):
        assert ours["requestContext"][key] == aws["requestContext"][key], key
    assert ours["routeKey"] == ours["requestContext"]["routeKey"] == ours["requestContext"]["stage"] == "$default"


def test_http_api_event_without_authorizer_matches_aws_sample():
    aws = sample("apigw-v2-request-no-authorizer.json")
    ours = event_v2(call_like(aws), route_like(aws))
    # Ember serves no mutual TLS: no `authentication`.
    compare(ours, aws, missing=frozenset({"requestContext.authentication"}))
    assert "cookies" not in ours and "queryStringParameters" not in ours and "body" not in ours
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "headers", "isBase64Encoded"):
        assert ours[key] == aws[key], key
    assert ours["requestContext"]["time"] == aws["requestContext"]["time"]


def test_http_api_event_with_iam_matches_aws_sample():
    aws = sample("apigw-v2-request-iam.json")
    context = aws["requestContext"]
    ours = event_v2(call_like(aws, "application/json"),
                    route_like(aws, route_key=context["routeKey"], stage=context["stage"],
                               path_parameters=aws["pathParameters"], stage_variables=aws["stageVariables"]))
    compare(ours, aws, missing=frozenset({"requestContext.authentication"}))
    for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body", "isBase64Encoded"):
        assert ours[key] == aws[key], key
    assert ours["headers"] == {**lower_keys(aws["headers"]), "content-type": "application/json"}


def rest_call(aws: dict[str, Any], stage: str) -> HttpCall:
    headers = [(name, value) for name, values in aws["multiValueHeaders"].items() for value in values]
    query = "&".join(f"{k}={v}" for k, values in aws["multiValueQueryStringParameters"].items() for v in values)
    identity = aws["requestContext"]["identity"]
    return HttpCall(aws["httpMethod"], f"/{stage}{aws['path']}", query, headers, aws["body"].encode(),
                    identity["sourceIp"], identity["userAgent"], aws["requestContext"]["requestTimeEpoch"] / 1000)


# Not in Ember: custom authorizers, API keys' and mutual TLS's identity fields. aws-lambda-go's REST
# sample leaves out `isBase64Encoded` and `identity.principalOrgId`, both in AWS's documented events.
REST_MISSING = frozenset({"requestContext.authorizer", "requestContext.identity.clientCert"})
REST_EXTRA = frozenset({"isBase64Encoded", "requestContext.identity.principalOrgId"})


def test_rest_api_event_matches_aws_sample():
    aws = sample("apigw-request.json")
    stage = aws["requestContext"]["stage"]
    ours = event_v1(rest_call(aws, stage),
                    route(api_id=aws["requestContext"]["apiId"], domain_name=aws["requestContext"]["domainName"],
                          stage=stage, resource_path=aws["resource"], path_parameters=aws["pathParameters"],
                          stage_variables=aws["stageVariables"]), rest=True)
    compare(ours, aws, extra=REST_EXTRA, missing=REST_MISSING)
    for key in ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body"):
        assert ours[key] == aws[key], key
    assert "version" not in ours and ours["isBase64Encoded"] is False
    assert ours["requestContext"]["path"] == f"/{stage}/hello/world"  # the stage stays in the context's path
    assert ours["requestContext"]["resourcePath"] == "/{proxy+}"


def test_http_api_v1_event_is_the_rest_shape_with_a_version():
    aws = sample("apigw-request.json")
    ours = event_v1(rest_call(aws, "testStage"), route(stage="testStage", resource_path="/{proxy+}",
                                                       path_parameters=aws["pathParameters"],
                                                       stage_variables=aws["stageVariables"]), rest=False)
    compare(ours, aws, extra=REST_EXTRA | {"version"}, missing=REST_MISSING | {"requestContext.identity.apiKey",
                                                                               "requestContext.identity.apiKeyId"})
    assert ours["version"] == "1.0"
    assert ours["path"] == "/testStage/hello/world"  # an HTTP API keeps a named stage in the path
    assert set(ours["headers"]) == {name.lower() for name in aws["headers"]}  # HTTP APIs lower-case names


def test_repeated_query_keys_per_format():
    request = call(query="a=1&a=2&b=x%20y&flag")
    assert event_v2(request, route())["queryStringParameters"] == {"a": "1,2", "b": "x y", "flag": ""}
    v1 = event_v1(request, route(), rest=True)
    assert v1["queryStringParameters"] == {"a": "2", "b": "x y", "flag": ""}
    assert v1["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"], "flag": [""]}


def test_no_query_is_left_out_in_2_0_and_null_in_1_0():
    assert "queryStringParameters" not in event_v2(call(), route())
    v1 = event_v1(call(), route(), rest=True)
    assert v1["queryStringParameters"] is None and v1["multiValueQueryStringParameters"] is None
    assert v1["pathParameters"] is None and v1["stageVariables"] is None and v1["body"] is None


def test_multi_value_headers_and_cookies():
    headers = [("Host", "h"), ("X-Tag", "a"), ("x-tag", "b"), ("Cookie", "s=1; t=2"), ("cookie", "u=3")]
    v2 = event_v2(call(headers=headers), route())
    assert v2["headers"] == {"host": "h", "x-tag": "a,b"}
    assert v2["cookies"] == ["s=1", "t=2", "u=3"]
    rest = event_v1(call(headers=headers), route(), rest=True)
    assert rest["multiValueHeaders"] == {"Host": ["h"], "X-Tag": ["a", "b"], "Cookie": ["s=1; t=2", "u=3"]}
    assert rest["headers"] == {"Host": "h", "X-Tag": "b", "Cookie": "u=3"}


@pytest.mark.parametrize(("content_type", "text"), [
    ("text/plain", True), ("text/html; charset=utf-8", True), ("application/json", True),
    ("application/json; charset=UTF-8", True), ("application/xml", True), ("application/javascript", True),
    ("application/octet-stream", False), ("application/x-www-form-urlencoded", False), (None, False),
    ("text/plain; charset=iso-8859-1", False), ("image/png", False)])
def test_binary_bodies_go_base64(content_type, text):
    headers = [("host", "h")] + ([("content-type", content_type)] if content_type else [])
    event = event_v2(call("POST", headers=headers, body=b"a=1&b=\xff" if not text else b"a=1"), route())
    assert event["isBase64Encoded"] is not text
    decoded = base64.b64decode(event["body"]) if not text else event["body"].encode()
    assert decoded == (b"a=1&b=\xff" if not text else b"a=1")


def test_rest_api_binary_media_types():
    headers = [("host", "h"), ("content-type", "image/png")]
    request = call("POST", headers=headers, body=b"\x89PNG")
    assert event_v1(request, route(binary_media_types=("image/png",)), rest=True)["isBase64Encoded"] is True
    as_text = event_v1(request, route(), rest=True)
    assert as_text["isBase64Encoded"] is False and as_text["body"] == b"\x89PNG".decode("utf-8", "replace")


def test_rest_path_drops_the_stage():
    event = event_v1(call(path="/Prod"), route(stage="Prod"), rest=True)
    assert event["path"] == "/" and event["requestContext"]["path"] == "/Prod"
    event = event_v1(call(path="/Prod/hello/"), route(stage="Prod"), rest=True)
    assert event["path"] == "/hello/" and event["requestContext"]["stage"] == "Prod"


def test_time_is_clf_whatever_the_locale():
    context = event_v2(call(), route())["requestContext"]
    assert context["time"] == "04/Mar/2020:19:03:58 +0000" and context["timeEpoch"] == 1583348638390


@pytest.mark.parametrize("output", [b'"Hello, world!"', b'{"message": "Hello, world!"}', b"[1, 2]", b"42",
                                    b'{"body": "x"}'])
def test_format_2_infers_a_json_200(output):
    response = response_v2(output)
    assert (response.status, response.headers, response.body) == (200, [("content-type", "application/json")], output)


def test_format_2_reads_status_headers_cookies_and_base64():
    output = {"statusCode": 201, "headers": {"Content-Type": "image/png", "X-N": 3, "X-B": True},
              "cookies": ["a=1; Max-Age=60", "b=2"], "body": base64.b64encode(b"\x89PNG").decode(),
              "isBase64Encoded": True}
    response = response_v2(json.dumps(output).encode())
    assert response.status == 201 and response.body == b"\x89PNG"
    assert response.headers == [("Content-Type", "image/png"), ("X-N", "3"), ("X-B", "true"),
                                ("set-cookie", "a=1; Max-Age=60"), ("set-cookie", "b=2")]


def test_a_response_without_content_type_is_json():
    response = response_v2(b'{"statusCode": 204}')
    assert response.status == 204 and response.body == b"" and response.headers == [("content-type",
                                                                                      "application/json")]


MALFORMED = [b"not json", b'{"statusCode": "abc"}', b'{"statusCode": 99}', b'{"statusCode": 200, "headers": []}',
             b'{"statusCode": 200, "body": "***", "isBase64Encoded": true}',
             b'{"statusCode": 200, "headers": {"x": {"y": 1}}}']


@pytest.mark.parametrize("output", [*MALFORMED, b'{"statusCode": 200, "cookies": "a=1"}'])
def test_malformed_responses_are_502(output):
    response = response_v2(output)
    assert response.status == 502 and response.body == b"Internal Server Error"


@pytest.mark.parametrize("output", MALFORMED)
def test_malformed_format_1_responses_are_502(output):
    rest = response_v1(output)
    assert rest.status == 502 and json.loads(rest.body) == {"message": "Internal server error"}


def test_format_1_needs_a_status_and_merges_multi_value_headers():
    assert response_v1(b'{"message": "hi"}').status == 502
    assert response_v1(b'"hi"').status == 502
    output = {"statusCode": 200, "headers": {"X-A": "1", "X-B": "single"}, "multiValueHeaders": {"x-b": ["2", "3"]},
              "body": "ok"}
    response = response_v1(json.dumps(output).encode())
    assert response.headers == [("X-A", "1"), ("x-b", "2"), ("x-b", "3"), ("content-type", "application/json")]
    assert response_v1(b'{"statusCode": 200, "body": {"a": 1}}').status == 502  # REST wants a string body


@pytest.mark.parametrize("output", [
    {"statusCode": 200, "headers": {"x-a": "one\r\nSet-Cookie: forged=1"}},
    {"statusCode": 200, "headers": {"bad name": "v"}},
    {"statusCode": 200, "cookies": ["a=1\nb=2"]},
])
def test_a_header_that_would_break_the_response_makes_it_malformed(output):
    assert response_v2(json.dumps(output).encode()).status == 502
    if "headers" in output:  # format 1.0 has no `cookies`
        assert response_v1(json.dumps({**output, "body": ""}).encode()).status == 502
