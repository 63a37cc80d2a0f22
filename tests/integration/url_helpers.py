"""Function URLs from a test: make one public as AWS requires, and call it over plain HTTP (urllib)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes


def allow_public(client, name: str, qualifier: str | None = None) -> None:
    """The two statements AWS has required since October 2025 for an AuthType NONE URL."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    client.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                          FunctionUrlAuthType="NONE", **extra)
    client.add_permission(FunctionName=name, StatementId="invoke-via-url", Action="lambda:InvokeFunction",
                          Principal="*", InvokedViaFunctionUrl=True, **extra)


def public_url(client, name: str, **settings: object) -> str:
    """A NONE URL anyone may call; returns its url-id."""
    allow_public(client, name, settings.get("Qualifier"))  # type: ignore[arg-type]
    created = client.create_function_url_config(FunctionName=name, AuthType="NONE", **settings)
    return url_id_of(created["FunctionUrl"])


def url_id_of(function_url: str) -> str:
    return urlsplit(function_url).hostname.split(".")[0]


def path_form(ember_url: str, url_id: str, path: str = "/") -> str:
    return f"{ember_url}/_aws/lambda-url/{url_id}{path}"


def fetch(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
          host: str | None = None) -> Reply:
    """One request; `host` sends that Host header to the address in `url` (the *.localhost form)."""
    request = urllib.request.Request(url, data=body, method=method, headers={**(headers or {}),
                                                                            **({"Host": host} if host else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def host_form(ember_url: str, url_id: str, path: str = "/", region: str = "us-east-1") -> tuple[str, str]:
    """(the address to connect to, the Host header naming the URL) for urllib, which can't resolve *.localhost."""
    port = urlsplit(ember_url).port
    return f"{ember_url}{path}", f"{url_id}.lambda-url.{region}.localhost:{port}"
