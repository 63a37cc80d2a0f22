"""What is served unsigned: /metrics and /ember/info on loopback binds (or when configured), nothing else."""

from __future__ import annotations

import pytest
from asgi_call import call, signed
from botocore.awsrequest import AWSRequest
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from ember.api.middleware import AwsApiMiddleware
from ember.cli.serve import build_config

URL = "http://127.0.0.1:9000/metrics"


def app(open_paths: bool) -> AwsApiMiddleware:
    router = Router(routes=[Route("/metrics", lambda request: PlainTextResponse("ok"), methods=["GET"])])
    return AwsApiMiddleware(router, credentials={"AKIAOP": "secret"}, region="us-east-1", open_paths=open_paths)


def unsigned() -> AWSRequest:
    return AWSRequest(method="GET", url=URL, headers={"host": "127.0.0.1:9000"})


def test_metrics_are_unsigned_when_open():
    assert call(app(True), unsigned()).status == 200


def test_metrics_need_a_signature_when_not_open():
    assert call(app(False), unsigned()).status == 403
    assert call(app(False), signed("GET", URL, "AKIAOP", "secret")).status == 200


@pytest.mark.parametrize(("host", "flag", "expected"), [("127.0.0.1", False, True), ("0.0.0.0", False, False),
                                                         ("0.0.0.0", True, True)])
def test_open_paths_follow_the_bind(tmp_path, monkeypatch, host, flag, expected):
    monkeypatch.delenv("EMBER_CREDENTIALS", raising=False)
    (tmp_path / "credentials").write_text("AKIAOP secret\n")
    config = build_config(host, 0, str(tmp_path), "us-east-1", 600, "sigv4", unsigned_metrics=flag)
    assert config.open_paths is expected


def test_build_config_makes_the_data_dir_private(tmp_path, monkeypatch):
    monkeypatch.delenv("EMBER_CREDENTIALS", raising=False)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    build_config("127.0.0.1", 0, str(data_dir), "us-east-1", 600, "sigv4")
    assert data_dir.stat().st_mode & 0o777 == 0o700
