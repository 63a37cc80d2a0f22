"""A REST API's resources, their methods and each method's integration, as API Gateway (v1) keeps them.

A resource is one path part under its parent (`items`, `{id}`, `{proxy+}`); the root `/` is made
with the API and never deleted. A resource holds its methods (`resourceMethods`), each method at
most one integration (`methodIntegration`). Changes here are not served until a deployment takes a
snapshot of them (ember.triggers.rest_stages). A definition (ember.triggers.rest_definitions) is
applied whole or not at all: the new tree is built in memory, checked, then written.

Records may carry `warnings`: what was accepted but will not be run or enforced (the API layer
sends them as `X-Ember-Warning`); they are never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.errors import BadRequestException, ConflictException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id
from ember.triggers.http_routes import METHODS, VARIABLE_RE, RouteKeyError, parse_route_key
from ember.triggers.rest_definitions import (
    PATH_PART_RE,
    Definition,
    integration_warnings,
    lambda_target,
    method_warning,
)

KIND = "rest-resource"
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
METHOD_FIELDS = ("authorizationType", "authorizerId", "apiKeyRequired", "operationName", "requestParameters",
                 "requestModels", "requestValidatorId", "authorizationScopes")
INTEGRATION_FIELDS = ("type", "uri", "credentials", "requestParameters", "requestTemplates", "passthroughBehavior",
                      "contentHandling", "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "connectionType",
                      "connectionId")
TIMEOUT_MS = (50, 29000)  # a REST API's integration timeout, and its default
Tree = dict[str, Record]  # resources by path


class RestResources:
    def __init__(self, store: ApiStore, require_api: Callable[[str], Record]) -> None:
        self.store = store
        self.require_api = require_api

    def create_root(self, api_id: str) -> Record:
        return self.store.put(api_id, KIND, (root := new_id()), {"id": root, "path": "/", "resourceMethods": {}})

    # Resources

    def create_resource(self, api_id: str, parent_id: str, body: dict[str, Any]) -> Record:
        parent = self._resource(api_id, parent_id)
        tree = {record["path"]: record for record in self.store.all(api_id, KIND)}
        record = _child(tree, parent, body["pathPart"])
        return self.store.put(api_id, KIND, record["id"], record)

    def resource(self, api_id: str, resource_id: str, embed: bool = False) -> Record:
        return _shown(self._resource(api_id, resource_id), embed)

    def resources(self, api_id: str, embed: bool = False) -> list[Record]:
        self.require_api(api_id)
        return [_shown(record, embed) for record in sorted(self.store.all(api_id, KIND), key=lambda r: r["path"])]

    def delete_resource(self, api_id: str, resource_id: str) -> None:
        """The resource and everything under it, as on AWS; the root stays."""
        record = self._resource(api_id, resource_id)
        if "parentId" not in record:
            raise BadRequestException("Cannot delete the root resource of a REST API")
        prefix = record["path"] + "/"
        for other in self.store.all(api_id, KIND):
            if other["id"] == resource_id or other["path"].startswith(prefix):
                self.store.delete(api_id, KIND, other["id"])

    def _resource(self, api_id: str, resource_id: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, KIND, resource_id)
        if record is None:
            raise NotFoundException("Invalid Resource identifier specified")
        return record

    # Methods

    def put_method(self, api_id: str, resource_id: str, http_method: str, body: dict[str, Any]) -> Record:
        record = self._resource(api_id, resource_id)
        if http_method in record["resourceMethods"]:
            raise ConflictException("Method already exists for this resource")
        method = _method(http_method, body)
        self.store.put(api_id, KIND, resource_id, _with_method(record, method))
        return _warned(method, *filter(None, [method_warning(method)]))

    def method(self, api_id: str, resource_id: str, http_method: str) -> Record:
        method: Record | None = self._resource(api_id, resource_id)["resourceMethods"].get(http_method)
        if method is None:
            raise NotFoundException("Invalid Method identifier specified")
        return method

    def delete_method(self, api_id: str, resource_id: str, http_method: str) -> None:
        self.method(api_id, resource_id, http_method)
        record = self._resource(api_id, resource_id)
        methods = {name: value for name, value in record["resourceMethods"].items() if name != http_method}
        self.store.put(api_id, KIND, resource_id, {**record, "resourceMethods": methods})

    def replace_method(self, api_id: str, resource_id: str, method: Record) -> Record:
        """The method as given, in place of the one of its name (its responses changed)."""
        self.store.put(api_id, KIND, resource_id, _with_method(self._resource(api_id, resource_id), method))
        return method

    # Integrations

    def put_integration(self, api_id: str, resource_id: str, http_method: str, body: dict[str, Any]) -> Record:
        method = self.method(api_id, resource_id, http_method)
        integration = _integration(resource_id, body)
        record = self._resource(api_id, resource_id)
        self.store.put(api_id, KIND, resource_id, _with_method(record, {**method, "methodIntegration": integration}))
        return _warned(integration, *integration_warnings(integration))

    def integration(self, api_id: str, resource_id: str, http_method: str) -> Record:
        integration: Record | None = self.method(api_id, resource_id, http_method).get("methodIntegration")
        if integration is None:
            raise NotFoundException("No integration defined for method")
        return integration

    def delete_integration(self, api_id: str, resource_id: str, http_method: str) -> None:
        self.integration(api_id, resource_id, http_method)
        method = {key: value for key, value in self.method(api_id, resource_id, http_method).items()
                  if key != "methodIntegration"}
        self.store.put(api_id, KIND, resource_id, _with_method(self._resource(api_id, resource_id), method))

    # Definitions (ImportRestApi, PutRestApi)

    def apply(self, api_id: str, definition: Definition, overwrite: bool) -> None:
        """The definition's methods on the API's resources: merged (its methods replace theirs, the rest stays)
        or overwritten (only the definition's methods remain; the root keeps its id)."""
        existing = {record["path"]: record for record in self.store.all(api_id, KIND)}
        tree = dict(existing)
        if overwrite:  # the definition's paths keep their resources' ids; their methods are its own
            wanted = {"/"} | {path for operation in definition.operations for path in _ancestry(operation.path)}
            tree = {path: {**record, "resourceMethods": {}} for path, record in existing.items() if path in wanted}
        for operation in definition.operations:
            resource = _ensure(tree, operation.path)
            method = _method(operation.method, operation.fields)
            if operation.responses:
                method["methodResponses"] = operation.responses
            if operation.integration is not None:
                method["methodIntegration"] = _integration(resource["id"], operation.integration, checked=False)
                if "integrationResponses" in operation.integration:
                    method["methodIntegration"]["integrationResponses"] = operation.integration["integrationResponses"]
            tree[resource["path"]] = _with_method(resource, method)
        for path, record in existing.items():
            if path not in tree:
                self.store.delete(api_id, KIND, record["id"])
        for path, record in tree.items():
            if existing.get(path) != record:
                self.store.put(api_id, KIND, record["id"], record)


def _child(tree: Tree, parent: Record, part: str) -> Record:
    """A new resource `part` under `parent`, refused as API Gateway refuses it."""
    if not PATH_PART_RE.match(part):
        raise BadRequestException("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning "
                                  "and the end and an optional plus sign before the closing brace.")
    path = parent["path"].rstrip("/") + "/" + part
    siblings = [record for record in tree.values() if record.get("parentId") == parent["id"]]
    if any(record["pathPart"] == part for record in siblings):
        raise ConflictException(f"Another resource with the same parent already has this name: {part}")
    variable = next((record["pathPart"] for record in siblings if VARIABLE_RE.match(record["pathPart"])), None)
    if VARIABLE_RE.match(part) and variable:
        raise BadRequestException(f"A sibling ({variable}) of this resource already has a variable path part "
                                  "-- only one is allowed")
    try:
        parse_route_key(f"GET {path}")
    except RouteKeyError as exc:
        raise BadRequestException(str(exc).replace("route key", "resource path")) from None
    return {"id": new_id(6), "parentId": parent["id"], "pathPart": part, "path": path, "resourceMethods": {}}


def _ensure(tree: Tree, path: str) -> Record:
    """The resource at `path`, made with any missing ancestors (in `tree` only)."""
    record = tree["/"]
    for part in [part for part in path.split("/") if part]:
        child_path = record["path"].rstrip("/") + "/" + part
        if child_path not in tree:
            tree[child_path] = _child(tree, record, part)
        record = tree[child_path]
    return record


def _method(http_method: str, body: dict[str, Any]) -> Record:
    if http_method not in METHODS:
        raise BadRequestException(f"Invalid HTTP method: {http_method}. One of {', '.join(sorted(METHODS))}")
    if body.get("authorizationType") not in AUTHORIZATION_TYPES:
        raise BadRequestException(f"Invalid authorization type {body.get('authorizationType')}: one of "
                                  f"{', '.join(AUTHORIZATION_TYPES)}")
    return {"httpMethod": http_method, "apiKeyRequired": False,
            **{key: body[key] for key in METHOD_FIELDS if key in body}}


def _integration(resource_id: str, body: dict[str, Any], checked: bool = True) -> Record:
    """An integration as AWS returns it (defaults filled in); `checked` refuses what PutIntegration refuses."""
    record: Record = {"passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": TIMEOUT_MS[1],
                      "cacheNamespace": resource_id, "cacheKeyParameters": [],
                      **{key: body[key] for key in INTEGRATION_FIELDS if key in body}}
    method = body.get("integrationHttpMethod", body.get("httpMethod"))
    if method is not None:
        record["httpMethod"] = str(method).upper()
    timeout = record["timeoutInMillis"]
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not TIMEOUT_MS[0] <= timeout <= TIMEOUT_MS[1]:
        raise BadRequestException(f"Timeout should be between {TIMEOUT_MS[0]} ms and {TIMEOUT_MS[1]} ms")
    if checked and record["type"] in ("AWS", "AWS_PROXY"):
        uri = str(record.get("uri") or "")
        if not uri.startswith("arn:aws:apigateway:"):
            raise BadRequestException(f"Invalid ARN specified in the request: {uri or 'no uri'}. Lambda's is "
                                      "arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>"
                                      "/invocations")
        if "httpMethod" not in record:
            raise BadRequestException("Enumeration value for HttpMethod must be non-empty")
        if lambda_target(uri) is None and ":lambda:" in uri:
            raise BadRequestException(f"Invalid Lambda function ARN in the integration URI: {uri}")
    return record


def _ancestry(path: str) -> list[str]:
    """`/a/b/c` → `/a`, `/a/b`, `/a/b/c`."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:index]) for index in range(1, len(parts) + 1)]


def _with_method(resource: Record, method: Record) -> Record:
    return {**resource, "resourceMethods": {**resource["resourceMethods"], method["httpMethod"]: method}}


def _shown(record: Record, embed: bool) -> Record:
    """GetResources' view: each method in full with `embed=methods`, else only its name (`{"GET": {}}`)."""
    return record if embed else {**record, "resourceMethods": {name: {} for name in record["resourceMethods"]}}


def _warned(record: Record, *warnings: str) -> Record:
    return {**record, "warnings": list(warnings)} if warnings else record
