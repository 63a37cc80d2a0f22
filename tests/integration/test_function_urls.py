"""Function URLs end to end: boto3's lambda client for the configs, plain HTTP (urllib, curl) for the calls."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from conftest import ROLE, EmberProcess, lambda_client, make_zip
from test_cli import ember_cli
from url_helpers import allow_public, fetch, host_form, path_form, public_url, url_id_of

pytestmark = pytest.mark.integration

ECHO = """import base64, json
def handler(event, context):
    path = event["rawPath"]
    if path == "/crash":
        raise ValueError("boom")
    if path == "/malformed":
        return {"statusCode": "not a status"}
    if path == "/bare":
        return "hello"
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 201, "cookies": ["a=1; Max-Age=60", "b=2"], "headers": {"x-custom": "yes"},
                "body": "made"}
    return {"statusCode": 200, "headers": {"content-type": "application/json", "access-control-allow-origin": "mine"},
            "body": json.dumps(event)}
"""
STREAMER = """exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201, headers: { "content-type": "text/plain", "x-streamed": "yes" }, cookies: ["s=1"] });
  stream.write("first,");
  await new Promise((resolve) => setTimeout(resolve, 300));
  stream.write("second");
  stream.end();
});
"""
URL_RE = re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/$")
FORBIDDEN = {"Message": "Forbidden"}


def event_of(reply) -> dict:
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def test_url_configs_are_created_read_updated_listed_and_deleted(client, deploy, ember):
    name = deploy(ECHO)
    created = client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    match = URL_RE.match(created["FunctionUrl"])
    assert match and match.group(2) == ember.url.rsplit(":", 1)[1]
    assert created["FunctionArn"].endswith(f":function:{name}") and created["AuthType"] == "AWS_IAM"
    assert created["InvokeMode"] == "BUFFERED" and "Cors" not in created and "LastModifiedTime" not in created
    got = client.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == created["FunctionUrl"] and got["CreationTime"] == got["LastModifiedTime"]
    cors = {"AllowOrigins": ["https://app.test"], "AllowMethods": ["GET", "POST"], "MaxAge": 60}
    updated = client.update_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors,
                                                InvokeMode="RESPONSE_STREAM")
    assert (updated["AuthType"], updated["Cors"], updated["InvokeMode"]) == ("NONE", cors, "RESPONSE_STREAM")
    assert updated["FunctionUrl"] == created["FunctionUrl"] and updated["LastModifiedTime"] > updated["CreationTime"]
    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    live = client.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert live["FunctionArn"].endswith(f":function:{name}:live") and live["FunctionUrl"] != created["FunctionUrl"]
    listed = client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"], live["FunctionUrl"]]
    assert client.delete_function_url_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName=name)
    assert [c["FunctionUrl"] for c in client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]] \
        == [live["FunctionUrl"]]
    client.delete_alias(FunctionName=name, Name="live")  # an alias takes its URL with it
    assert client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_url_config_errors_are_aws_errors(client, deploy):
    name = deploy(ECHO)
    client.create_function_url_config(FunctionName=name, AuthType="NONE")
    with pytest.raises(client.exceptions.ResourceConflictException, match="FunctionUrlConfig exists"):
        client.create_function_url_config(FunctionName=name, AuthType="NONE")
    for qualifier in ("1", "$LATEST"):  # a URL belongs to the function or an alias, never a version
        with pytest.raises(ClientError, match="at 'qualifier' failed to satisfy constraint") as caught:
            client.get_function_url_config(FunctionName=name, Qualifier=qualifier)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_function_url_config(FunctionName=name, Qualifier="nope", AuthType="NONE")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_function_url_config(FunctionName="no-such-function", AuthType="NONE")
    with pytest.raises(ClientError, match="Member must satisfy enum value set") as caught:
        client.create_function_url_config(FunctionName=name, Qualifier="x", AuthType="OPEN")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_url_config(FunctionName=name, Cors={"AllowMethods": ["FETCH"]})


def test_none_needs_both_permissions_for_everyone(client, deploy, ember):
    name = deploy(ECHO)
    url_id = url_id_of(client.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"])
    reply = fetch(path_form(ember.url, url_id))
    assert (reply.status, json.loads(reply.body)) == (403, FORBIDDEN)
    client.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                          FunctionUrlAuthType="NONE")
    assert fetch(path_form(ember.url, url_id)).status == 403, "InvokeFunctionUrl alone is not enough any more"
    client.add_permission(FunctionName=name, StatementId="invoke-via-url", Action="lambda:InvokeFunction",
                          Principal="*", InvokedViaFunctionUrl=True)
    assert event_of(fetch(path_form(ember.url, url_id)))["requestContext"]["accountId"] == "anonymous"
    client.remove_permission(FunctionName=name, StatementId="url")
    assert fetch(path_form(ember.url, url_id)).status == 403


def test_the_event_is_format_2_by_host_and_by_path(client, deploy, ember):
    name = deploy(ECHO)
    url_id = public_url(client, name)
    headers = {"Cookie": "k=v; theme=dark", "X-Multi": "a", "Content-Type": "text/plain"}
    address, host = host_form(ember.url, url_id, "/items/42?tag=a&tag=b&q=x%20y")
    by_host = event_of(fetch(address, "POST", b"hello", headers, host=host))
    by_path = event_of(fetch(path_form(ember.url, url_id, "/items/42?tag=a&tag=b&q=x%20y"), "POST", b"hello",
                             headers))
    for event in (by_host, by_path):
        assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/items/42")
        assert event["rawQueryString"] == "tag=a&tag=b&q=x%20y"
        assert event["queryStringParameters"] == {"tag": "a,b", "q": "x y"}
        assert event["cookies"] == ["k=v", "theme=dark"] and "cookie" not in event["headers"]
        assert event["headers"]["x-multi"] == "a" and event["body"] == "hello" and not event["isBase64Encoded"]
        assert event["headers"]["x-forwarded-proto"] == "http" and event["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-")
        context = event["requestContext"]
        assert context["apiId"] == context["domainPrefix"] == url_id
        assert context["http"]["method"] == "POST" and context["http"]["path"] == "/items/42"
        assert context["routeKey"] == context["stage"] == "$default" and "authorizer" not in context
        assert "pathParameters" not in event and "stageVariables" not in event
    assert by_host["requestContext"]["domainName"] == host.split(":")[0]


def test_binary_bodies_in_and_out(client, deploy, ember):
    name = deploy(ECHO)
    url_id = public_url(client, name)
    sent = bytes(range(256))
    event = event_of(fetch(path_form(ember.url, url_id, "/upload"), "PUT", sent,
                           {"Content-Type": "application/octet-stream"}))
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == sent
    reply = fetch(path_form(ember.url, url_id, "/binary"))
    assert reply.status == 200 and reply.body == sent
    assert reply.headers["Content-Type"] == "application/octet-stream"


def test_responses_are_mapped_as_format_2(client, deploy, ember):
    name = deploy(ECHO)
    url_id = public_url(client, name)
    bare = fetch(path_form(ember.url, url_id, "/bare"))
    assert (bare.status, bare.body, bare.headers["Content-Type"]) == (200, b'"hello"', "application/json")
    made = fetch(path_form(ember.url, url_id, "/cookies"))
    assert made.status == 201 and made.body == b"made" and made.headers["x-custom"] == "yes"
    assert made.headers.get_all("Set-Cookie") == ["a=1; Max-Age=60", "b=2"]
    for path in ("/crash", "/malformed"):
        reply = fetch(path_form(ember.url, url_id, path))
        assert (reply.status, reply.body) == (502, b"Internal Server Error"), path


def test_a_throttled_url_call_is_429(client, deploy, ember):
    name = deploy(ECHO)
    url_id = public_url(client, name)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    reply = fetch(path_form(ember.url, url_id))
    assert (reply.status, json.loads(reply.body)) == (429, {"Message": "Rate Exceeded."})


def signed(method: str, url: str, body: bytes = b"", secret: str = "test", host: str | None = None) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": host} if host else {})
    SigV4Auth(Credentials("test", secret), "lambda", "us-east-1").add_auth(request)
    return request


def test_aws_iam_needs_a_sigv4_signature_for_lambda(client, deploy, ember):
    name = deploy(ECHO)
    url_id = url_id_of(client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"])
    target = path_form(ember.url, url_id, "/private?x=1")
    assert fetch(target).status == 403
    request = signed("POST", target, b'{"a": 1}')
    event = event_of(fetch(target, "POST", b'{"a": 1}', dict(request.headers)))
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == "test" and iam["userArn"] == "arn:aws:iam::000000000000:root"
    assert event["requestContext"]["accountId"] == "000000000000"
    address, host = host_form(ember.url, url_id, "/private")
    by_host = signed("GET", f"http://{host}/private", host=host)
    assert event_of(fetch(address, headers=dict(by_host.headers)))["rawPath"] == "/private"
    wrong = signed("POST", target, b'{"a": 1}', secret="not-the-secret")
    reply = fetch(target, "POST", b'{"a": 1}', dict(wrong.headers))
    assert (reply.status, json.loads(reply.body)) == (403, FORBIDDEN)
    tampered = fetch(target, "POST", b'{"a": 2}', dict(request.headers))
    assert tampered.status == 403, "the signature covers the body"


def test_cors_preflight_is_answered_without_invoking_and_responses_carry_cors(client, deploy, ember):
    name = deploy(ECHO)
    cors = {"AllowOrigins": ["https://app.test"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
            "ExposeHeaders": ["x-custom"], "MaxAge": 300, "AllowCredentials": True}
    url_id = public_url(client, name, Cors=cors)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)  # preflights never invoke
    preflight = fetch(path_form(ember.url, url_id, "/x"), "OPTIONS",
                      headers={"Origin": "https://app.test", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 200 and preflight.body == b""
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.test"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-token"
    assert preflight.headers["Access-Control-Max-Age"] == "300"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    stranger = fetch(path_form(ember.url, url_id, "/x"), "OPTIONS",
                     headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
    assert stranger.status == 200 and "Access-Control-Allow-Origin" not in stranger.headers
    client.delete_function_concurrency(FunctionName=name)
    reply = fetch(path_form(ember.url, url_id, "/x"), headers={"Origin": "https://app.test"})
    assert reply.status == 200 and reply.headers["Access-Control-Allow-Origin"] == "https://app.test"
    assert reply.headers["Access-Control-Expose-Headers"] == "x-custom"
    assert reply.headers.get_all("Access-Control-Allow-Origin") == ["https://app.test"], "the function's own is gone"


def test_response_stream_sends_the_body_as_the_function_writes_it(client, deploy, ember):
    name = deploy({"index.js": STREAMER}, runtime="nodejs20.x", timeout=10)
    url_id = public_url(client, name, InvokeMode="RESPONSE_STREAM")
    fetch(path_form(ember.url, url_id))  # the cold start, so the timing below is the stream's
    started = time.monotonic()
    with urllib.request.urlopen(path_form(ember.url, url_id), timeout=30) as response:
        assert response.status == 201 and response.headers["x-streamed"] == "yes"
        assert response.headers["Transfer-Encoding"] == "chunked" and response.headers["Set-Cookie"] == "s=1"
        first = response.read1(64)
        first_at = time.monotonic() - started
        rest = response.read()
    assert first + rest == b"first,second" and first == b"first,"
    assert time.monotonic() - started - first_at >= 0.2, "the first chunk came before the second was written"
    python = deploy(ECHO)  # a function that does not stream: its whole answer, mapped as format 2.0
    plain = public_url(client, python, InvokeMode="RESPONSE_STREAM")
    reply = fetch(path_form(ember.url, plain, "/cookies"))
    assert (reply.status, reply.body, reply.headers.get_all("Set-Cookie")) == (201, b"made", ["a=1; Max-Age=60",
                                                                                             "b=2"])
    assert fetch(path_form(ember.url, plain, "/crash")).status == 502


def test_a_deleted_function_takes_its_url_with_it(client, deploy, ember):
    name = deploy(ECHO)
    url_id = public_url(client, name)
    assert fetch(path_form(ember.url, url_id)).status == 200
    client.delete_function(FunctionName=name)
    assert fetch(path_form(ember.url, url_id)).status == 403
    deploy(ECHO, name=name)  # the same name again has no URL
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName=name)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is missing (make test installs it)")
def test_curl_reaches_the_printed_url(client, deploy):
    name = deploy(ECHO)
    allow_public(client, name)
    function_url = client.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    done = subprocess.run(["curl", "-sS", "--max-time", "30", "-X", "POST", "-H", "content-type: application/json",
                           "-d", '{"hello": "curl"}', f"{function_url}from/curl?via=curl"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["rawPath"] == "/from/curl" and event["queryStringParameters"] == {"via": "curl"}
    assert json.loads(event["body"]) == {"hello": "curl"} and event["headers"]["user-agent"].startswith("curl/")


def test_urls_survive_a_restart_and_follow_the_port(tmp_path):
    first = EmberProcess(tmp_path / "data").start()
    try:
        lambda_ = lambda_client(first.url)
        lambda_.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                                Code={"ZipFile": make_zip({"index.py": ECHO})})
        url_id = public_url(lambda_, "kept")
    finally:
        first.stop()
    second = EmberProcess(tmp_path / "data").start()
    try:
        kept = lambda_client(second.url).get_function_url_config(FunctionName="kept")["FunctionUrl"]
        assert url_id_of(kept) == url_id and kept.endswith(f":{second.url.rsplit(':', 1)[1]}/")
        assert event_of(fetch(path_form(second.url, url_id, "/again")))["rawPath"] == "/again"
    finally:
        second.stop()


def test_ember_urls_lists_both_forms(client, deploy, ember):
    name = deploy(ECHO)
    function_url = client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM",
                                                     InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    listed = ember_cli(ember, "urls", name)
    assert listed.returncode == 0, listed.stderr
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith(name))
    assert row == [name, "AWS_IAM", "RESPONSE_STREAM", function_url,
                   f"{ember.url}/_aws/lambda-url/{url_id_of(function_url)}/"]
    assert name in ember_cli(ember, "urls").stdout
