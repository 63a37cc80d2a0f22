"""What arrived over HTTP and where it was routed: the plain data every HTTP payload is built from.

No I/O and no framework types: the front door fills an `HttpCall` from the ASGI scope, the router
of a function URL or an API fills a `RouteContext`, and ember.triggers.http_events turns the pair
into the event AWS would deliver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ember.config import ACCOUNT_ID

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request as sent: the path still percent-encoded, headers in arrival order."""

    method: str
    path: str  # without Ember's own /_aws/... prefix, if it came that way
    query: str  # the raw query string, without '?'
    headers: Headers
    body: bytes
    source_ip: str
    user_agent: str
    time: float  # epoch seconds when it arrived
    protocol: str = "HTTP/1.1"
    prefix: str = ""  # Ember's path prefix it came through (/_aws/lambda-url/<id>), "" when routed by Host
    raw_path: str = ""  # the path exactly as sent, prefix included ("" when it is `path`)

    @property
    def sent_path(self) -> str:
        """The path exactly as the client sent it (and signed it, for SigV4)."""
        return self.raw_path or self.path

    def header(self, name: str) -> str | None:
        """The first value of a header (names compare case-insensitively)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class RouteContext:
    """Where a call was routed: which URL or API, stage and route, and who the caller proved to be."""

    api_id: str  # the API's id, or a function URL's url-id
    domain_name: str  # as AWS names it: <id>.lambda-url.<region>.on.aws, <id>.execute-api.<region>.amazonaws.com
    request_id: str
    stage: str = "$default"
    route_key: str = "$default"
    resource_path: str | None = None  # format 1.0's `resource`: the route's path template ("/{proxy+}")
    resource_id: str | None = None  # a REST API's resource id (requestContext.resourceId)
    path_parameters: dict[str, str] | None = None
    stage_variables: dict[str, str] | None = None
    account_id: str = ACCOUNT_ID  # function URLs with AuthType NONE say "anonymous"
    authorizer: dict[str, Any] | None = None  # format 2.0's requestContext.authorizer, e.g. {"iam": {...}}
    identity: dict[str, Any] = field(default_factory=dict)  # format 1.0's identity fields a signed caller fills
    binary_media_types: tuple[str, ...] = ()  # REST APIs: which request bodies are passed base64-encoded

    @property
    def domain_prefix(self) -> str:
        return self.domain_name.split(".", 1)[0]


@dataclass
class HttpResponse:
    """What goes back to the HTTP client: status, headers in order (repeats allowed), body."""

    status: int
    headers: Headers
    body: bytes
