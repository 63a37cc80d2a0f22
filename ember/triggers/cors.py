"""A function URL's CORS, as Lambda applies it: preflights answered without invoking, and the URL's
settings on every response to an allowed origin (in place of any CORS headers the function sent)."""

from __future__ import annotations

from typing import Any

from ember.triggers.http_call import Headers, HttpCall, HttpResponse


def is_preflight(call: HttpCall, cors: dict[str, Any] | None) -> bool:
    """An OPTIONS a browser sends before a cross-origin call; without Cors the function gets it."""
    return (cors is not None and call.method == "OPTIONS" and call.header("origin") is not None
            and call.header("access-control-request-method") is not None)


def allowed_origin(cors: dict[str, Any], origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin to send, None when the origin is not allowed."""
    if not origin:
        return None
    origins = cors.get("AllowOrigins") or []
    if origin in origins:
        return origin
    if "*" in origins:
        return origin if cors.get("AllowCredentials") else "*"
    return None


def preflight(call: HttpCall, cors: dict[str, Any], status: int = 200) -> HttpResponse:
    """`status` (a URL's 200, an HTTP API's 204) with the CORS settings for an allowed origin; nothing for another."""
    origin = allowed_origin(cors, call.header("origin"))
    if origin is None:
        return HttpResponse(status, [], b"")
    headers = _origin_headers(cors, origin)
    if cors.get("AllowMethods"):
        headers.append(("access-control-allow-methods", ",".join(cors["AllowMethods"])))
    if cors.get("AllowHeaders"):
        headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
    if cors.get("MaxAge") is not None:
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    return HttpResponse(status, headers, b"")


def with_cors(headers: Headers, call: HttpCall, cors: dict[str, Any] | None) -> Headers:
    """A response's headers with the URL's CORS in place of the function's own."""
    if cors is None:
        return headers
    kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
    origin = allowed_origin(cors, call.header("origin"))
    if origin is None:
        return kept
    extra = _origin_headers(cors, origin)
    if cors.get("ExposeHeaders"):
        extra.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    return kept + extra


def _origin_headers(cors: dict[str, Any], origin: str) -> Headers:
    headers = [("access-control-allow-origin", origin)]
    if origin != "*":
        headers.append(("vary", "Origin"))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    return headers
