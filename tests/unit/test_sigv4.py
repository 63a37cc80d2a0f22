"""ember.api.sigv4.verify against requests signed by botocore itself."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from ember.api.sigv4 import verify
from ember.errors import InvalidSignatureException, UnrecognizedClientException

URL = ("http://127.0.0.1:9000/2015-03-31/functions/"
       "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn/invocations?Qualifier=%24LATEST")
BODY = b'{"key": "value"}'
KNOWN = {"test": "test"}


def signed_request(*, secret: str = "test", key: str = "test", service: str = "lambda", region: str = "us-east-1",
                   body: bytes = BODY, at: datetime | None = None, headers: dict[str, str] | None = None,
                   auth_class: type[SigV4Auth] = SigV4Auth) -> AWSRequest:
    request = AWSRequest(method="POST", url=URL, data=body,
                         headers={"host": "127.0.0.1:9000", "content-type": "application/json", **(headers or {})})
    signer = auth_class(Credentials(key, secret), service, region)
    if at is None:
        signer.add_auth(request)
    else:
        with patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    return request


def server_headers(request: AWSRequest, drop: str | None = None) -> Headers:
    """The headers as Starlette hands them to the middleware: lowercase names, case-insensitive lookups."""
    return Headers(raw=[(name.lower().encode(), value.encode()) for name, value in request.headers.items()
                        if name.lower() != drop])


def test_valid_signature_returns_the_access_key():
    request = signed_request()
    assert verify("POST", URL, server_headers(request), BODY, KNOWN) == "test"


def test_valid_signature_for_a_second_known_key_returns_that_key():
    request = signed_request(key="AKIDEXAMPLE", secret="s3cr3t")
    credentials = {"test": "test", "AKIDEXAMPLE": "s3cr3t"}
    assert verify("POST", URL, server_headers(request), BODY, credentials) == "AKIDEXAMPLE"


def test_wrong_secret_is_an_invalid_signature():
    request = signed_request(secret="not-the-secret")
    with pytest.raises(InvalidSignatureException):
        verify("POST", URL, server_headers(request), BODY, KNOWN)


def test_unknown_access_key_is_an_unrecognized_client():
    request = signed_request(key="nobody")
    with pytest.raises(UnrecognizedClientException):
        verify("POST", URL, server_headers(request), BODY, KNOWN)


def test_missing_authorization_header_is_an_unrecognized_client():
    request = signed_request()
    with pytest.raises(UnrecognizedClientException):
        verify("POST", URL, server_headers(request, drop="authorization"), BODY, KNOWN)


def test_malformed_authorization_header_is_an_invalid_signature():
    headers = Headers(raw=[(b"host", b"127.0.0.1:9000"), (b"authorization", b"Bearer abc")])
    with pytest.raises(InvalidSignatureException):
        verify("POST", URL, headers, BODY, KNOWN)


class _HostlessSigner(SigV4Auth):
    def headers_to_sign(self, request):
        chosen = super().headers_to_sign(request)
        del chosen["host"]
        return chosen


def test_a_signature_that_leaves_host_out_is_refused_as_aws_refuses_it():
    """Else a captured request could be replayed against another host."""
    request = signed_request(auth_class=_HostlessSigner)
    assert "host" not in request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    with pytest.raises(InvalidSignatureException, match="'Host' or ':authority' must be a 'SignedHeader'"):
        verify("POST", URL, server_headers(request), BODY, KNOWN)


def test_tampered_body_is_an_invalid_signature():
    request = signed_request()
    with pytest.raises(InvalidSignatureException):
        verify("POST", URL, server_headers(request), b'{"key": "other"}', KNOWN)


def test_tampered_query_is_an_invalid_signature():
    request = signed_request()
    with pytest.raises(InvalidSignatureException):
        verify("POST", URL.replace("%24LATEST", "prod"), server_headers(request), BODY, KNOWN)


def test_tampered_method_is_an_invalid_signature():
    request = signed_request()
    with pytest.raises(InvalidSignatureException):
        verify("PUT", URL, server_headers(request), BODY, KNOWN)


def test_signature_20_minutes_old_is_an_invalid_signature():
    request = signed_request(at=datetime.now(UTC) - timedelta(minutes=20))
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        verify("POST", URL, server_headers(request), BODY, KNOWN)


def test_signature_20_minutes_in_the_future_is_an_invalid_signature():
    request = signed_request(at=datetime.now(UTC) + timedelta(minutes=20))
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        verify("POST", URL, server_headers(request), BODY, KNOWN)


def test_signature_5_minutes_old_is_accepted():
    request = signed_request(at=datetime.now(UTC) - timedelta(minutes=5))
    assert verify("POST", URL, server_headers(request), BODY, KNOWN) == "test"


def test_another_region_in_the_scope_is_accepted():
    request = signed_request(region="eu-west-1")
    assert "/eu-west-1/lambda/" in request.headers["Authorization"]
    assert verify("POST", URL, server_headers(request), BODY, KNOWN) == "test"


def test_logs_service_in_the_scope_is_accepted():
    request = signed_request(service="logs")
    assert "/us-east-1/logs/" in request.headers["Authorization"]
    assert verify("POST", URL, server_headers(request), BODY, KNOWN) == "test"


def test_tampered_body_is_refused_even_when_the_client_signed_a_content_sha256_header():
    request = signed_request(headers={"x-amz-content-sha256": hashlib.sha256(BODY).hexdigest()})
    with pytest.raises(InvalidSignatureException):
        verify("POST", URL, server_headers(request), b'{"key": "other"}', KNOWN)


class _SignsUserAgent(SigV4Auth):
    """A SigV4 signer that, like some non-botocore SDKs, includes User-Agent in SignedHeaders."""

    def headers_to_sign(self, request):
        header_map = super().headers_to_sign(request)
        header_map["user-agent"] = request.headers["user-agent"]
        return header_map


def test_valid_signature_over_user_agent_is_accepted():
    request = signed_request(headers={"User-Agent": "some-sdk/1.0"}, auth_class=_SignsUserAgent)
    assert "user-agent" in request.headers["Authorization"]
    assert verify("POST", URL, server_headers(request), BODY, KNOWN) == "test"


PLAIN_URL = "http://127.0.0.1:9000/2015-03-31/functions/fn-1_a.b~c/invocations"


@pytest.mark.parametrize("headers", [
    {},
    {"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()},
    {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    {"X-Amz-Invocation-Type": "  Event   now ", "X-Amz-Log-Type": "Tail"},
])
def test_the_plain_path_is_botocores_canonical_request(headers):
    """A plain path and no query take ember's own canonical request; botocore's must be the same string."""
    from ember.api.sigv4 import _plain_canonical_request, _Verifier

    request = AWSRequest(method="POST", url=PLAIN_URL, data=BODY,
                         headers={"host": "127.0.0.1:9000", "content-type": "application/json", **headers})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    seen = server_headers(request)
    names = request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    claimed = seen.get("x-amz-content-sha256") or None
    signed_only = AWSRequest(method="POST", url=PLAIN_URL, headers={name: seen.get(name, "") for name in names})
    botocores = _Verifier(Credentials("test", "test"), "lambda", "us-east-1", names, BODY, claimed)
    assert _plain_canonical_request("POST", PLAIN_URL, seen, BODY, names, claimed) == \
        botocores.canonical_request(signed_only)
    assert verify("POST", PLAIN_URL, seen, BODY, KNOWN) == "test"
    with pytest.raises(InvalidSignatureException):
        verify("POST", PLAIN_URL, seen, BODY, {"test": "other"})


@pytest.mark.parametrize("url", [URL, PLAIN_URL + "?Qualifier=1", "http://h/a//b", "http://h/a/./b", "http://h/a b"])
def test_anything_but_a_plain_path_goes_through_botocore(url):
    from ember.api.sigv4 import _plain_canonical_request

    assert _plain_canonical_request("POST", url, {}, b"", ["host"], None) is None
