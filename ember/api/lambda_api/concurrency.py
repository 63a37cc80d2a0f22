"""Put/Get/DeleteFunctionConcurrency and GetAccountSettings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import function_ref, json_body
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.core.validation import constraint_error

CODE_SIZE_ZIPPED = 52428800
CODE_SIZE_UNZIPPED = 262144000
TOTAL_CODE_SIZE = 80530636800


class ConcurrencyApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _name(self, request: Request) -> str:
        ref = function_ref(request, self.services.region)
        self.services.registry.get(ref.name)
        return ref.name

    async def put(self, request: Request) -> Response:
        name = self._name(request)
        reserved = (await json_body(request, "PutFunctionConcurrency")).get("ReservedConcurrentExecutions")
        if not isinstance(reserved, int) or reserved < 0:
            raise constraint_error(reserved, "reservedConcurrentExecutions",
                                   "Member must have value greater than or equal to 0")
        self.services.limiter.check_reservation(name, reserved)
        self.services.registry.set_reserved(name, reserved)
        return aws_json({"ReservedConcurrentExecutions": reserved}, 200, request_id_of(request))

    async def get(self, request: Request) -> Response:
        reserved = self.services.registry.get(self._name(request)).reserved
        body = {} if reserved is None else {"ReservedConcurrentExecutions": reserved}
        return aws_json(body, 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        self.services.registry.set_reserved(self._name(request), None)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def account_settings(self, request: Request) -> Response:
        records = self.services.registry.list()
        limiter = self.services.limiter
        body = {
            "AccountLimit": {"TotalCodeSize": TOTAL_CODE_SIZE, "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                             "CodeSizeZipped": CODE_SIZE_ZIPPED, "ConcurrentExecutions": limiter.account_limit,
                             "UnreservedConcurrentExecutions": limiter.unreserved_limit()},
            "AccountUsage": {"TotalCodeSize": sum(r.config["CodeSize"] for r in records),
                             "FunctionCount": len(records)},
        }
        return aws_json(body, 200, request_id_of(request))
