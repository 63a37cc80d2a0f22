"""`ember apis`: every API stage's invoke URL, in both forms (the *.localhost host and the path prefix), and its
routes: HTTP APIs (apigatewayv2) and REST APIs (apigateway), a row per stage."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

Row = tuple[str, str, str, str, str, str]


def api_rows(client: Any, endpoint: str, only: set[str] | None = None) -> list[Row]:
    """(API id, name, stage, URL, path URL, routes) per stage of each HTTP API (of those `only` names); a stageless
    API has one `-` row."""
    rows = []
    for api in client.get_apis()["Items"]:
        api_id = api["ApiId"]
        if only is not None and api_id not in only:
            continue
        routes = ", ".join(sorted(route["RouteKey"] for route in client.get_routes(ApiId=api_id)["Items"])) or "-"
        for stage in client.get_stages(ApiId=api_id)["Items"] or [{"StageName": "-"}]:
            name = stage["StageName"]
            suffix = "" if name in ("$default", "-") else f"/{name}"
            path_url = f"{endpoint.rstrip('/')}/_aws/execute-api/{api_id}{suffix}/"
            rows.append((api_id, api["Name"], name, api["ApiEndpoint"] + suffix, path_url, routes))
    return rows


def rest_api_rows(client: Any, endpoint: str, only: set[str] | None = None) -> list[Row]:
    """The same per stage of each REST API, with the methods its deployment serves (`-`: nothing deployed).
    A REST API has no ApiEndpoint field: its host is AWS's, under `.localhost`, on the server's port."""
    rows = []
    port = urlsplit(endpoint).port
    for page in client.get_paginator("get_rest_apis").paginate():
        for api in page["items"]:
            api_id = api["id"]
            if only is not None and api_id not in only:
                continue
            host = f"http://{api_id}.execute-api.{client.meta.region_name}.localhost" + (f":{port}" if port else "")
            for stage in client.get_stages(restApiId=api_id)["item"] or [{"stageName": "-"}]:
                name = stage["stageName"]
                summary = (client.get_deployment(restApiId=api_id, deploymentId=stage["deploymentId"])["apiSummary"]
                           if "deploymentId" in stage else {})
                routes = ", ".join(sorted(f"{method} {path}" for path, methods in summary.items()
                                          for method in methods)) or "-"
                suffix = "" if name == "-" else f"/{name}"
                rows.append((api_id, api["name"], name, f"{host}{suffix}/",
                             f"{endpoint.rstrip('/')}/_aws/execute-api/{api_id}{suffix}/", routes))
    return rows
