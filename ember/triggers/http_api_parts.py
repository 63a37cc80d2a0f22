"""An HTTP API's routes and integrations: CreateRoute/Integration and their reads, updates and deletes.

Only Lambda proxy integrations (`AWS_PROXY`) exist here; a route's `Target` is `integrations/<id>`.
Every change is reported to `on_change`, which redeploys the API's auto-deployed stages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.arns import integration_function
from ember.errors import BadRequestException, ConflictException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id
from ember.triggers.http_routes import RouteKeyError, parse_route_key

PAYLOAD_VERSIONS = ("1.0", "2.0")
TIMEOUT_MS = (50, 30000)  # an HTTP API's integration timeout: 30 s at most, and its default
ROUTE_FIELDS = ("RouteKey", "Target", "OperationName", "AuthorizationType", "ApiKeyRequired", "RequestParameters")
INTEGRATION_FIELDS = ("IntegrationUri", "PayloadFormatVersion", "TimeoutInMillis", "IntegrationMethod",
                      "Description", "CredentialsArn", "RequestParameters", "IntegrationType")


class ApiParts:
    def __init__(self, store: ApiStore, require_api: Callable[[str], Record],
                 on_change: Callable[[str], None]) -> None:
        self.store = store
        self.require_api = require_api
        self.on_change = on_change

    # Integrations

    def create_integration(self, api_id: str, body: dict[str, Any], managed: bool = False) -> Record:
        self.require_api(api_id)
        record: Record = {"ConnectionType": "INTERNET", "IntegrationId": new_id(7), "IntegrationMethod": "POST",
                          "TimeoutInMillis": TIMEOUT_MS[1], **({"ApiGatewayManaged": True} if managed else {})}
        record.update({key: body[key] for key in INTEGRATION_FIELDS if key in body})
        self._check_integration(record)
        self.store.put(api_id, "integration", record["IntegrationId"], record)
        self.on_change(api_id)
        return record

    def integration(self, api_id: str, integration_id: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, "integration", integration_id)
        if record is None:
            raise NotFoundException(f"Invalid Integration identifier specified {integration_id}",
                                    resourceType="Integration")
        return record

    def integrations(self, api_id: str) -> list[Record]:
        self.require_api(api_id)
        return self.store.all(api_id, "integration")

    def update_integration(self, api_id: str, integration_id: str, body: dict[str, Any]) -> Record:
        record = {**self.integration(api_id, integration_id)}
        record.update({key: body[key] for key in INTEGRATION_FIELDS if key in body})
        self._check_integration(record)
        self.store.put(api_id, "integration", integration_id, record)
        self.on_change(api_id)
        return record

    def delete_integration(self, api_id: str, integration_id: str) -> None:
        self.integration(api_id, integration_id)
        users = [route["RouteKey"] for route in self.store.all(api_id, "route")
                 if route.get("Target") == f"integrations/{integration_id}"]
        if users:
            raise ConflictException(f"Integration {integration_id} is the target of route(s) {', '.join(users)}: "
                                    "delete or retarget them first")
        self.store.delete(api_id, "integration", integration_id)
        self.on_change(api_id)

    def _check_integration(self, record: Record) -> None:
        if record.get("IntegrationType") != "AWS_PROXY":
            raise BadRequestException(f"Unsupported integration type {record.get('IntegrationType')}: Ember "
                                      "integrates Lambda functions only (AWS_PROXY)")
        self.check_target_uri(record.get("IntegrationUri", ""))
        if record.get("PayloadFormatVersion") not in PAYLOAD_VERSIONS:
            raise BadRequestException("PayloadFormatVersion is required for an AWS_PROXY integration of an HTTP API, "
                                      "and must be 1.0 or 2.0")
        timeout = record["TimeoutInMillis"]
        if not TIMEOUT_MS[0] <= timeout <= TIMEOUT_MS[1]:
            raise BadRequestException(f"Timeout must be between {TIMEOUT_MS[0]} ms and {TIMEOUT_MS[1]} ms, "
                                      f"but was {timeout}")

    @staticmethod
    def check_target_uri(uri: str) -> None:
        if integration_function(uri) is None:
            raise BadRequestException(f"Invalid integration URI specified: {uri}. A Lambda proxy integration takes a "
                                      "function or alias ARN, or arn:aws:apigateway:<region>:lambda:path/2015-03-31/"
                                      "functions/<function ARN>/invocations")

    # Routes

    def create_route(self, api_id: str, body: dict[str, Any], managed: bool = False) -> Record:
        self.require_api(api_id)
        record: Record = {"ApiKeyRequired": False, "AuthorizationType": "NONE", "RouteId": new_id(7),
                          **({"ApiGatewayManaged": True} if managed else {})}
        record.update({key: body[key] for key in ROUTE_FIELDS if key in body})
        self._check_route(api_id, record)
        self.store.put(api_id, "route", record["RouteId"], record)
        self.on_change(api_id)
        return record

    def route(self, api_id: str, route_id: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, "route", route_id)
        if record is None:
            raise NotFoundException(f"Invalid Route identifier specified {route_id}", resourceType="Route")
        return record

    def routes(self, api_id: str) -> list[Record]:
        self.require_api(api_id)
        return self.store.all(api_id, "route")

    def update_route(self, api_id: str, route_id: str, body: dict[str, Any]) -> Record:
        record = {**self.route(api_id, route_id)}
        record.update({key: body[key] for key in ROUTE_FIELDS if key in body})
        self._check_route(api_id, record)
        self.store.put(api_id, "route", route_id, record)
        self.on_change(api_id)
        return record

    def delete_route(self, api_id: str, route_id: str) -> None:
        self.route(api_id, route_id)
        self.store.delete(api_id, "route", route_id)
        self.on_change(api_id)

    def _check_route(self, api_id: str, record: Record) -> None:
        try:
            parse_route_key(record["RouteKey"])
        except RouteKeyError as exc:
            raise BadRequestException(str(exc)) from None
        if any(other["RouteKey"] == record["RouteKey"] and other["RouteId"] != record["RouteId"]
               for other in self.store.all(api_id, "route")):
            raise ConflictException(f"Route with key {record['RouteKey']} already exists for this API")
        if record["AuthorizationType"] != "NONE":
            raise BadRequestException(f"AuthorizationType {record['AuthorizationType']} is not supported by Ember: "
                                      "routes are open (NONE)")
        target = record.get("Target")
        if target is not None:
            kind, _, integration_id = target.partition("/")
            if kind != "integrations" or self.store.get(api_id, "integration", integration_id) is None:
                raise BadRequestException(f"Invalid target specified: {target}. A target is integrations/<id> of an "
                                          "integration of this API")
