"""HTTP APIs (API Gateway v2) as AWS keeps them: the API, and quick create's route, integration and stage.

Records are botocore's output shapes with their member names (`ApiId`, `RouteKey`, …); the API layer
turns them into apigatewayv2's camelCase wire. Routes and integrations live in `http_api_parts`,
stages and deployments (what the data plane serves) in `http_api_stages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ember.config import ACCOUNT_ID
from ember.errors import BadRequestException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id, now
from ember.triggers.http_api_parts import ApiParts
from ember.triggers.http_api_stages import ApiStages
from ember.triggers.http_routes import METHODS

API_DEFAULTS = {"ApiKeySelectionExpression": "$request.header.x-api-key", "DisableExecuteApiEndpoint": False,
                "IpAddressType": "ipv4", "ProtocolType": "HTTP",
                "RouteSelectionExpression": "$request.method $request.path"}
UPDATABLE = ("Name", "Description", "Version", "CorsConfiguration", "DisableExecuteApiEndpoint",
             "ApiKeySelectionExpression", "RouteSelectionExpression", "IpAddressType", "DisableSchemaValidation")
TOKEN_RE = re.compile(r"^(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$")
ORIGIN_RE = re.compile(r"^[\x21-\x7e]+$")  # printable, no space: it is sent back as a header
# An API's updates that would need more than Ember serves (Target and RouteKey re-run quick create on AWS).
UNSUPPORTED = ("CredentialsArn", "Target", "RouteKey")


class HttpApis:
    """`endpoint(api_id)` is the API's invoke URL (ApiEndpoint); set once the server knows its port."""

    def __init__(self, store: ApiStore, region: str, endpoint: Callable[[str], str] | None = None) -> None:
        self.store = store
        self.region = region
        self.endpoint = endpoint or (lambda api_id: f"http://{api_id}.execute-api.{region}.localhost")
        self.stages = ApiStages(store, self.get)
        self.parts = ApiParts(store, self.get, self.stages.redeploy)

    def create(self, body: dict[str, Any]) -> Record:
        """CreateApi; with `Target` (quick create) also a route, an AWS_PROXY integration and an auto-deployed
        `$default` stage. Quick create grants API Gateway nothing: AddPermission is the caller's, as on AWS."""
        if body.get("ProtocolType") != "HTTP":
            raise BadRequestException(f"Unsupported protocol type {body.get('ProtocolType')}: Ember serves HTTP APIs "
                                      "only (WebSocket APIs are not supported)")
        if ("RouteKey" in body or "CredentialsArn" in body) and "Target" not in body:
            raise BadRequestException("RouteKey and CredentialsArn are only valid with Target (quick create)")
        api_id = new_id()
        while self.store.ids_in_use(api_id):
            api_id = new_id()
        record = {**API_DEFAULTS, "ApiId": api_id, "Name": body["Name"], "CreatedDate": now(),
                  "Tags": dict(body.get("Tags") or {})}
        record.update({key: body[key] for key in UPDATABLE if key in body})
        check_cors(record.get("CorsConfiguration"))
        if "Target" in body:
            self.parts.check_target_uri(body["Target"])
        self.store.put(api_id, "api", api_id, record)
        if "Target" in body:
            self._quick_create(api_id, body)
        return self.get(api_id)

    def _quick_create(self, api_id: str, body: dict[str, Any]) -> None:
        integration = {"IntegrationType": "AWS_PROXY", "IntegrationUri": body["Target"], "PayloadFormatVersion": "2.0",
                       **({"CredentialsArn": body["CredentialsArn"]} if "CredentialsArn" in body else {})}
        created = self.parts.create_integration(api_id, integration, managed=True)
        self.parts.create_route(api_id, {"RouteKey": body.get("RouteKey", "$default"),
                                         "Target": f"integrations/{created['IntegrationId']}"}, managed=True)
        self.stages.create_stage(api_id, {"StageName": "$default", "AutoDeploy": True}, managed=True)

    def get(self, api_id: str) -> Record:
        record = self.store.get(api_id, "api", api_id)
        if record is None:
            raise NotFoundException(f"Invalid API identifier specified {ACCOUNT_ID}:{api_id}",
                                    resourceType="Api")
        return {**record, "ApiEndpoint": self.endpoint(api_id)}

    def list(self) -> list[Record]:
        return [self.get(api_id) for api_id in self.store.ids("api")]

    def update(self, api_id: str, body: dict[str, Any]) -> Record:
        record = dict(self.get(api_id))
        record.pop("ApiEndpoint")
        unsupported = [key for key in UNSUPPORTED if key in body]
        if unsupported:
            raise BadRequestException(f"UpdateApi with {', '.join(unsupported)} is not supported by Ember")
        record.update({key: body[key] for key in UPDATABLE if key in body})
        check_cors(record.get("CorsConfiguration"))
        self.store.put(api_id, "api", api_id, record)
        return self.get(api_id)

    def delete(self, api_id: str) -> None:
        self.get(api_id)
        self.store.delete_api(api_id)

    def exists(self, api_id: str) -> bool:
        return self.store.get(api_id, "api", api_id) is not None


def check_cors(cors: dict[str, Any] | None) -> None:
    """A CorsConfiguration API Gateway accepts: methods, header names and origins it can send back as headers."""
    if not cors:
        return
    methods = set(cors.get("AllowMethods") or []) - (METHODS - {"ANY"}) - {"*"}
    if methods:
        raise BadRequestException(f"Invalid CORS AllowMethods: {', '.join(sorted(methods))}")
    names = [h for key in ("AllowHeaders", "ExposeHeaders") for h in cors.get(key) or [] if not TOKEN_RE.match(h)]
    origins = [origin for origin in cors.get("AllowOrigins") or [] if not ORIGIN_RE.match(origin)]
    if names or origins:
        raise BadRequestException(f"Invalid CORS header names or origins: {', '.join(names + origins)}")
    if cors.get("AllowCredentials") and "*" in (cors.get("AllowOrigins") or []):
        raise BadRequestException("allow-credentials is not supported with a wildcard (*) AllowOrigins")
    if not 0 <= cors.get("MaxAge", 0) <= 86400:
        raise BadRequestException("CORS MaxAge must be between 0 and 86400 seconds")
