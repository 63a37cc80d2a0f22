"""ember.arns: every form of function reference a client may send, and the ARN AWS returns."""

from __future__ import annotations

import pytest

from ember.arns import FunctionRef, execute_api_arn, function_arn, integration_function, parse_function_ref


def test_plain_name_has_no_qualifier():
    assert parse_function_ref("fn") == FunctionRef("fn", None)


def test_plain_name_takes_the_qualifier_argument():
    assert parse_function_ref("fn", "prod") == FunctionRef("fn", "prod")


def test_name_with_embedded_qualifier():
    assert parse_function_ref("fn:prod") == FunctionRef("fn", "prod")


def test_percent_encoded_latest_qualifier_is_decoded():
    assert parse_function_ref("fn:%24LATEST") == FunctionRef("fn", "$LATEST")


def test_full_arn():
    assert parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:fn") == FunctionRef("fn", None)


def test_full_arn_with_qualifier():
    assert parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:fn:7") == FunctionRef("fn", "7")


def test_partial_arn():
    assert parse_function_ref("000000000000:function:fn") == FunctionRef("fn", None)


def test_percent_encoded_full_arn():
    raw = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn%3A%24LATEST"
    assert parse_function_ref(raw) == FunctionRef("fn", "$LATEST")


def test_embedded_qualifier_equal_to_argument_is_accepted():
    assert parse_function_ref("fn:prod", "prod") == FunctionRef("fn", "prod")


@pytest.mark.parametrize("raw", ["fn:prod", "arn:aws:lambda:us-east-1:000000000000:function:fn:prod"])
def test_embedded_qualifier_mismatching_argument_is_refused(raw):
    assert parse_function_ref(raw, "dev") is None


@pytest.mark.parametrize("raw", ["a b", "", "fn/x", "arn:aws:lambda:us-east-1:123:function:fn"])
def test_garbage_is_refused(raw):
    assert parse_function_ref(raw) is None


def test_64_char_name_is_accepted():
    assert parse_function_ref("a" * 64) == FunctionRef("a" * 64, None)


def test_65_char_name_is_refused():
    assert parse_function_ref("a" * 65) is None


def test_65_char_name_in_an_arn_is_refused():
    assert parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:" + "a" * 65) is None


def test_function_arn_without_qualifier():
    assert function_arn("us-east-1", "fn") == "arn:aws:lambda:us-east-1:000000000000:function:fn"


def test_function_arn_with_qualifier():
    assert function_arn("eu-west-1", "fn", "$LATEST") == "arn:aws:lambda:eu-west-1:000000000000:function:fn:$LATEST"


def test_function_arn_parses_back_to_the_same_ref():
    assert parse_function_ref(function_arn("us-east-1", "my-fn_2", "3")) == FunctionRef("my-fn_2", "3")


@pytest.mark.parametrize(("uri", "ref"), [
    ("arn:aws:lambda:us-east-1:000000000000:function:fn", FunctionRef("fn")),
    ("arn:aws:lambda:us-east-1:000000000000:function:fn:live", FunctionRef("fn", "live")),
    ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:fn"
     "/invocations", FunctionRef("fn")),
    ("fn", None),  # a bare name is no integration URI
    ("https://example.com/", None),
    ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/fn/invocations", None),
])
def test_an_integration_uri_names_its_function(uri, ref):
    assert integration_function(uri) == ref


def test_the_source_arn_api_gateway_sends():
    assert execute_api_arn("us-east-1", "abc", "prod", "GET", "/items/{id}") == \
        "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/items/{id}"
    assert execute_api_arn("us-east-1", "abc", "$default", "", "") == \
        "arn:aws:execute-api:us-east-1:000000000000:abc/$default/$default"
