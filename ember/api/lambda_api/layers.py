"""PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions, DeleteLayerVersion and the
layer version permissions (Add/RemoveLayerVersionPermission, GetLayerVersionPolicy)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.api.code_links import code_location
from ember.api.lambda_api.body import json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.arns import LayerRef, parse_layer_ref
from ember.config import ACCOUNT_ID
from ember.core.layer_policy import LayerPolicies
from ember.core.layers import NOT_FOUND, LayerStore, LayerVersion
from ember.core.validation import aws_runtime_enum, constraint_error, lambda_model
from ember.errors import InvalidParameterValueException, ResourceNotFoundException

ARCHITECTURES = ("x86_64", "arm64")


class LayersApi:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.policies = LayerPolicies(self.store)

    @property
    def store(self) -> LayerStore:
        return self.services.layers

    def _body(self, request: Request, version: LayerVersion) -> dict[str, Any]:
        """GetLayerVersion's body, with a download link made for this request (valid 10 minutes)."""
        content = {"Location": code_location(request, self.services.code_links, version.digest),
                   **version.info["Content"]}
        return {**version.info, "Content": content}

    async def publish(self, request: Request) -> Response:
        name = self._name(request, publishing=True)
        body = await json_body(request, "PublishLayerVersion")
        _check_runtimes(body.get("CompatibleRuntimes") or [])
        version = await self.store.publish(name, body)
        return aws_json(self._body(request, version), 201, request_id_of(request))

    async def get(self, request: Request) -> Response:
        version = self.store.get(self._name(request), _version_number(request))
        return aws_json(self._body(request, version), 200, request_id_of(request))

    async def get_by_arn(self, request: Request) -> Response:
        arn = request.query_params.get("Arn", "")
        ref = parse_layer_ref(arn)
        if ref is None or ref.version is None:
            pattern = lambda_model().shape_for("LayerVersionArn").metadata["pattern"]
            raise constraint_error(arn, "arn", f"Member must satisfy regular expression pattern: {pattern}")
        self._check_local(ref)
        return aws_json(self._body(request, self.store.get(ref.name, ref.version)), 200, request_id_of(request))

    async def list_layers(self, request: Request) -> Response:
        runtime, architecture = _filters(request)
        page, marker = page_of(self.store.latest(runtime, architecture), request, key=lambda v: v.name)
        layers = [{"LayerName": v.name, "LayerArn": v.info["LayerArn"], "LatestMatchingVersion": v.list_item()}
                  for v in page]
        return aws_json({"Layers": layers, **({"NextMarker": marker} if marker else {})}, 200, request_id_of(request))

    async def list_versions(self, request: Request) -> Response:
        runtime, architecture = _filters(request)
        versions = self.store.versions(self._name(request), runtime, architecture)
        page, marker = page_of(versions, request, key=lambda v: -v.version, parse_marker=int)  # newest first
        body: dict[str, Any] = {"LayerVersions": [v.list_item() for v in page]}
        if marker:
            body["NextMarker"] = marker
        return aws_json(body, 200, request_id_of(request))

    async def delete(self, request: Request) -> Response:
        self.store.delete(self._name(request), _version_number(request))
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def add_permission(self, request: Request) -> Response:
        name, number = self._name(request), _version_number(request)
        params = await json_body(request, "AddLayerVersionPermission")
        statement, revision = self.policies.add(name, number, params, request.query_params.get("RevisionId"))
        return aws_json({"Statement": json.dumps(statement), "RevisionId": revision}, 201, request_id_of(request))

    async def remove_permission(self, request: Request) -> Response:
        self.policies.remove(self._name(request), _version_number(request), request.path_params["sid"],
                             request.query_params.get("RevisionId"))
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def get_policy(self, request: Request) -> Response:
        policy, revision = self.policies.get(self._name(request), _version_number(request))
        return aws_json({"Policy": json.dumps(policy), "RevisionId": revision}, 200, request_id_of(request))

    def _name(self, request: Request, publishing: bool = False) -> str:
        """`{LayerName}`: a name, or the layer's ARN (this server's account and region only)."""
        raw = request.path_params["layer"]
        ref = parse_layer_ref(raw)
        if ref is None or ref.version is not None or len(raw) > 140:
            pattern = lambda_model().shape_for("LayerName").metadata["pattern"]
            raise constraint_error(raw, "layerName", f"Member must satisfy regular expression pattern: {pattern}")
        self._check_local(ref, publishing)
        return ref.name

    def _check_local(self, ref: LayerRef, publishing: bool = False) -> None:
        if (ref.account or ACCOUNT_ID) == ACCOUNT_ID and (ref.region or self.services.region) == self.services.region:
            return
        where = f"account {ref.account}, region {ref.region}"
        if publishing:
            raise InvalidParameterValueException(f"Layers are published in this server's account {ACCOUNT_ID} and "
                                                 f"region {self.services.region}, not {where}.")
        raise ResourceNotFoundException(f"{NOT_FOUND} Ember holds only its own account's layers ({where} is "
                                        "another's): publish the layer here first.")


def _version_number(request: Request) -> int:
    raw = request.path_params["version"]
    if not raw.isdigit() or len(raw) > 18:
        raise constraint_error(raw, "versionNumber", "Member must be a number")
    if int(raw) < 1:
        raise InvalidParameterValueException("Layer Version Cannot be less than 1")
    return int(raw)


def _filters(request: Request) -> tuple[str | None, str | None]:
    """ListLayers' and ListLayerVersions' CompatibleRuntime and CompatibleArchitecture, checked as AWS checks them."""
    runtime = request.query_params.get("CompatibleRuntime")
    architecture = request.query_params.get("CompatibleArchitecture")
    if runtime is not None and runtime not in aws_runtime_enum():
        raise constraint_error(runtime, "compatibleRuntime",
                               f"Member must satisfy enum value set: [{', '.join(aws_runtime_enum())}]")
    if architecture is not None and architecture not in ARCHITECTURES:
        raise constraint_error(architecture, "compatibleArchitecture",
                               f"Member must satisfy enum value set: [{', '.join(ARCHITECTURES)}]")
    return runtime, architecture


def _check_runtimes(runtimes: list[str]) -> None:
    if set(runtimes) - set(aws_runtime_enum()):
        raise constraint_error(f"[{', '.join(runtimes)}]", "compatibleRuntimes",
                               f"Member must satisfy enum value set: [{', '.join(aws_runtime_enum())}]")
