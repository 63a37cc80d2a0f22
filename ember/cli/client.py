"""boto3 clients for the CLI: the Ember endpoint, with test/test and us-east-1 unless configured; and
Ember's own routes (the failed-events store), signed the same way."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"


def endpoint_url(flag: str | None) -> str:
    return flag or os.environ.get("EMBER_ENDPOINT_URL") or DEFAULT_ENDPOINT


@cache
def _session() -> Any:
    """One boto3 session for the whole command: making one reads botocore's data again (~0.4 s each)."""
    import boto3

    return boto3.session.Session()


def client_region() -> str:
    """The region the CLI's clients sign for, which must be the server's (`ember serve --region`)."""
    return str(_session().region_name or "us-east-1")


def aws_client(service: str, endpoint: str) -> Any:
    """Credentials and region come from the usual AWS places, falling back to Ember's defaults."""
    from botocore.config import Config

    session = _session()
    credentials = session.get_credentials()
    keys = {} if credentials else {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    region = session.region_name or "us-east-1"
    config = Config(retries={"max_attempts": 1}, read_timeout=960, connect_timeout=5)
    return session.client(service, endpoint_url=endpoint, region_name=region, config=config, **keys)


def ember_api(endpoint: str, method: str, path: str) -> Any:
    """One call to an Ember route that no AWS client models, signed as a `lambda` request with the keys
    boto3 would use. Errors come back as botocore's (ClientError, EndpointConnectionError), so the CLI
    reports them as it reports any API call's."""
    import urllib.error
    import urllib.request

    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError, EndpointConnectionError

    session = boto3.session.Session()
    url = endpoint.rstrip("/") + path
    signed = AWSRequest(method=method, url=url, data=b"")
    SigV4Auth(session.get_credentials() or Credentials("test", "test"), "lambda",
              session.region_name or "us-east-1").add_auth(signed)
    request = urllib.request.Request(url, data=b"" if method != "GET" else None, method=method,
                                     headers=dict(signed.headers.items()))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the user's own endpoint)
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise ClientError(_error_response(exc), f"{method} {path}") from None
    except urllib.error.URLError as exc:
        raise EndpointConnectionError(endpoint_url=endpoint) from exc


def _error_response(exc: Any) -> Any:
    """AWS's error shape (`X-Amzn-ErrorType`, `{"message": …}`) as botocore parses it."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    code = exc.headers.get("X-Amzn-ErrorType") or body.get("__type") or str(exc.code)
    message = body.get("message") or body.get("Message") or str(exc.reason)
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": exc.code}}
