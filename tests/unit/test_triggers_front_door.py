"""ember.triggers.front_door: data-plane requests by Host or path prefix to their handler, before SigV4."""

from __future__ import annotations

import pytest
from asgi_call import call
from botocore.awsrequest import AWSRequest
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from ember.api.middleware import AwsApiMiddleware
from ember.triggers.front_door import FrontDoor, send_response, target_of
from ember.triggers.http_payloads import HttpCall, HttpResponse

SIGNED = AwsApiMiddleware(Router(routes=[Route("/{path:path}", lambda request: PlainTextResponse("signed"))]),
                          credentials={"AKIAOP": "secret"}, region="us-east-1")


def door(seen: list[tuple[HttpCall, str]]) -> FrontDoor:
    async def handler(request: HttpCall, target_id: str, send) -> None:
        seen.append((request, target_id))
        await send_response(send, HttpResponse(200, [("x-kind", "url")], b"handled"))

    front = FrontDoor(SIGNED, max_body=64)
    front.register("lambda-url", handler)
    return front


def request(url: str, host: str | None = None, body: bytes = b"", method: str = "POST") -> AWSRequest:
    headers = {"host": host} if host else {}
    return AWSRequest(method=method, url=url, data=body, headers={**headers, "user-agent": "t/1"})


@pytest.mark.parametrize("host", ["abcd1234.lambda-url.us-east-1.localhost:9000",
                                  "abcd1234.lambda-url.us-east-1.localhost", "abcd1234.lambda-url.eu-west-1.on.aws",
                                  "ABCD1234.lambda-url.us-east-1.localhost:1"])
def test_by_host(host):
    seen: list[tuple[HttpCall, str]] = []
    answer = call(door(seen), request("http://127.0.0.1:9000/a/b%20c?x=1&x=2", host, b"hi"))
    assert answer.status == 200 and answer.body == b"handled" and answer.headers["content-length"] == "7"
    got, target = seen[0]
    assert target == "abcd1234"
    assert (got.method, got.path, got.query, got.body, got.prefix) == ("POST", "/a/b%20c", "x=1&x=2", b"hi", "")
    assert got.user_agent == "t/1" and got.source_ip


PREFIX = "/_aws/lambda-url/abcd1234"


@pytest.mark.parametrize(("path", "rest"), [(f"{PREFIX}/a/b", "/a/b"), (PREFIX, "/"), (f"{PREFIX}/", "/")])
def test_by_path_prefix_which_is_not_part_of_the_path(path, rest):
    seen: list[tuple[HttpCall, str]] = []
    assert call(door(seen), request(f"http://127.0.0.1:9000{path}")).status == 200
    got, target = seen[0]
    assert target == "abcd1234" and got.path == rest and got.sent_path == path and got.prefix == PREFIX


@pytest.mark.parametrize(("url", "host"), [
    ("http://127.0.0.1:9000/2015-03-31/functions", None),
    ("http://127.0.0.1:9000/_aws/lambda-urlx/abc/", None),
    ("http://127.0.0.1:9000/_aws/lambda-url", None),
    ("http://127.0.0.1:9000/", "lambda.us-east-1.amazonaws.com"),
    ("http://127.0.0.1:9000/", "x.lambda-url"),
])
def test_everything_else_goes_to_the_signed_api(url, host):
    seen: list[tuple[HttpCall, str]] = []
    answer = call(door(seen), request(url, host, method="GET"))
    assert answer.status == 403 and not seen  # unsigned, so SigV4 refused it: it did reach the signed API


def test_a_kind_without_a_handler_is_not_found():
    answer = call(door([]), request("http://127.0.0.1:9000/_aws/execute-api/abc123/prod/x"))
    assert answer.status == 404 and answer.json() == {"message": "Not Found"}


def test_a_body_over_the_limit_is_413():
    answer = call(door([]), request("http://127.0.0.1:9000/_aws/lambda-url/abc/", body=b"x" * 65))
    assert answer.status == 413 and answer.json() == {"message": "Request Entity Too Large"}


def test_a_failing_handler_is_a_500():
    async def broken(request: HttpCall, target_id: str, send) -> None:
        raise RuntimeError("boom")

    front = FrontDoor(SIGNED)
    front.register("execute-api", broken)
    answer = call(front, request("http://127.0.0.1:9000/", "abc.execute-api.us-east-1.localhost:9000"))
    assert answer.status == 500 and answer.json() == {"message": "Internal Server Error"}


def test_register_knows_only_the_two_kinds():
    with pytest.raises(ValueError, match="unknown front door kind"):
        FrontDoor(SIGNED).register("sqs", door([]).handlers["lambda-url"])


def test_target_of_reads_only_host_and_prefix():
    scope = {"path": "/_aws/execute-api/Api1/x", "headers": []}
    assert target_of(scope) == ("execute-api", "api1", "/_aws/execute-api/Api1")
    assert target_of({"path": "/x", "headers": [(b"host", b"id9.execute-api.us-west-2.localhost")]}) == \
        ("execute-api", "id9", "")
