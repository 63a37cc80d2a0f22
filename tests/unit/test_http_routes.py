"""API Gateway's route and stage selection (ember.triggers.http_routes), against AWS's documented examples."""

from __future__ import annotations

import pytest

from ember.triggers.http_routes import RouteKeyError, RouteTable, parse_route_key, split_stage


def table(*keys: str) -> RouteTable[str]:
    return RouteTable((parse_route_key(key), key) for key in keys)


# AWS's own example ("Routing API requests", HTTP API developer guide), plus ANY against a method.
DOC_ROUTES = ("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default")


@pytest.mark.parametrize(("method", "path", "route"), [
    ("GET", "/pets/dog/1", "GET /pets/dog/1"),
    ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
    ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
    ("POST", "/test/5", "ANY /{proxy+}"),
    ("POST", "/pets/dog/1", "ANY /{proxy+}"),
    ("GET", "/", "$default"),  # {proxy+} needs at least one segment
])
def test_the_most_specific_route_wins_as_aws_documents(method, path, route):
    match = table(*DOC_ROUTES).match(method, path)
    assert match is not None and match.value == route


def test_a_method_beats_any_on_the_same_path_and_any_takes_the_rest():
    routes = table("ANY /items", "GET /items")
    assert routes.match("GET", "/items").value == "GET /items"
    assert routes.match("DELETE", "/items").value == "ANY /items"


def test_literal_segments_beat_variables_left_to_right():
    routes = table("GET /a/{x}/c", "GET /{y}/b/c", "GET /a/b/{z}")
    match = routes.match("GET", "/a/b/c")
    assert match.value == "GET /a/b/{z}" and match.path_parameters == {"z": "c"}


def test_the_longer_greedy_prefix_wins():
    routes = table("ANY /{proxy+}", "GET /api/{proxy+}")
    match = routes.match("GET", "/api/v1/users")
    assert match.value == "GET /api/{proxy+}" and match.path_parameters == {"proxy": "v1/users"}


def test_path_parameters_are_decoded_and_greedy_keeps_slashes():
    match = table("GET /items/{id}").match("GET", "/items/a%20b")
    assert match.path_parameters == {"id": "a b"}
    match = table("ANY /{proxy+}").match("PUT", "/x/y/z/")
    assert match.path_parameters == {"proxy": "x/y/z/"}


def test_no_route_and_no_default_is_none():
    routes = table("GET /items/{id}")
    assert routes.match("GET", "/items") is None
    assert routes.match("POST", "/items/1") is None
    assert routes.match("GET", "/items/1/more") is None


def test_root_route_and_trailing_slash():
    routes = table("GET /", "GET /hello")
    assert routes.match("GET", "/").value == "GET /"
    assert routes.match("GET", "/hello/").value == "GET /hello"


@pytest.mark.parametrize("key", ["FETCH /x", "GET x", "GET /{proxy+}/more", "GET /{a}/{a}", "GET /a b", "get /x",
                                 "GET /{bad name}"])
def test_invalid_route_keys_are_refused(key):
    with pytest.raises(RouteKeyError, match="Invalid route key"):
        parse_route_key(key)


def test_route_key_path_round_trips():
    assert parse_route_key("GET /items/{id}").path == "/items/{id}"
    assert parse_route_key("ANY /{proxy+}").path == "/{proxy+}"
    assert parse_route_key("GET /").path == "/"
    assert parse_route_key("$default").path == ""


@pytest.mark.parametrize(("path", "stages", "expected"), [
    ("/items", ["$default"], ("$default", "/items")),
    ("/prod/items", ["$default", "prod"], ("prod", "/items")),
    ("/prod", ["prod"], ("prod", "/")),
    ("/dev/items", ["$default", "prod"], ("$default", "/dev/items")),
    ("/dev/items", ["prod"], None),
    ("/$default/items", ["$default"], ("$default", "/$default/items")),
])
def test_a_named_stage_owns_its_prefix_and_default_serves_the_rest(path, stages, expected):
    assert split_stage(path, stages) == expected
