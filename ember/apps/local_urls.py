"""AWS's API and function URL hosts → the hosts Ember answers on, for Outputs printed after a deploy.

Templates build URLs as AWS names them (`https://${ServerlessRestApi}.execute-api.${AWS::Region}.
${AWS::URLSuffix}/Prod/hello/`, `!GetAtt FnUrl.FunctionUrl`). Ember's gateway serves an API at
`http://<api-id>.execute-api.<region>.localhost:<port>/<stage>/…` and a function URL at
`http://<url-id>.lambda-url.<region>.localhost:<port>/` (`*.localhost` resolves to the loopback address without
any DNS set-up), so a URL in an Output is rewritten host by host; nothing else in it changes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ember.apps.model import Output

AWS_HOSTS = re.compile(
    r"https://([a-z0-9]+)\.(execute-api)\.([a-z0-9-]+)\.amazonaws\.com"
    r"|https://([a-z0-9]+)\.(lambda-url)\.([a-z0-9-]+)\.on\.aws"
)


def local_url(text: str, endpoint: str) -> str:
    """Every execute-api and lambda-url host in `text`, pointed at Ember's `endpoint` (http://host:port)."""
    port = urlsplit(endpoint).port or 80

    def replace(match: re.Match[str]) -> str:
        label, service, region = (match.group(1), match.group(2), match.group(3)) if match.group(1) else \
            (match.group(4), match.group(5), match.group(6))
        return f"http://{label}.{service}.{region}.localhost:{port}"
    return AWS_HOSTS.sub(replace, text)


def local_outputs(outputs: dict[str, Output], endpoint: str) -> dict[str, Any]:
    """Output name → value as a user of this Ember server would use it."""
    return {name: _local(output.value, endpoint) for name, output in outputs.items()}


def _local(value: Any, endpoint: str) -> Any:
    if isinstance(value, str):
        return local_url(value, endpoint)
    if isinstance(value, list):
        return [_local(item, endpoint) for item in value]
    return value
