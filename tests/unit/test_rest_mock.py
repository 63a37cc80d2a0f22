"""A REST API's MOCK integration: the status a request template names, the integration response it selects,
and the answer built from it (ember.triggers.rest_mock), with what SAM's `Cors` and CDK's preflight write."""

from __future__ import annotations

import json

import pytest

from ember.triggers.http_call import HttpCall
from ember.triggers.rest_definitions import parse_definition
from ember.triggers.rest_mock import Mock, answer, mock_of, mock_warnings, select, status_of

SAM_CORS = {  # aws-sam-translator's `options` method for `Cors: {AllowOrigin: "'https://example.com'", ...}`
    "type": "mock",
    "requestTemplates": {"application/json": "{\n  \"statusCode\" : 200\n}\n"},
    "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{}\n"},
                              "responseParameters": {
                                  "method.response.header.Access-Control-Allow-Origin": "'https://example.com'",
                                  "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
                                  "method.response.header.Access-Control-Max-Age": "'600'"}}}}


def call(body: bytes = b"", content_type: str | None = None) -> HttpCall:
    headers = [("Origin", "https://example.com"), ("Access-Control-Request-Method", "GET")]
    headers += [("Content-Type", content_type)] if content_type else []
    return HttpCall("OPTIONS", "/Prod/hello", "", headers, body, "127.0.0.1", "browser", 1700000000.0)


def imported(integration: dict) -> Mock:
    body = {"swagger": "2.0", "info": {"title": "t"},
            "paths": {"/hello": {"options": {"x-amazon-apigateway-integration": integration,
                                             "responses": {"200": {"headers": {"Access-Control-Allow-Origin": {}}}}}}}}
    [operation] = parse_definition(json.dumps(body).encode()).operations
    assert operation.responses == {"200": {"statusCode": "200", "responseParameters": {
        "method.response.header.Access-Control-Allow-Origin": False}}}
    assert operation.integration is not None
    return mock_of(operation.integration)


def test_sams_cors_preflight_answers_200_with_the_headers_it_asked_for():
    response = answer(imported(SAM_CORS), call())
    assert (response.status, response.body) == (200, b"{}\n")
    assert dict(response.headers) == {"content-type": "application/json",
                                      "Access-Control-Allow-Origin": "https://example.com",
                                      "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
                                      "Access-Control-Max-Age": "600"}


@pytest.mark.parametrize(("text", "status"), [
    ('{"statusCode": 200}', 200), ("{\n  \"statusCode\" : 404\n}\n", 404),
    ("{statusCode: 204}", 204),  # CDK's preflight template: not JSON, and AWS reads it
    ("{'statusCode': 500, 'x': 1}", 500),
    ('{"statusCode": "200"}', None), ('{"statusCode": true}', None), ("{}", None), ("", None), ("[200]", None),
    ("statusCode: 200", None),
])
def test_the_status_a_request_template_names(text, status):
    assert status_of(text) == status


def test_a_pattern_matches_the_whole_status_and_its_own_status_wins_else_the_default():
    responses = ({"statusCode": "200"}, {"statusCode": "400", "selectionPattern": "4\\d{2}"},
                 {"statusCode": "404", "selectionPattern": "4\\d{2}"}, {"statusCode": "500", "selectionPattern": "5"})
    assert select(responses, 404)["statusCode"] == "404"
    assert select(responses, 418)["statusCode"] == "400"
    assert select(responses, 503)["statusCode"] == "200"  # `5` matches only the whole string "5"
    assert select(responses, 200)["statusCode"] == "200"
    assert select(responses[1:], 200) is None


def test_the_answer_takes_the_selected_responses_status_and_aws_errors_otherwise():
    mock = imported({"type": "MOCK", "requestTemplates": {"application/json": "{statusCode: 200}"},
                     "responses": {"default": {"statusCode": "204", "responseParameters": {
                         "method.response.header.Access-Control-Allow-Origin": "'*'"}}}})
    response = answer(mock, call())
    assert (response.status, response.body, response.headers[1]) == (204, b"", ("Access-Control-Allow-Origin", "*"))
    no_default = mock_of({"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                          "integrationResponses": {"500": {"statusCode": "500", "selectionPattern": "5\\d{2}"}}})
    failed = answer(no_default, call())
    assert (failed.status, json.loads(failed.body)) == (500, {"message": "Internal server error"})


def test_without_a_template_the_body_passes_as_its_behaviour_allows():
    responses = {"200": {"statusCode": "200"}, "404": {"statusCode": "404", "selectionPattern": "404"}}
    bare = mock_of({"type": "MOCK", "integrationResponses": responses})
    assert answer(bare, call()).status == 500  # no template, no body: AWS's "Unable to parse statusCode"
    assert answer(bare, call(b'{"statusCode": 404}')).status == 404  # WHEN_NO_MATCH: the body passes
    templated = {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                 "integrationResponses": responses}
    assert answer(mock_of(templated), call(b"a=1", "application/x-www-form-urlencoded")).status == 500
    for behaviour in ("NEVER", "WHEN_NO_TEMPLATES"):
        refused = answer(mock_of({**templated, "passthroughBehavior": behaviour}), call(b"a", "text/plain"))
        assert (refused.status, json.loads(refused.body)) == (415, {"message": "Unsupported Media Type"})
    assert answer(mock_of(templated), call(b"", "application/json; charset=utf-8")).status == 200


def test_what_ember_does_not_evaluate_is_warned_of():
    integration = {"type": "MOCK", "requestTemplates": {"application/json": "#if($x) {\"statusCode\": 200} #end"},
                   "integrationResponses": {"200": {"statusCode": "200",
                                                    "responseTemplates": {"application/json": "$context.requestId"},
                                                    "responseParameters": {
                                                        "method.response.header.X-Id": "context.requestId",
                                                        "method.response.header.X-Static": "'kept'"}}}}
    warnings = mock_warnings(integration)
    assert len(warnings) == 3 and "request template application/json has VTL" in warnings[0]
    assert "X-Id from context.requestId is skipped" in warnings[2]
    assert mock_warnings(SAM_CORS | {"type": "MOCK"}) == [] and mock_warnings({"type": "AWS_PROXY"}) == []
