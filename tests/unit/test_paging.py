import pytest
from starlette.requests import Request

from ember.api.lambda_api.body import page_of
from ember.errors import InvalidParameterValueException


def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": []})


def test_pages_of_fifty_with_the_last_key_as_marker():
    items = [f"fn-{i:03d}" for i in range(120)]
    page, marker = page_of(items, request(""), key=str)
    assert len(page) == 50 and marker == "fn-049"
    page, marker = page_of(items, request(f"Marker={marker}"), key=str)
    assert page[0] == "fn-050" and marker == "fn-099"
    page, marker = page_of(items, request(f"Marker={marker}"), key=str)
    assert len(page) == 20 and marker is None


def test_max_items_is_capped_and_a_deleted_marker_still_pages_on():
    items = ["a", "c", "d"]
    assert page_of(items, request("MaxItems=2"), key=str) == (["a", "c"], "c")
    assert page_of(items, request("Marker=b"), key=str) == (["c", "d"], None)
    assert len(page_of(list(range(80)), request("MaxItems=1000"), key=int)[0]) == 50


def test_bad_marker_is_an_aws_error():
    with pytest.raises(InvalidParameterValueException):
        page_of([1, 2], request("Marker=x"), key=int, parse_marker=int)
