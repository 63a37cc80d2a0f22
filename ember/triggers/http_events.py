"""The events API Gateway and function URLs deliver: payload format 2.0, 1.0, and the REST API's 1.0.

Pure functions of an `HttpCall` and its `RouteContext`, checked field by field against AWS's own
samples (aws-lambda-go's events/testdata, tests/unit/test_http_payloads.py). AWS's rules kept here:
- 2.0: header names lower-cased, repeated headers and query keys joined with commas, Cookie headers
  moved to `cookies`; `cookies`, `queryStringParameters`, `pathParameters`, `stageVariables`,
  `body` and `requestContext.authorizer` are left out when there is nothing to put in them.
- 1.0: `headers`/`queryStringParameters` hold a repeated name's last value and the `multiValue*`
  twins every value; empty ones are null, as are `pathParameters`, `stageVariables` and `body`.
- A body is passed as text only for text content types in UTF-8 (HTTP APIs and function URLs), or
  unless its type is one of a REST API's binary media types; otherwise base64.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import unquote

from ember.triggers.http_call import HttpCall, RouteContext

# Bodies HTTP APIs and function URLs pass as text; any other type (none, forms included) goes base64.
TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
TEXT_CHARSETS = frozenset({"", "utf-8", "utf8"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Format 1.0's identity: every field a caller did not prove is null.
IDENTITY_FIELDS = ("accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
                   "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "sourceIp", "user", "userAgent",
                   "userArn")
REST_IDENTITY_FIELDS = ("apiKey", "apiKeyId", *IDENTITY_FIELDS)


def event_v2(call: HttpCall, route: RouteContext) -> dict[str, Any]:
    """Payload format 2.0, as HTTP APIs and function URLs build it."""
    event: dict[str, Any] = {"version": "2.0", "routeKey": route.route_key, "rawPath": call.path,
                             "rawQueryString": call.query}
    cookies = cookies_of(call)
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined(call.headers, lower=True, skip="cookie")
    query = query_pairs(call.query)
    if query:
        event["queryStringParameters"] = joined(query)
    if route.path_parameters:
        event["pathParameters"] = dict(route.path_parameters)
    if route.stage_variables:
        event["stageVariables"] = dict(route.stage_variables)
    event["requestContext"] = _context_v2(call, route)
    if call.body:
        event["body"], event["isBase64Encoded"] = body_of(call.body, call.header("content-type"))
    else:
        event["isBase64Encoded"] = False
    return event


def _context_v2(call: HttpCall, route: RouteContext) -> dict[str, Any]:
    context: dict[str, Any] = {"accountId": route.account_id, "apiId": route.api_id}
    if route.authorizer is not None:
        context["authorizer"] = route.authorizer
    context.update({
        "domainName": route.domain_name, "domainPrefix": route.domain_prefix,
        "http": {"method": call.method, "path": call.path, "protocol": call.protocol, "sourceIp": call.source_ip,
                 "userAgent": call.user_agent},
        "requestId": route.request_id, "routeKey": route.route_key, "stage": route.stage,
        "time": clf_time(call.time), "timeEpoch": int(call.time * 1000)})
    return context


def event_v1(call: HttpCall, route: RouteContext, rest: bool) -> dict[str, Any]:
    """Payload format 1.0: an HTTP API's (`version` "1.0") or, with `rest`, a REST API's proxy event."""
    path = stage_relative(call.path, route.stage) if rest else call.path
    resource = route.resource_path or path
    event: dict[str, Any] = {} if rest else {"version": "1.0"}
    query = query_pairs(call.query)
    headers = header_names(call.headers, lower=not rest)
    event.update({
        "resource": resource, "path": path, "httpMethod": call.method,
        "headers": last_values(headers) or None, "multiValueHeaders": grouped(headers) or None,
        "queryStringParameters": last_values(query) or None,
        "multiValueQueryStringParameters": grouped(query) or None,
        "requestContext": _context_v1(call, route, rest, resource),
        "pathParameters": dict(route.path_parameters) if route.path_parameters else None,
        "stageVariables": dict(route.stage_variables) if route.stage_variables else None,
    })
    content_type = call.header("content-type")
    if not call.body:
        event["body"], event["isBase64Encoded"] = None, False
    elif rest:
        binary = media_type(content_type)[0] in route.binary_media_types
        event["body"] = base64.b64encode(call.body).decode() if binary else call.body.decode("utf-8", "replace")
        event["isBase64Encoded"] = binary
    else:
        event["body"], event["isBase64Encoded"] = body_of(call.body, content_type)
    return event


def _context_v1(call: HttpCall, route: RouteContext, rest: bool, resource: str) -> dict[str, Any]:
    fields = REST_IDENTITY_FIELDS if rest else IDENTITY_FIELDS
    identity: dict[str, Any] = {name: None for name in fields}
    identity.update(sourceIp=call.source_ip, userAgent=call.user_agent or None, **route.identity)
    context: dict[str, Any] = {"accountId": route.account_id, "apiId": route.api_id}
    if route.authorizer is not None:
        context["authorizer"] = route.authorizer
    context.update({
        "domainName": route.domain_name, "domainPrefix": route.domain_prefix,
        "extendedRequestId": route.request_id, "httpMethod": call.method, "identity": identity,
        "path": call.path, "protocol": call.protocol, "requestId": route.request_id,
        "requestTime": clf_time(call.time), "requestTimeEpoch": int(call.time * 1000),
        "resourceId": (route.resource_id or resource_id(route.api_id, resource)) if rest else None,
        "resourcePath": resource, "stage": route.stage})
    return context


def stage_relative(path: str, stage: str) -> str:
    """A REST API's `path`: the request path without its leading /{stage}."""
    prefix = f"/{stage}"
    if path == prefix:
        return "/"
    return path[len(prefix):] if path.startswith(prefix + "/") else path


