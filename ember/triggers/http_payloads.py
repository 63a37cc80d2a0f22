"""HTTP triggers' payloads in one import: what arrived, where it went, the event, and the response.

Pure functions, no I/O: see ember.triggers.http_events (requests → events) and
ember.triggers.http_responses (function output → HTTP response, and the gateways' errors).
"""

from __future__ import annotations

from ember.triggers.http_call import Headers, HttpCall, HttpResponse, RouteContext
from ember.triggers.http_events import event_v1, event_v2, is_text
from ember.triggers.http_responses import (
    MalformedResponse,
    http_api_error,
    json_message,
    response_v1,
    response_v2,
    rest_api_error,
    url_error,
)

__all__ = ["Headers", "HttpCall", "HttpResponse", "MalformedResponse", "RouteContext", "event_v1", "event_v2",
           "http_api_error", "is_text", "json_message", "response_v1", "response_v2", "rest_api_error", "url_error"]
