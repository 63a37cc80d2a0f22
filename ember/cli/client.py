"""boto3 clients for the CLI: the Ember endpoint, with test/test and us-east-1 unless configured."""

from __future__ import annotations

import os
from typing import Any

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"


def endpoint_url(flag: str | None) -> str:
    return flag or os.environ.get("EMBER_ENDPOINT_URL") or DEFAULT_ENDPOINT


def aws_client(service: str, endpoint: str) -> Any:
    """Credentials and region come from the usual AWS places, falling back to Ember's defaults."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    credentials = session.get_credentials()
    keys = {} if credentials else {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    region = session.region_name or "us-east-1"
    config = Config(retries={"max_attempts": 1}, read_timeout=960, connect_timeout=5)
    return session.client(service, endpoint_url=endpoint, region_name=region, config=config, **keys)
