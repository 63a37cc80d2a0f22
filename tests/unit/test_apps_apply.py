"""ember.apps.apply's pure parts: the undo journal runs newest first and keeps going past a failing undo; a REST
API without a definition of its own becomes the Swagger document API Gateway imports."""

from __future__ import annotations

from pathlib import Path

from ember.apps.apply_context import Context
from ember.apps.model import Stack
from ember.apps.plan import Deployed
from ember.apps.swagger import swagger
from ember.apps.triggers import FunctionTarget, RestApi, RestRoute


def context() -> Context:
    return Context(None, Stack("s", "eu-west-1", "000000000000", Path(".")), Deployed(),  # type: ignore[arg-type]
                   lambda source: b"")


def test_undos_run_newest_first_and_a_failing_one_does_not_stop_the_rest():
    ctx, ran = context(), []

    def fail() -> None:
        raise RuntimeError("gone")
    ctx.undo("first", lambda: ran.append("first"))
    ctx.undo("broken", fail)
    ctx.undo("last", lambda: ran.append("last"))
    assert ctx.roll_back() == ["broken: gone"]
    assert ran == ["last", "first"] and ctx.undos == []


def test_a_rest_api_of_routes_is_a_swagger_document_of_lambda_proxies():
    ctx = context()
    api = RestApi("Api", "abc1234567", "shop", [RestRoute("/items", "GET", FunctionTarget("list")),
                                                 RestRoute("/items/{id}", "ANY", FunctionTarget("one", "live"))],
                  binary_media_types=("image/png",))
    document = swagger(api, ctx.function_arn)
    assert document["swagger"] == "2.0" and document["info"]["title"] == "shop"
    assert document["x-amazon-apigateway-binary-media-types"] == ["image/png"]
    get = document["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]
    assert get == {"type": "aws_proxy", "httpMethod": "POST", "passthroughBehavior": "when_no_match",
                   "uri": "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
                          "arn:aws:lambda:eu-west-1:000000000000:function:list/invocations"}
    any_method = document["paths"]["/items/{id}"]["x-amazon-apigateway-any-method"]
    assert any_method["x-amazon-apigateway-integration"]["uri"].endswith(":function:one:live/invocations")
