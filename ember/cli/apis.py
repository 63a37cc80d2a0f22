"""`ember apis`: every HTTP API stage's invoke URL, in both forms (the *.localhost host and the path prefix)."""

from __future__ import annotations

from typing import Any


def api_rows(client: Any, endpoint: str) -> list[tuple[str, str, str, str, str, str]]:
    """(API id, name, stage, URL, path URL, routes) per stage of each HTTP API; a stageless API has one `-` row."""
    rows = []
    for api in client.get_apis()["Items"]:
        api_id = api["ApiId"]
        routes = ", ".join(sorted(route["RouteKey"] for route in client.get_routes(ApiId=api_id)["Items"])) or "-"
        for stage in client.get_stages(ApiId=api_id)["Items"] or [{"StageName": "-"}]:
            name = stage["StageName"]
            suffix = "" if name in ("$default", "-") else f"/{name}"
            path_url = f"{endpoint.rstrip('/')}/_aws/execute-api/{api_id}{suffix}/"
            rows.append((api_id, api["Name"], name, api["ApiEndpoint"] + suffix, path_url, routes))
    return rows
