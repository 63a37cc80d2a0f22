"""REST APIs (API Gateway v1) as templates declare them: stages, resources with methods, Lambda proxy targets.

There is no `apigateway` (v1) control plane: a SAM or serverless.yml deployment creates REST APIs
through this Python API (`RestApis.create(api_id, stage, routes=[(method, resource_path, function_arn)])`),
kept beside the HTTP APIs in the same store so they survive a restart. A REST API lives at
`http://<api-id>.execute-api.<region>.localhost:<port>/<stage>/…`, like AWS's
`https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/…`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ember.arns import integration_function
from ember.triggers.api_store import ApiStore, Record, new_id, now
from ember.triggers.http_routes import RouteKeyError, parse_route_key

KIND = "restapi"
STAGE_RE = re.compile(r"^[a-zA-Z0-9_]{1,128}$")
TIMEOUT_S = 29.0  # a REST API's integration timeout (API Gateway's default, and Lambda proxies' usual)


class RestApis:
    def __init__(self, store: ApiStore, endpoint: Callable[[str], str]) -> None:
        self.store = store
        self.endpoint = endpoint

    def create(self, api_id: str | None, stage: str, routes: Iterable[tuple[str, str, str]], name: str = "",
               stage_variables: dict[str, str] | None = None, binary_media_types: Iterable[str] = ()) -> Record:
        """A REST API (or a new version of it: the same id replaces it) with one deployed stage.
        Raises ValueError, naming what is wrong, for a stage, route or function ARN AWS would refuse."""
        api_id = api_id or new_id()
        if self.store.get(api_id, "api", api_id) is not None:
            raise ValueError(f"{api_id} is an HTTP API's id")
        if not STAGE_RE.match(stage):
            raise ValueError(f"invalid stage name {stage!r}: a-zA-Z0-9_ only")
        record: Record = {"id": api_id, "name": name or api_id, "createdDate": now(),
                          "stages": {stage: {"variables": dict(stage_variables or {})}},
                          "binaryMediaTypes": list(binary_media_types),
                          "routes": [_route(method, path, arn) for method, path, arn in routes]}
        self.store.put(api_id, KIND, api_id, record)
        return record

    def get(self, api_id: str) -> Record | None:
        return self.store.get(api_id, KIND, api_id)

    def list(self) -> list[Record]:
        return [record for api_id in self.store.ids(KIND) if (record := self.get(api_id)) is not None]

    def delete(self, api_id: str) -> None:
        if self.get(api_id) is not None:
            self.store.delete_api(api_id)

    def url(self, api_id: str, stage: str) -> str:
        """Where a stage is invoked (the `…/Prod/` SAM prints for its hello world)."""
        return f"{self.endpoint(api_id)}/{stage}/"


def _route(method: str, path: str, function_arn: str) -> dict[str, Any]:
    try:
        parse_route_key(f"{method.upper()} {path}")
    except RouteKeyError as exc:
        raise ValueError(str(exc)) from None
    if integration_function(function_arn) is None:
        raise ValueError(f"not a function ARN or Lambda invocation URI: {function_arn}")
    return {"method": method.upper(), "resource": path, "uri": function_arn}
