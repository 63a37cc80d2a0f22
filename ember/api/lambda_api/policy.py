"""AddPermission, RemovePermission and GetPolicy: a function's resource-based policy."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.arns import FunctionRef
from ember.core.functions import LATEST
from ember.errors import InvalidParameterValueException


class PolicyApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _resource(self, request: Request) -> FunctionRef:
        """The function, version or alias the policy belongs to; a qualifier must exist."""
        ref = function_ref(request, self.services.region)
        qualifier = None if ref.qualifier == LATEST else ref.qualifier
        if qualifier is not None:
            self.services.invoker.resolve(ref.name, qualifier)
        return FunctionRef(ref.name, qualifier)

    async def add(self, request: Request) -> Response:
        ref = self._resource(request)
        params = await json_body(request, "AddPermission")
        if params.get("InvokedViaFunctionUrl") and params["Action"] != "lambda:InvokeFunction":
            raise InvalidParameterValueException(
                "InvokedViaFunctionUrl is only valid with the lambda:InvokeFunction action.")
        statement = self.services.policies.add(ref.name, ref.qualifier, params)
        return aws_json({"Statement": json.dumps(statement)}, 201, request_id_of(request))

    async def remove(self, request: Request) -> Response:
        ref = self._resource(request)
        self.services.policies.remove(ref.name, ref.qualifier, request.path_params["sid"],
                                      request.query_params.get("RevisionId"))
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def get(self, request: Request) -> Response:
        ref = self._resource(request)
        policy, revision = self.services.policies.get(ref.name, ref.qualifier)
        return aws_json({"Policy": json.dumps(policy), "RevisionId": revision}, 200, request_id_of(request))
