"""`ember urls`: every function URL, in both of its forms (the *.localhost host and the path prefix)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def path_form(function_url: str, endpoint: str) -> str:
    """The same URL for clients that can't resolve *.localhost: the endpoint, then /_aws/lambda-url/<id>/."""
    url_id = (urlsplit(function_url).hostname or "").split(".", 1)[0]
    return f"{endpoint.rstrip('/')}/_aws/lambda-url/{url_id}/"


def url_rows(client: Any, endpoint: str, names: list[str]) -> list[tuple[str, str, str, str, str, str]]:
    """(function, qualifier, auth, invoke mode, URL, path URL) per URL of each function."""
    rows = []
    for name in names:
        for page in client.get_paginator("list_function_url_configs").paginate(FunctionName=name):
            for config in page["FunctionUrlConfigs"]:
                arn_parts = config["FunctionArn"].split(":")
                qualifier = arn_parts[7] if len(arn_parts) > 7 else ""
                rows.append((name, qualifier, config["AuthType"], config.get("InvokeMode", "BUFFERED"),
                             config["FunctionUrl"], path_form(config["FunctionUrl"], endpoint)))
    return rows


def function_names(client: Any) -> list[str]:
    return [fn["FunctionName"] for page in client.get_paginator("list_functions").paginate()
            for fn in page["Functions"]]
