"""A REST API of the model as the Swagger 2.0 document API Gateway imports (`put_rest_api`): one Lambda proxy
operation per route, each function's ARN in API Gateway's integration URI. For the REST APIs that come without a
definition of their own: serverless.yml's `http` events, a template's `AWS::ApiGateway::Method` resources (a
SAM `Api` carries its `Body`, which is sent as it is)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.apps.triggers import FunctionTarget, RestApi

ANY_METHOD = "x-amazon-apigateway-any-method"


def integration_uri(function_arn: str) -> str:
    region = function_arn.split(":")[3]
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def swagger(api: RestApi, function_arn: Callable[[FunctionTarget], str]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in api.routes:
        method = ANY_METHOD if route.method == "ANY" else route.method.lower()
        paths.setdefault(route.path, {})[method] = {
            "responses": {},
            "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
                                                "uri": integration_uri(function_arn(route.function)),
                                                "passthroughBehavior": "when_no_match"},
        }
    document: dict[str, Any] = {"swagger": "2.0", "info": {"title": api.name, "version": "1.0"}, "paths": paths}
    if api.binary_media_types:
        document["x-amazon-apigateway-binary-media-types"] = list(api.binary_media_types)
    return document
