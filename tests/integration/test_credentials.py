"""No public keys on a real deployment: which keys a real `ember serve` accepts, for which API and region,
who may download code, and who may read the data dir."""

from __future__ import annotations

import stat
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from conftest import ROLE, EmberProcess, make_zip

pytestmark = pytest.mark.integration

KEY, SECRET = "AKIAEMBERTESTKEY0001", "a-real-secret-nobody-knows"


def client(url: str, key: str = KEY, secret: str = SECRET, region: str = "us-east-1", service: str = "lambda"):
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose credentials file holds one key."""
    data_dir = tmp_path_factory.mktemp("keys")
    (data_dir / "credentials").write_text(f"{KEY} {SECRET}\n")
    started = EmberProcess(data_dir).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def function(server):
    name = f"c-{uuid.uuid4().hex[:8]}"
    client(server.url).create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                                       Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    return name


def test_the_configured_key_works(server):
    assert "Functions" in client(server.url).list_functions()


def test_test_test_is_rejected_once_a_key_is_configured(server):
    public = client(server.url, "test", "test")
    with pytest.raises(public.exceptions.ClientError) as raised:
        public.list_functions()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_ember_credentials_replaces_test_test(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CREDENTIALS", f"{KEY}:{SECRET}")
    started = EmberProcess(tmp_path / "data").start()
    try:
        assert "Functions" in client(started.url).list_functions()
        with pytest.raises(client(started.url).exceptions.ClientError):
            client(started.url, "test", "test").list_functions()
    finally:
        started.stop()


def test_a_scope_for_another_region_is_rejected(server):
    elsewhere = client(server.url, region="eu-west-1")
    with pytest.raises(elsewhere.exceptions.ClientError) as raised:
        elsewhere.list_functions()
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "valid region, not 'eu-west-1'" in raised.value.response["Error"]["Message"]


def test_a_scope_for_another_service_is_rejected(server):
    request = AWSRequest(method="GET", url=f"{server.url}/2015-03-31/functions/", headers={})
    SigV4Auth(Credentials(KEY, SECRET), "logs", "us-east-1").add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers)), timeout=10)
    assert raised.value.code == 403
    assert b"Credential should be scoped to correct service: 'lambda'." in raised.value.read()


def test_the_logs_api_takes_its_own_signing_name(server, function):
    logs = client(server.url, service="logs")
    assert logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"] == []


def test_code_downloads_need_the_presigned_link(server, function):
    location = client(server.url).get_function(FunctionName=function)["Code"]["Location"]
    assert urllib.request.urlopen(location, timeout=10).read()[:2] == b"PK"
    bare = location.split("?", 1)[0]
    tampered = location[:-4] + ("0000" if not location.endswith("0000") else "1111")
    for url in (bare, tampered):
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(url, timeout=10)
        with raised.value as error:  # it holds the unread answer and its socket: closed here, not by the GC
            assert error.code == 403


def test_the_data_dir_is_the_servers_users_alone(server):
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    for name in ("ember.db", "ember.db-wal", "ember.db-shm"):
        path = server.data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
