"""Web frameworks behind a function URL, unchanged: Mangum running a Starlette (ASGI) app, and AWS Lambda
Powertools' LambdaFunctionUrlResolver and APIGatewayHttpResolver. The libraries come from PyPI at test time
(runtimes/python-web/install.sh, pinned) and are zipped with each function, as `pip install -t` would."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import pytest
from url_helpers import fetch, path_form, public_url

pytestmark = pytest.mark.integration

INSTALL = Path(__file__).parent / "runtimes" / "python-web" / "install.sh"
MANGUM_APP = """from mangum import Mangum
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def item(request):
    return JSONResponse({"id": request.path_params["id"], "q": request.query_params.getlist("q"),
                         "agent": request.headers.get("user-agent"), "cookie": request.cookies.get("k")})


async def echo(request):
    body = await request.body()
    response = PlainTextResponse(body[::-1], status_code=201, headers={"x-length": str(len(body))})
    response.set_cookie("seen", "yes")
    return response


handler = Mangum(Starlette(routes=[Route("/items/{id}", item), Route("/echo", echo, methods=["POST"])]),
                 lifespan="off")
"""
POWERTOOLS_APP = """from aws_lambda_powertools.event_handler import (APIGatewayHttpResolver, LambdaFunctionUrlResolver,
                                                 Response)


def routes(app):
    @app.get("/hello/<name>")
    def hello(name):
        return {"hello": name, "q": app.current_event.get_query_string_value("q"),
                "kind": type(app).__name__}

    @app.post("/echo")
    def echo():
        return Response(status_code=201, content_type="text/plain", body=app.current_event.decoded_body[::-1],
                        cookies=[])
    return app


url_app, http_app = routes(LambdaFunctionUrlResolver()), routes(APIGatewayHttpResolver())


def url_handler(event, context):
    return url_app.resolve(event, context)


def http_handler(event, context):
    return http_app.resolve(event, context)
"""


@functools.cache
def site() -> dict[str, bytes]:
    """The pinned libraries, by path in the zip."""
    done = subprocess.run(["sh", str(INSTALL)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    root = INSTALL.parent / "build" / "site"
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.parts[len(root.parts)] != "bin"}


def test_mangum_runs_an_asgi_app_behind_a_url(client, deploy, ember):
    name = deploy({**site(), "app.py": MANGUM_APP}, handler="app.handler", memory=256, timeout=10)
    url_id = public_url(client, name)
    reply = fetch(path_form(ember.url, url_id, "/items/7?q=a&q=b"), headers={"Cookie": "k=v", "User-Agent": "t/1"})
    assert reply.status == 200, reply.body
    assert json.loads(reply.body) == {"id": "7", "q": ["a", "b"], "agent": "t/1", "cookie": "v"}
    echoed = fetch(path_form(ember.url, url_id, "/echo"), "POST", b"abc", {"Content-Type": "text/plain"})
    assert (echoed.status, echoed.body, echoed.headers["x-length"]) == (201, b"cba", "3")
    assert echoed.headers["Set-Cookie"].startswith("seen=yes")
    assert fetch(path_form(ember.url, url_id, "/nowhere")).status == 404


@pytest.mark.parametrize("handler", ["url_handler", "http_handler"])
def test_powertools_resolvers_answer_behind_a_url(client, deploy, ember, handler):
    name = deploy({**site(), "app.py": POWERTOOLS_APP}, handler=f"app.{handler}", memory=256, timeout=10)
    url_id = public_url(client, name)
    reply = fetch(path_form(ember.url, url_id, "/hello/ember?q=1&q=2"))
    assert reply.status == 200, reply.body
    kind = "LambdaFunctionUrlResolver" if handler == "url_handler" else "APIGatewayHttpResolver"
    assert json.loads(reply.body) == {"hello": "ember", "q": "1,2", "kind": kind}
    echoed = fetch(path_form(ember.url, url_id, "/echo"), "POST", b"\x00\x01binary",
                   {"Content-Type": "application/octet-stream"})
    assert (echoed.status, echoed.body) == (201, b"yranib\x01\x00")
    missing = fetch(path_form(ember.url, url_id, "/nowhere"))
    assert missing.status == 404 and json.loads(missing.body)["message"] == "Not found"
