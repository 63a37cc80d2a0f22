"""HTTP APIs through boto3's apigatewayv2 client, reached with plain HTTP (Host and /_aws/ path forms) and curl."""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from conftest import BIN, ROLE, EmberProcess, lambda_client, make_zip, wait_for, wait_for_records

REGION = "us-east-1"
ACCOUNT = "000000000000"
ECHO = """
import base64, json
def handler(event, context):
    if event.get("rawPath", event.get("path", "")).endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "image/png"}, "isBase64Encoded": True,
                "body": base64.b64encode(bytes(range(256))).decode()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"x-multi": ["a", "b"]}, "cookies": ["c1=v1", "c2=v2"],
            "body": json.dumps(event)}
"""
CRASH = "def handler(event, context):\n    raise RuntimeError('boom')\n"
SLOW = "import time\ndef handler(event, context):\n    time.sleep(1.5)\n    return 'late'\n"


def go_samples():
    """aws-lambda-go's events/testdata, fetched as a Go module (tests/unit/aws_go_samples.py)."""
    path = Path(__file__).resolve().parents[1] / "unit" / "aws_go_samples.py"
    spec = importlib.util.spec_from_file_location("aws_go_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("http-apis")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.url)


@pytest.fixture(scope="module")
def gw(server):
    return boto3.client("apigatewayv2", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def functions(lam):
    """One of each handler, for the whole module."""
    names = {}
    for kind, source, timeout in (("echo", ECHO, 3), ("crash", CRASH, 3), ("slow", SLOW, 5)):
        name = f"apigw-{kind}"
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.py": source})}, Timeout=timeout)
        names[kind] = name
    return names


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def allow(lam, name: str, api_id: str, source: str = "*") -> None:
    """What the API's caller must add, as on AWS: API Gateway may invoke for this API."""
    lam.add_permission(FunctionName=name, StatementId=f"apigw-{api_id}", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{source}")


Answer = tuple[int, http.client.HTTPMessage, bytes]


def request(server: EmberProcess, api_id: str, method: str, path: str, body: bytes | None = None,
            headers: list[tuple[str, str]] | None = None, form: str = "host") -> Answer:
    """One plain HTTP request to the API: by Host header, or by Ember's /_aws/execute-api/<id> path."""
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if form == "host":
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", f"{api_id}.execute-api.{REGION}.localhost:{port}")
    else:
        connection.putrequest(method, f"/_aws/execute-api/{api_id}{path}")
    for name, value in headers or []:
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body or b"")))
    connection.endheaders(body)
    response = connection.getresponse()
    answer = (response.status, response.headers, response.read())
    connection.close()
    return answer


def explicit_api(gw, lam, function: str, version: str, routes: list[str], **api: object) -> str:
    """An API built step by step: integration, routes, an auto-deployed $default stage, the permission."""
    api_id = gw.create_api(Name=f"explicit-{version}", ProtocolType="HTTP", **api)["ApiId"]
    integration = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn(function),
                                        PayloadFormatVersion=version)["IntegrationId"]
    for key in routes:
        gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")
    gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    allow(lam, function, api_id)
    return api_id


def test_quick_create_needs_a_permission_then_curl_reaches_the_function(server, gw, lam, functions):
    api = gw.create_api(Name="quick", ProtocolType="HTTP", Target=fn_arn(functions["echo"]))
    port = server.url.rsplit(":", 1)[1]
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.{REGION}.localhost:{port}"
    [route] = gw.get_routes(ApiId=api["ApiId"])["Items"]
    [integration] = gw.get_integrations(ApiId=api["ApiId"])["Items"]
    [stage] = gw.get_stages(ApiId=api["ApiId"])["Items"]
    assert route["RouteKey"] == "$default" and route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] and stage["DeploymentId"]

    curl = ["curl", "-s", "-i", f"{api['ApiEndpoint']}/hello/world?x=1"]
    denied = subprocess.run(curl, capture_output=True, text=True, timeout=30).stdout
    assert denied.startswith("HTTP/1.1 500") and denied.endswith('{"message":"Internal Server Error"}')
    # The permission AWS's docs give for the $default stage and route.
    lam.add_permission(FunctionName=functions["echo"], StatementId="quick", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['ApiId']}/$default/$default")
    answered = subprocess.run([*curl[:2], curl[3]], capture_output=True, text=True, timeout=30)
    event = json.loads(answered.stdout)
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/hello/world")
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["requestContext"]["apiId"] == api["ApiId"] and event["requestContext"]["stage"] == "$default"


