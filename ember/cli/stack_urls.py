"""Every URL a deployed stack answers on: its function URLs and its APIs' stages with their routes, read from the
server as `ember urls` and `ember apis` read them, kept to the stack's own."""

from __future__ import annotations

from ember.apps.clients import Clients
from ember.apps.model import Stack
from ember.cli.apis import api_rows, rest_api_rows
from ember.cli.urls import url_rows


def url_lines(clients: Clients, stack: Stack, endpoint: str) -> list[str]:
    """A line per function URL and per route of each API stage, with the URL curl and a browser reach."""
    lines = []
    for name, qualifier, auth, _, url, path_url in url_rows(clients.lambda_, endpoint,
                                                           [f.name for f in stack.functions]):
        lines.append(f"  URL    {url}  ({name}{':' + qualifier if qualifier else ''}, auth {auth}; also {path_url})")
    http_ids = {api.api_id for api in stack.http_apis}
    rest_ids = {api.api_id for api in stack.rest_apis}
    rows = [*(api_rows(clients.apigatewayv2, endpoint, http_ids) if http_ids else []),
            *(rest_api_rows(clients.apigateway, endpoint, rest_ids) if rest_ids else [])]
    for _, name, stage, url, _, routes in rows:
        lines += [_route_line(route, url, f"{name}, stage {stage}") for route in routes.split(", ") if route != "-"]
    return lines


def _route_line(route: str, stage_url: str, where: str) -> str:
    """`GET /items/{id}` on `http://…/Prod/` → `  GET    http://…/Prod/items/{id}  (where)`; `$default` → any."""
    method, _, path = route.partition(" ")
    if route == "$default":
        method, path = "ANY", "/…"
    return f"  {method:<6} {stage_url.rstrip('/')}{path}  ({where})"
