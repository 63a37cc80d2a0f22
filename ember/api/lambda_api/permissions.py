"""Each Lambda API route as its IAM action and resource ARN, as AWS authorizes them."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.requests import Request

from ember.api.authorization import Authorizer, Endpoint, guarded
from ember.api.lambda_api.body import json_body
from ember.arns import function_arn, layer_arn, parse_function_ref, parse_layer_ref


class LambdaPermissions:
    """`guard(action, endpoint)` wraps a route's endpoint; the resource is the function it names."""

    def __init__(self, authorizer: Authorizer, region: str) -> None:
        self.authorizer = authorizer
        self.region = region

    def function(self, action: str, endpoint: Endpoint) -> Endpoint:
        """A route under /functions/{name}: the function's ARN, qualified if the request names a version."""
        return guarded(self.authorizer, action, endpoint, self._function_arn)

    def account(self, action: str, endpoint: Endpoint) -> Endpoint:
        """ListFunctions, GetAccountSettings: no resource, so `*`."""
        return guarded(self.authorizer, action, endpoint, _everything)

    def create(self, endpoint: Endpoint) -> Endpoint:
        """CreateFunction: the ARN the new function will have."""
        return guarded(self.authorizer, "lambda:CreateFunction", endpoint, self._new_function_arn)

    def tagged(self, action: str, endpoint: Endpoint) -> Endpoint:
        """Tag routes: the ARN in the path."""
        return guarded(self.authorizer, action, endpoint, _path_arn)

    def provisioned_get(self, endpoint: Endpoint) -> Endpoint:
        """GET …/provisioned-concurrency is the list with `?List=ALL`, one config otherwise."""
        def action(request: Request) -> str:
            listing = request.query_params.get("List") == "ALL"
            return "lambda:ListProvisionedConcurrencyConfigs" if listing else "lambda:GetProvisionedConcurrencyConfig"
        return guarded(self.authorizer, action, endpoint, self._function_arn)

    def layer(self, action: str, endpoint: Endpoint) -> Endpoint:
        """A route under /layers/{layer}: the layer version's ARN (the layer's, for PublishLayerVersion)."""
        return guarded(self.authorizer, action, endpoint, self._layer_arn)

    def layer_by_arn(self, endpoint: Endpoint) -> Endpoint:
        """GetLayerVersionByArn is GetLayerVersion on the ARN in its query."""
        async def resource(request: Request) -> str:
            return request.query_params.get("Arn", "")
        return guarded(self.authorizer, "lambda:GetLayerVersion", endpoint, resource)

    async def _layer_arn(self, request: Request) -> str:
        raw = request.path_params.get("layer", "")
        ref = parse_layer_ref(raw)
        base = raw if ref is None or ref.region else layer_arn(self.region, ref.name)  # a name, or already an ARN
        version = request.path_params.get("version")
        return f"{base}:{version}" if version else base

    async def _function_arn(self, request: Request) -> str:
        raw = request.path_params.get("name", "")
        ref = parse_function_ref(raw, request.query_params.get("Qualifier"))
        return function_arn(self.region, ref.name, ref.qualifier) if ref else unquote(raw)

    async def _new_function_arn(self, request: Request) -> str:
        raw = str((await json_body(request)).get("FunctionName", ""))
        ref = parse_function_ref(raw)
        return function_arn(self.region, ref.name) if ref else raw


async def _everything(request: Request) -> str:
    return "*"


async def _path_arn(request: Request) -> str:
    return unquote(request.path_params.get("arn", ""))