def test_routes_pick_the_most_specific_match_in_both_address_forms(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0",
                          ["GET /items/{id}", "POST /items", "ANY /files/{proxy+}", "$default"])
    for form in ("host", "path"):
        status, _, body = request(server, api_id, "GET", "/items/42", form=form)
        event = json.loads(body)
        assert status == 200 and event["routeKey"] == "GET /items/{id}"
        assert event["pathParameters"] == {"id": "42"} and event["rawPath"] == "/items/42"
        event = json.loads(request(server, api_id, "DELETE", "/files/a/b.txt", form=form)[2])
        assert event["routeKey"] == "ANY /files/{proxy+}" and event["pathParameters"] == {"proxy": "a/b.txt"}
        assert json.loads(request(server, api_id, "POST", "/items", b"{}", form=form)[2])["routeKey"] == "POST /items"
        assert json.loads(request(server, api_id, "PUT", "/other", form=form)[2])["routeKey"] == "$default"


def test_a_call_through_an_api_is_metered_like_a_direct_call(server, gw, lam, functions):
    """Same invoker: an invocation record (source apigateway) and /metrics' faas_trigger="http"."""
    lam.create_function(FunctionName="apigw-metered", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": make_zip({"index.py": ECHO})})
    api_id = explicit_api(gw, lam, "apigw-metered", "2.0", ["$default"])
    assert request(server, api_id, "GET", "/")[0] == 200
    [row] = wait_for_records(server.data_dir, 1, "function = ?", ("apigw-metered",))
    assert row["source"] == "apigateway" and row["status"] == "success" and row["billed_ms"] >= 1
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    connection.close()
    assert any(line.startswith("faas_invocations_total{") and 'faas_name="apigw-metered"' in line
               and 'faas_trigger="http"' in line and line.endswith(" 1.0") for line in metrics.splitlines())


def test_no_route_is_404_not_found(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0", ["GET /only"])
    status, headers, body = request(server, api_id, "GET", "/elsewhere")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert headers["apigw-requestid"]
    assert request(server, "nosuchapi1", "GET", "/only")[0] == 404


def test_payloads_over_the_limits_are_refused(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0", ["$default"])
    status, _, body = request(server, api_id, "POST", "/", b"x" * (7 * 1024 * 1024), [("Content-Type", "text/plain")])
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})  # Lambda's 6 MB refuses it
    status, _, body = request(server, api_id, "POST", "/", b"x" * (10 * 1024 * 1024 + 1))
    assert (status, json.loads(body)) == (413, {"message": "Request Entity Too Large"})  # an HTTP API's 10 MB


def test_format_2_0_event_and_response_field_by_field(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0", ["ANY /{proxy+}"])
    headers = [("X-Repeat", "one"), ("X-Repeat", "two"), ("Cookie", "a=1; b=2"), ("Content-Type", "application/json")]
    status, response_headers, body = request(server, api_id, "POST", "/p/q?k=1&k=2&solo=x", b'{"in":1}', headers)
    event = json.loads(body)
    assert status == 200
    assert event["queryStringParameters"] == {"k": "1,2", "solo": "x"} and event["rawQueryString"] == "k=1&k=2&solo=x"
    assert event["headers"]["x-repeat"] == "one,two" and "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"in":1}', False)
    assert "multiValueHeaders" not in event and "multiValueQueryStringParameters" not in event
    assert response_headers.get_all("set-cookie") == ["c1=v1", "c2=v2"]
    aws = go_samples().sample("apigw-v2-request-no-authorizer.json")
    optional = {"cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"}
    assert set(aws) <= set(event) <= set(aws) | optional
    assert set(event["requestContext"]) == set(aws["requestContext"]) - {"authentication"}  # mTLS only
    assert set(event["requestContext"]["http"]) == set(aws["requestContext"]["http"])
    # Binary in (no text content type: base64) and out (isBase64Encoded).
    event = json.loads(request(server, api_id, "PUT", "/bin", bytes([0, 255, 1]),
                               [("Content-Type", "application/octet-stream")])[2])
    assert (base64.b64decode(event["body"]), event["isBase64Encoded"]) == (bytes([0, 255, 1]), True)
    status, response_headers, body = request(server, api_id, "GET", "/binary")
    assert body == bytes(range(256)) and response_headers["content-type"] == "image/png"


def test_format_1_0_event_has_multi_values_and_a_version(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "1.0", ["GET /items/{id}"])
    headers = [("X-Repeat", "one"), ("X-Repeat", "two"), ("Cookie", "a=1")]
    status, response_headers, body = request(server, api_id, "GET", "/items/7?k=1&k=2", None, headers)
    event = json.loads(body)
    assert status == 200 and event["version"] == "1.0"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/7", "GET")
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"k": "2"}
    assert event["multiValueQueryStringParameters"] == {"k": ["1", "2"]}
    assert event["multiValueHeaders"]["x-repeat"] == ["one", "two"] and event["headers"]["cookie"] == "a=1"
    assert event["requestContext"]["resourcePath"] == "/items/{id}" and event["requestContext"]["stage"] == "$default"
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    assert response_headers.get_all("x-multi") == ["a", "b"]


def test_a_crash_a_throttle_and_a_timeout_answer_as_api_gateway_does(server, gw, lam, functions):
    crash_api = explicit_api(gw, lam, functions["crash"], "2.0", ["$default"])
    status, _, body = request(server, crash_api, "GET", "/")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    # Reserved concurrency 0: Lambda throttles, API Gateway answers 500, never Lambda's 429.
    echo_api = explicit_api(gw, lam, functions["echo"], "2.0", ["$default"])
    lam.put_function_concurrency(FunctionName=functions["echo"], ReservedConcurrentExecutions=0)
    try:
        status, _, body = request(server, echo_api, "GET", "/")
        assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    finally:
        lam.delete_function_concurrency(FunctionName=functions["echo"])
    slow_api = explicit_api(gw, lam, functions["slow"], "2.0", [])
    integration = gw.get_integrations(ApiId=slow_api)["Items"][0]["IntegrationId"]
    gw.update_integration(ApiId=slow_api, IntegrationId=integration, TimeoutInMillis=300)
    gw.create_route(ApiId=slow_api, RouteKey="$default", Target=f"integrations/{integration}")
    started = time.monotonic()
    status, _, body = request(server, slow_api, "GET", "/")
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - started < 1.4  # answered at the integration timeout, not the function's end


def test_a_permission_is_checked_against_the_route_source_arn(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0", ["GET /open", "GET /closed"])
    lam.remove_permission(FunctionName=functions["echo"], StatementId=f"apigw-{api_id}")
    allow(lam, functions["echo"], api_id, "*/GET/open")
    assert request(server, api_id, "GET", "/open")[0] == 200
    assert request(server, api_id, "GET", "/closed")[0] == 500


def test_cors_preflight_is_answered_without_invoking_and_responses_carry_the_headers(server, gw, lam, functions):
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
            "ExposeHeaders": ["x-multi"], "MaxAge": 300}
    api_id = explicit_api(gw, lam, functions["crash"], "2.0", ["GET /data"], CorsConfiguration=cors)
    status, headers, body = request(server, api_id, "OPTIONS", "/data", None, [
        ("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET")])
    assert status == 204 and body == b""  # the crashing function was not invoked
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET,POST" and headers["access-control-max-age"] == "300"
    status, headers, _ = request(server, api_id, "GET", "/data", None, [("Origin", "https://app.example")])
    assert status == 500 and headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == "x-multi"
    status, headers, _ = request(server, api_id, "OPTIONS", "/data", None, [
        ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")])
    assert status == 204 and "access-control-allow-origin" not in headers


def test_a_named_stage_serves_its_deployment_under_its_prefix_with_its_variables(server, gw, lam, functions):
    api_id = gw.create_api(Name="staged", ProtocolType="HTTP")["ApiId"]
    integration = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
                                        IntegrationUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                                                       f"{fn_arn(functions['echo'])}/invocations")["IntegrationId"]
    gw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=f"integrations/{integration}")
    gw.create_stage(ApiId=api_id, StageName="prod", StageVariables={"table": "items-prod"})
    allow(lam, functions["echo"], api_id, "prod/GET/items/{id}")
    assert request(server, api_id, "GET", "/prod/items/1")[0] == 404  # not deployed yet
    deployment = gw.create_deployment(ApiId=api_id, StageName="prod")
    assert gw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment["DeploymentId"]
    event = json.loads(request(server, api_id, "GET", "/prod/items/1")[2])
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == ("/prod/items/1", "/prod/items/1")
    assert event["requestContext"]["stage"] == "prod" and event["stageVariables"] == {"table": "items-prod"}
    assert event["pathParameters"] == {"id": "1"}
    assert request(server, api_id, "GET", "/items/1")[0] == 404  # no $default stage
    gw.create_route(ApiId=api_id, RouteKey="GET /new", Target=f"integrations/{integration}")
    assert request(server, api_id, "GET", "/prod/new")[0] == 404  # a change reaches callers once deployed


def test_control_plane_errors_and_delete(gw, functions):
    with pytest.raises(gw.exceptions.BadRequestException, match="WebSocket"):
        gw.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    api_id = gw.create_api(Name="doomed", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(gw.exceptions.BadRequestException):
        gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn(functions["echo"]))
    with pytest.raises(gw.exceptions.BadRequestException):
        gw.create_route(ApiId=api_id, RouteKey="GET /{proxy+}/x")
    gw.create_route(ApiId=api_id, RouteKey="GET /x")
    with pytest.raises(gw.exceptions.ConflictException):
        gw.create_route(ApiId=api_id, RouteKey="GET /x")
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_stage(ApiId=api_id, StageName="nope")
    assert any(item["ApiId"] == api_id for item in gw.get_apis()["Items"])
    gw.update_api(ApiId=api_id, Name="renamed")
    assert gw.get_api(ApiId=api_id)["Name"] == "renamed"
    gw.delete_api(ApiId=api_id)
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_api(ApiId=api_id)


def test_a_deleted_api_stops_answering(server, gw, lam, functions):
    api_id = explicit_api(gw, lam, functions["echo"], "2.0", ["$default"])
    assert request(server, api_id, "GET", "/")[0] == 200
    gw.delete_api(ApiId=api_id)
    assert request(server, api_id, "GET", "/")[0] == 404


def test_the_aws_cli_quick_creates_and_ember_apis_lists_it(server, functions):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION,
           "EMBER_ENDPOINT_URL": server.url}
    created = subprocess.run([str(BIN / "aws"), "apigatewayv2", "create-api", "--endpoint-url", server.url,
                              "--name", "from-cli", "--protocol-type", "HTTP", "--target", fn_arn(functions["echo"])],
                             capture_output=True, text=True, env=env, timeout=60)
    assert created.returncode == 0, created.stderr
    api = json.loads(created.stdout)
    listed = subprocess.run([str(BIN / "ember"), "apis"], capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    [row] = [line.split() for line in listed.stdout.splitlines() if line.startswith(api["ApiId"])]
    path_url = f"{server.url}/_aws/execute-api/{api['ApiId']}/"
    assert row == [api["ApiId"], "from-cli", "$default", api["ApiEndpoint"], path_url, "$default"]


def test_apis_survive_a_restart(tmp_path):
    first = EmberProcess(tmp_path / "data").start()
    try:
        lam = lambda_client(first.url)
        lam.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.py": ECHO})})
        gw = boto3.client("apigatewayv2", endpoint_url=first.url, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test")
        api_id = gw.create_api(Name="kept", ProtocolType="HTTP", Target=fn_arn("kept"))["ApiId"]
        allow(lam, "kept", api_id)
    finally:
        first.stop()
    second = EmberProcess(tmp_path / "data").start()
    try:
        assert wait_for(lambda: request(second, api_id, "GET", "/again")[0] == 200)
        assert json.loads(request(second, api_id, "GET", "/again")[2])["rawPath"] == "/again"
    finally:
        second.stop()


def framework_function(lam, name: str, handler: str) -> str:
    """Mangum's and Powertools' apps of test_http_frameworks.py, zipped with their pinned libraries."""
    from test_http_frameworks import MANGUM_APP, POWERTOOLS_APP, site

    app = MANGUM_APP if handler == "handler" else POWERTOOLS_APP.replace(
        "url_app, http_app = routes(LambdaFunctionUrlResolver()), routes(APIGatewayHttpResolver())",
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "rest_app, http_app = routes(APIGatewayRestResolver()), routes(APIGatewayHttpResolver())\n\n\n"
        "def rest_handler(event, context):\n    return rest_app.resolve(event, context)")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler=f"app.{handler}", MemorySize=256,
                        Timeout=10, Code={"ZipFile": make_zip({**site(), "app.py": app})})
    return name


@pytest.mark.parametrize(("handler", "version", "kind"), [("http_handler", "2.0", "APIGatewayHttpResolver"),
                                                          ("rest_handler", "1.0", "APIGatewayRestResolver")])
def test_powertools_resolvers_answer_behind_an_http_api(server, gw, lam, handler, version, kind):
    name = framework_function(lam, f"apigw-powertools-{version[0]}", handler)
    api_id = explicit_api(gw, lam, name, version, ["ANY /{proxy+}"])
    status, _, body = request(server, api_id, "GET", "/hello/ember?q=1&q=2")
    assert status == 200, body
    assert json.loads(body) == {"hello": "ember", "q": "1,2" if version == "2.0" else "2", "kind": kind}
    status, _, body = request(server, api_id, "POST", "/echo", b"\x00\x01binary",
                              [("Content-Type", "application/octet-stream")])
    assert (status, body) == (201, b"yranib\x01\x00")
    status, _, body = request(server, api_id, "GET", "/nowhere")
    assert status == 404 and json.loads(body)["message"] == "Not found"  # the app's own 404, not API Gateway's


def test_mangum_runs_an_asgi_app_behind_an_http_api(server, gw, lam):
    name = framework_function(lam, "apigw-mangum", "handler")
    api_id = explicit_api(gw, lam, name, "2.0", ["$default"])
    status, _, body = request(server, api_id, "GET", "/items/7?q=a&q=b", None, [("Cookie", "k=v"),
                                                                               ("User-Agent", "t/1")], form="path")
    assert status == 200, body
    assert json.loads(body) == {"id": "7", "q": ["a", "b"], "agent": "t/1", "cookie": "v"}
    status, headers, body = request(server, api_id, "POST", "/echo", b"abc", [("Content-Type", "text/plain")])
    assert (status, body, headers["x-length"]) == (201, b"cba", "3")
    assert headers["set-cookie"].startswith("seen=yes")
