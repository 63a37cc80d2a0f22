"""API Gateway resources → the model: REST APIs (v1) from their Swagger/OpenAPI body or their Resource and
Method resources, HTTP APIs (v2) from their OpenAPI body or their Route and Integration resources."""

from __future__ import annotations

from typing import Any

from ember.apps.cfn_context import Build, tag_dict
from ember.apps.triggers import FunctionTarget, HttpApi, HttpRoute, RestApi, RestRoute

ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", ANY_METHOD)


def integration_target(build: Build, uri: Any) -> FunctionTarget | None:
    """`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations` → its function."""
    text = str(uri or "")
    marker = "/functions/"
    if ":lambda:path/" not in text or marker not in text:
        return None
    return build.target(text.split(marker, 1)[1].removesuffix("/invocations"))


def _operations(build: Build, logical_id: str, body: dict[str, Any]) -> list[tuple[str, str, Any, dict[str, Any]]]:
    """(path, METHOD, target, integration) of every Lambda-proxy operation in a body; others but MOCKs are listed."""
    found = []
    for path, item in sorted((body.get("paths") or {}).items()):
        for method, operation in sorted((item or {}).items()):
            if method not in METHODS or not isinstance(operation, dict):
                continue
            integration = operation.get(INTEGRATION) or {}
            target = integration_target(build, integration.get("uri"))
            verb = "ANY" if method == ANY_METHOD else method.upper()
            if target is None:
                kind = integration.get("type", "none")
                if str(kind).lower() == "mock":  # deployed with the body and answered from its templates
                    continue
                build.unsupported(logical_id, f"{verb} {path} (integration type {kind}, not a Lambda proxy)")
                continue
            found.append((path, verb, target, integration))
    return found


def rest_api(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    body = props.get("Body") or {}
    if props.get("BodyS3Location"):
        build.unsupported(logical_id, "AWS::ApiGateway::RestApi.BodyS3Location (a definition in S3)")
    routes = [RestRoute(path, verb, target) for path, verb, target, _ in _operations(build, logical_id, body)]
    name = str(props.get("Name") or (body.get("info") or {}).get("title") or logical_id)
    binary = tuple(props.get("BinaryMediaTypes") or body.get("x-amazon-apigateway-binary-media-types") or ())
    build.stack.rest_apis.append(RestApi(logical_id, build.resolver.where.api_id(logical_id), name, routes,
                                         binary_media_types=binary, tags=build.tags(logical_id),
                                         body=body or None))


def _rest_api_of(build: Build, api_id: Any) -> RestApi | None:
    return next((api for api in build.stack.rest_apis if api.api_id == api_id), None)


def rest_stage(build: Build, logical_id: str) -> None:
    """A Stage, or a Deployment's StageName (SAM's implicit API has both: `Prod` and `Stage`)."""
    props = build.props(logical_id)
    api = _rest_api_of(build, props.get("RestApiId"))
    if api is not None and props.get("StageName") and props["StageName"] not in api.stages:
        api.stages = (*api.stages, str(props["StageName"]))


def rest_method(build: Build, logical_id: str) -> None:
    """AWS::ApiGateway::Method: a route, its path read from the Resource chain it hangs on."""
    props = build.props(logical_id)
    api = _rest_api_of(build, props.get("RestApiId"))
    target = integration_target(build, (props.get("Integration") or {}).get("Uri"))
    if api is None or target is None:
        build.unsupported(logical_id, "AWS::ApiGateway::Method without a Lambda proxy integration on a stack API")
        return
    api.routes.append(RestRoute(_resource_path(build, props.get("ResourceId")), str(props["HttpMethod"]).upper(),
                                target))


def _resource_path(build: Build, resource_id: Any) -> str:
    parts: list[str] = []
    by_id = {build.resolver.ref(lid): lid for lid, res in build.resolver.resources.items()
             if res.get("Type") == "AWS::ApiGateway::Resource" and build.resolver.included(lid)}
    while resource_id in by_id:
        props = build.props(by_id[resource_id])
        parts.insert(0, str(props.get("PathPart", "")))
        resource_id = props.get("ParentId")
    return "/" + "/".join(parts)


def http_api(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    if props.get("ProtocolType", "HTTP") != "HTTP" and not props.get("Body"):
        build.unsupported(logical_id, f"AWS::ApiGatewayV2::Api of protocol {props['ProtocolType']}")
        return
    body = props.get("Body") or {}
    routes = []
    for path, verb, target, integration in _operations(build, logical_id, body):
        key = "$default" if path == "$default" else f"{verb} {path}"
        routes.append(HttpRoute(key, target, str(integration.get("payloadFormatVersion", "2.0")),
                                int(integration.get("timeoutInMillis", 30000))))
    if props.get("Target"):  # quick create: one route, a $default stage
        target = build.target(props["Target"])
        if target is not None:
            routes.append(HttpRoute(str(props.get("RouteKey", "$default")), target))
    cors = props.get("CorsConfiguration") or _openapi_cors(body.get("x-amazon-apigateway-cors"))
    name = str(props.get("Name") or (body.get("info") or {}).get("title") or logical_id)
    build.stack.http_apis.append(HttpApi(logical_id, build.resolver.where.api_id(logical_id), name, routes,
                                         ("$default",) if props.get("Target") else (), cors,
                                         {**tag_dict(props.get("Tags")), **build.tags(logical_id)}))


def _openapi_cors(cors: Any) -> dict[str, Any] | None:
    """`x-amazon-apigateway-cors` (camelCase) as CreateApi's CorsConfiguration."""
    if not isinstance(cors, dict):
        return None
    return {key[0].upper() + key[1:]: value for key, value in cors.items()}


def _http_api_of(build: Build, api_id: Any) -> HttpApi | None:
    return next((api for api in build.stack.http_apis if api.api_id == api_id), None)


def http_stage(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    api = _http_api_of(build, props.get("ApiId"))
    if api is not None and props.get("StageName") not in api.stages:
        api.stages = (*api.stages, str(props["StageName"]))


def http_route(build: Build, logical_id: str) -> None:
    """AWS::ApiGatewayV2::Route whose Target is `integrations/<Ref to an Integration>`."""
    props = build.props(logical_id)
    api = _http_api_of(build, props.get("ApiId"))
    integration_id = str(props.get("Target", "")).removeprefix("integrations/")
    integration = next((build.props(lid) for lid, res in build.resolver.resources.items()
                        if res.get("Type") == "AWS::ApiGatewayV2::Integration" and build.resolver.included(lid)
                        and build.resolver.ref(lid) == integration_id), None)
    uri = (integration or {}).get("IntegrationUri")
    target = integration_target(build, uri) or build.target(uri) if integration else None
    if api is None or integration is None or target is None:
        build.unsupported(logical_id, "AWS::ApiGatewayV2::Route without a Lambda integration on a stack API")
        return
    api.routes.append(HttpRoute(str(props["RouteKey"]), target,
                                str(integration.get("PayloadFormatVersion", "2.0")),
                                int(integration.get("TimeoutInMillis", 30000))))
