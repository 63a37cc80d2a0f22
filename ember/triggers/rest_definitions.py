"""A REST API's definition, pure: Swagger 2.0 / OpenAPI 3.0 (JSON or YAML) → methods and integrations,
and what of a method or integration Ember runs.

`ImportRestApi` and `PutRestApi` read a definition the way API Gateway does for what Ember serves:
`paths` → one method per operation (`x-amazon-apigateway-any-method` is `ANY`), each with its
`x-amazon-apigateway-integration` (SAM writes `{type: aws_proxy, httpMethod: POST, uri:
arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations}`),
`security` → the method's authorization type, `info.title` → the API's name,
`x-amazon-apigateway-binary-media-types` → its binary media types. Everything else is kept out, and
whatever Ember will not run or enforce comes back as a warning, never silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ember.arns import FunctionRef, integration_function
from ember.errors import BadRequestException
from ember.triggers.http_routes import RouteKeyError, parse_route_key
from ember.triggers.rest_mock import mock_warnings

Record = dict[str, Any]
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
OPERATIONS = {"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE", "options": "OPTIONS", "head": "HEAD",
              "patch": "PATCH", ANY_METHOD: "ANY"}
# x-amazon-apigateway-integration's keys → the Integration record's members (the wire's names).
INTEGRATION_FIELDS = ("type", "httpMethod", "uri", "credentials", "timeoutInMillis", "passthroughBehavior",
                      "contentHandling", "requestTemplates", "requestParameters", "cacheNamespace",
                      "cacheKeyParameters", "connectionType", "connectionId")
OBJECT_FIELDS = ("requestTemplates", "requestParameters", "cacheKeyParameters")  # the rest are strings or numbers
# x-amazon-apigateway-integration.responses' values → an IntegrationResponse's members (its key is the pattern).
RESPONSE_FIELDS = ("statusCode", "responseParameters", "responseTemplates", "contentHandling")
OBJECT_RESPONSE_FIELDS = ("responseParameters", "responseTemplates")
STATUS_RE = re.compile(r"^[1-5]\d\d$")
# Top-level extensions API Gateway would apply and Ember does not.
IGNORED_EXTENSIONS = ("x-amazon-apigateway-gateway-responses", "x-amazon-apigateway-request-validators",
                      "x-amazon-apigateway-policy", "x-amazon-apigateway-minimum-compression-size",
                      "x-amazon-apigateway-documentation", "x-amazon-apigateway-api-key-source")
PATH_PART_RE = re.compile(r"^([a-zA-Z0-9._-]+|\{[a-zA-Z0-9._-]+\+?\})$")


@dataclass(frozen=True)
class Operation:
    path: str  # `/items/{id}`
    method: str  # GET, …, ANY
    fields: Record  # PutMethod's: authorizationType, apiKeyRequired, operationName
    integration: Record | None  # PutIntegration's, type upper-cased, its `integrationResponses`; None: none
    responses: Record = field(default_factory=dict)  # the method's `methodResponses`, by status code


@dataclass
class Definition:
    title: str | None = None
    description: str | None = None
    version: str | None = None
    binary_media_types: list[str] | None = None
    operations: list[Operation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_definition(raw: bytes, basepath: str = "ignore") -> Definition:
    """A definition's methods and integrations; a body that is not one is a BadRequestException."""
    document = _document(raw)
    if not str(document.get("swagger", "")).startswith("2") and not str(document.get("openapi", "")).startswith("3"):
        raise BadRequestException("Invalid OpenAPI input: the definition needs `swagger: '2.0'` or `openapi: 3.0.x`")
    info = document["info"] if isinstance(document.get("info"), dict) else {}
    binary = document.get("x-amazon-apigateway-binary-media-types")
    definition = Definition(_text(info.get("title")), _text(info.get("description")), _text(info.get("version")),
                            [str(item) for item in binary] if isinstance(binary, list) else None)
    prefix = _base_path(document, basepath)
    paths = document.get("paths", {})
    if not isinstance(paths, dict):
        raise BadRequestException("Invalid OpenAPI input: `paths` must be an object")
    for path, item in paths.items():
        _check_path(str(path))
        for key, operation in (item or {}).items() if isinstance(item, dict) else ():
            if key in OPERATIONS and isinstance(operation, dict):
                definition.operations.append(_operation(document, prefix + str(path).rstrip("/") or "/",
                                                        OPERATIONS[key], operation, definition.warnings))
    definition.warnings += [f"{key} is not applied by Ember" for key in IGNORED_EXTENSIONS if key in document]
    return definition


def _document(raw: bytes) -> Record:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        try:
            document = yaml.safe_load(raw)
        except (yaml.YAMLError, RecursionError) as exc:
            message = f"Invalid OpenAPI input: neither JSON nor YAML ({exc})".replace("\n", " ")
            raise BadRequestException(message) from None
    if not isinstance(document, dict):
        raise BadRequestException("Invalid OpenAPI input: the definition must be an object")
    return document


def _check_path(path: str) -> None:
    parts = [part for part in path.split("/")[1:] if part]
    bad = [part for part in parts if not PATH_PART_RE.match(part)]
    try:
        if not path.startswith("/") or bad:
            raise RouteKeyError(f"invalid path part {bad[0] if bad else path!r}")
        parse_route_key(f"GET {path}")
    except RouteKeyError as exc:
        raise BadRequestException(f"Invalid OpenAPI input: path {path}: {exc}") from None


