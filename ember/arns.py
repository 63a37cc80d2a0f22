"""Lambda's names and ARNs: parse what a client may send, build what AWS returns."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from ember.config import ACCOUNT_ID

NAME_RE = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_ARN_RE = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?P<account>\d{12}):function:"
    r"(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>[a-zA-Z0-9-_$]+))?$"
)
_QUALIFIED_NAME_RE = re.compile(r"^(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>[a-zA-Z0-9-_$]+))?$")


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None


def parse_function_ref(raw: str, qualifier: str | None = None) -> FunctionRef | None:
    """Accept a name, name:qualifier, partial or full ARN (percent-encoded or not); None if none fits."""
    text = unquote(raw)
    match = _ARN_RE.match(text) or _QUALIFIED_NAME_RE.match(text)
    if not match or len(match["name"]) > 64:
        return None
    embedded = match["qualifier"]
    if embedded and qualifier and embedded != qualifier:
        return None
    return FunctionRef(match["name"], embedded or qualifier)


def function_arn(region: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


_INVOCATIONS_RE = re.compile(
    r"^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(?P<arn>[^/]+)/invocations$")


@functools.lru_cache(maxsize=4096)
def integration_function(uri: str) -> FunctionRef | None:
    """The function an API Gateway AWS_PROXY integration invokes: a function or alias ARN, or the
    `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations` form SAM emits."""
    match = _INVOCATIONS_RE.match(uri)
    arn = match["arn"] if match else uri
    return parse_function_ref(arn) if arn.startswith("arn:") else None


def execute_api_arn(region: str, api_id: str, stage: str, method: str, path: str) -> str:
    """The `AWS:SourceArn` API Gateway sends when it invokes for a route: `<api>/<stage>/<METHOD>/<route path>`,
    or `<api>/<stage>/$default` for the `$default` route (method and path empty)."""
    resource = f"{api_id}/{stage}/{method}{path}" if method else f"{api_id}/{stage}/$default"
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{resource}"
LAYER_NAME_RE = re.compile(r"^[a-zA-Z0-9-_]+$")
_LAYER_ARN_RE = re.compile(r"^arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):layer:"
                           r"(?P<name>[a-zA-Z0-9-_]+)(?::(?P<version>[0-9]+))?$")


@dataclass(frozen=True)
class LayerRef:
    name: str
    region: str | None = None  # None: a bare name, this server's region and account
    account: str | None = None
    version: int | None = None


def parse_layer_ref(raw: str) -> LayerRef | None:
    """A layer name, or a layer (version) ARN; None if neither."""
    if LAYER_NAME_RE.match(raw):
        return LayerRef(raw)
    match = _LAYER_ARN_RE.match(raw)
    if match is None:
        return None
    version = int(match["version"]) if match["version"] is not None else None
    return LayerRef(match["name"], match["region"], match["account"], version)


def layer_arn(region: str, name: str, version: int | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:layer:{name}"
    return f"{base}:{version}" if version is not None else base