def resource_id(api_id: str, resource: str) -> str:
    """A stable 6-character id per resource, shaped like API Gateway's (`roq9wj`)."""
    digest = base64.b32encode(f"{api_id}{resource}".encode()).decode().lower()
    return digest[:6]


def cookies_of(call: HttpCall) -> list[str]:
    """Every cookie of every Cookie header, in order, as format 2.0's `cookies`."""
    cookies: list[str] = []
    for name, value in call.headers:
        if name.lower() == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
    return cookies


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The raw query string as decoded (name, value) pairs in order; a bare name has the value ""."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def joined(pairs: list[tuple[str, str]], lower: bool = False, skip: str | None = None) -> dict[str, str]:
    """Format 2.0's maps: a repeated name's values joined with commas."""
    result: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        if key == skip:
            continue
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def header_names(headers: list[tuple[str, str]], lower: bool) -> list[tuple[str, str]]:
    """Headers with one spelling per name: lower-case (HTTP APIs), or the first one seen (REST APIs)."""
    spelling: dict[str, str] = {}
    return [(name.lower() if lower else spelling.setdefault(name.lower(), name), value) for name, value in headers]


def last_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Format 1.0's single-value maps: the last value of a repeated name wins."""
    return dict(pairs)


def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Format 1.0's multi-value maps: every value, in order."""
    result: dict[str, list[str]] = {}
    for name, value in pairs:
        result.setdefault(name, []).append(value)
    return result


def media_type(content_type: str | None) -> tuple[str, str]:
    """(type/subtype, charset), both lower-case; ("", "") for none."""
    if not content_type:
        return "", ""
    kind, *params = content_type.split(";")
    charset = ""
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def is_text(content_type: str | None) -> bool:
    """AWS's rule for HTTP APIs and function URLs: text/*, JSON, XML and JavaScript, in UTF-8."""
    kind, charset = media_type(content_type)
    return (kind.startswith("text/") or kind in TEXT_TYPES) and charset in TEXT_CHARSETS


def body_of(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """(body, isBase64Encoded) for format 2.0 and HTTP APIs' 1.0."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # declared text but not UTF-8: passed safely as binary
    return base64.b64encode(body).decode(), True


def clf_time(epoch_s: float) -> str:
    """`12/Mar/2020:19:03:58 +0000`, whatever the process's locale."""
    t = time.gmtime(epoch_s)
    return f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