def _base_path(document: Record, basepath: str) -> str:
    """The `basepath` import parameter: `ignore` (the default), `prepend` Swagger's basePath, or `split` off
    its first segment and prepend the rest."""
    base = str(document.get("basePath") or "").rstrip("/")
    if basepath == "prepend":
        return base
    if basepath == "split":
        return "/" + base.lstrip("/").partition("/")[2] if base.count("/") > 1 else ""
    return ""


def _operation(document: Record, path: str, method: str, spec: Record, warnings: list[str]) -> Operation:
    where = f"{method} {path}"
    fields: Record = {"authorizationType": "NONE", "apiKeyRequired": False}
    if spec.get("operationId"):
        fields["operationName"] = str(spec["operationId"])
    fields.update(_security(document, spec.get("security", document.get("security"))))
    warning = method_warning(fields)
    if warning:
        warnings.append(f"{where}: {warning}")
    raw = spec.get(INTEGRATION)
    if not isinstance(raw, dict):
        warnings.append(f"{where}: no {INTEGRATION}; CreateDeployment refuses a method without an integration")
        return Operation(path, method, fields, None)
    integration = {key: raw[key] if key in OBJECT_FIELDS or isinstance(raw[key], (str, int)) else str(raw[key])
                   for key in INTEGRATION_FIELDS if key in raw}
    integration["type"] = str(integration.get("type", "")).upper()
    if isinstance(raw.get("responses"), dict):
        integration["integrationResponses"] = _integration_responses(raw["responses"])
    warnings += [f"{where}: {warning}" for warning in integration_warnings(integration)]
    return Operation(path, method, fields, integration, _method_responses(spec.get("responses")))


def _integration_responses(responses: Record) -> Record:
    """`x-amazon-apigateway-integration.responses` (selection pattern → response) by status code, as AWS
    keeps them; the pattern `default` is the response without one."""
    kept: Record = {}
    for pattern, response in responses.items():
        if not isinstance(response, dict) or not STATUS_RE.match(str(response.get("statusCode", ""))):
            raise BadRequestException(f"Invalid OpenAPI input: integration response {pattern} needs a statusCode "
                                      "between 100 and 599")
        record = {key: _object(response[key]) if key in OBJECT_RESPONSE_FIELDS else str(response[key])
                  for key in RESPONSE_FIELDS if response.get(key) is not None}
        if pattern != "default":
            record["selectionPattern"] = str(pattern)
        kept[str(response["statusCode"])] = record
    return kept


def _method_responses(responses: Any) -> Record:
    """An operation's `responses` as the method's: each status code and the headers it declares."""
    kept: Record = {}
    for code, response in _object(responses).items():
        if STATUS_RE.match(str(code)):
            headers = _object(_object(response).get("headers"))
            kept[str(code)] = {"statusCode": str(code), **({"responseParameters": {
                f"method.response.header.{name}": False for name in headers}} if headers else {})}
    return kept


def _security(document: Record, requirements: Any) -> Record:
    """The authorization a method's `security` asks for, from its scheme's API Gateway extensions."""
    schemes = {**_object(document.get("securityDefinitions")),
               **_object(_object(document.get("components")).get("securitySchemes"))}
    fields: Record = {}
    for requirement in requirements if isinstance(requirements, list) else ():
        for name in requirement if isinstance(requirement, dict) else ():
            scheme = _object(schemes.get(name))
            authorizer = scheme.get("x-amazon-apigateway-authorizer")
            if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
                fields["authorizationType"] = "AWS_IAM"
            elif isinstance(authorizer, dict):
                cognito = authorizer.get("type") == "cognito_user_pools"
                fields["authorizationType"] = "COGNITO_USER_POOLS" if cognito else "CUSTOM"
            elif scheme.get("type") == "apiKey":
                fields["apiKeyRequired"] = True
    return fields


def lambda_target(uri: str) -> FunctionRef | None:
    """The function a REST API's Lambda URI invokes: only the `…:lambda:path/2015-03-31/functions/<arn>/invocations`
    form (a bare function ARN is an HTTP API's shorthand, not a REST API's)."""
    return integration_function(uri) if uri.startswith("arn:") and ":apigateway:" in uri else None


def why_not_run(integration: Record) -> str | None:
    """Why Ember would answer calls to this integration with a REST API's 500; None when it runs them."""
    kind = integration.get("type")
    if kind == "MOCK":
        return None
    if kind != "AWS_PROXY":
        return (f"integration type {kind} is kept but not run by Ember (only AWS_PROXY to Lambda and MOCK): "
                "calls answer 500")
    if lambda_target(str(integration.get("uri") or "")) is None:
        return (f"integration URI {integration.get('uri')} is not a Lambda function's "
                "(arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations): "
                "calls answer 500")
    if str(integration.get("httpMethod") or "POST").upper() != "POST":
        return f"Lambda is invoked with POST, not {integration.get('httpMethod')}: calls answer 500"
    return None


def integration_warnings(integration: Record) -> list[str]:
    """What of an integration Ember keeps but does not run, or runs otherwise than API Gateway."""
    problem = why_not_run(integration)
    return [problem] if problem else mock_warnings(integration)


def method_warning(fields: Record) -> str | None:
    """What of a method Ember accepts and keeps but does not enforce."""
    kind = fields.get("authorizationType")
    unenforced = [f"authorizationType {kind}"] if kind != "NONE" else []
    unenforced += ["apiKeyRequired"] if fields.get("apiKeyRequired") else []
    return f"{' and '.join(unenforced)} kept but not enforced by Ember: the method is open" if unenforced else None


def _object(value: Any) -> Record:
    """A definition's object, or {} where the document has something else."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
