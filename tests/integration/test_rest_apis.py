"""REST APIs (API Gateway v1) through boto3's apigateway client and the AWS CLI, reached with plain HTTP.

The shape a SAM `Api` event deploys: CreateRestApi, PutRestApi with a Swagger 2.0 body whose
methods are Lambda proxies, CreateDeployment to `Prod`, AddPermission for apigateway.amazonaws.com,
then `GET /Prod/hello` by Host header and by Ember's /_aws/execute-api/ path.
"""

from __future__ import annotations

import json
import os
import subprocess

import boto3
import pytest
from botocore.config import Config
from conftest import BIN, ROLE, EmberProcess, lambda_client, make_zip
from test_http_apis import ACCOUNT, REGION, fn_arn, request

HELLO = """
import json
def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": "hello world", "event": event})}
"""


def invocation_uri(function: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn(function)}/invocations"


def sam_swagger(function: str, *extra_paths: tuple[str, str, dict]) -> dict:
    """The Swagger body SAM's translator writes for a hello world's `Api` event (`/hello` GET)."""
    paths: dict = {"/hello": {"get": {"x-amazon-apigateway-integration": {
        "httpMethod": "POST", "type": "aws_proxy", "uri": invocation_uri(function)}, "responses": {}}}}
    for path, method, operation in extra_paths:
        paths.setdefault(path, {})[method] = operation
    return {"swagger": "2.0", "info": {"version": "1.0", "title": "sam-app"}, "paths": paths}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("rest-apis")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.url)


@pytest.fixture(scope="module")
def gw(server):
    return rest_client(server.url)


def rest_client(url: str):
    return boto3.client("apigateway", endpoint_url=url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def hello(lam):
    lam.create_function(FunctionName="rest-hello", Runtime="python3.11", Role=ROLE, Handler="app.lambda_handler",
                        Code={"ZipFile": make_zip({"app.py": HELLO})})
    return "rest-hello"


def allow(lam, function: str, api_id: str, source: str = "*/*/*") -> None:
    """What the API's caller must add, as on AWS: API Gateway may invoke for this API (SAM's `Api` event
    grants `<api-id>/*/<METHOD>/<path>`: any stage)."""
    lam.add_permission(FunctionName=function, StatementId=f"rest-{api_id}", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{source}")


def answer_of(server, api_id: str, path: str, form: str = "host", method: str = "GET") -> tuple[int, dict]:
    status, _, body = request(server, api_id, method, path, form=form)
    return status, json.loads(body)


def test_a_sam_shaped_swagger_body_deploys_to_prod_and_answers_with_the_rest_event(server, gw, lam, hello):
    api = gw.create_rest_api(name="sam-app", endpointConfiguration={"types": ["REGIONAL"]},
                             tags={"ember:stack": "sam-app", "ember:logical-id": "ServerlessRestApi"})
    api_id = api["id"]
    assert len(api_id) == 10 and api_id.isalnum() and api_id.islower()
    put = gw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(sam_swagger(hello)).encode())
    assert "warnings" not in put and "x-ember-warning" not in put["ResponseMetadata"]["HTTPHeaders"]
    resources = {item["path"]: item for item in gw.get_resources(restApiId=api_id)["items"]}
    assert set(resources) == {"/", "/hello"} and resources["/"]["id"] == api["rootResourceId"]
    assert resources["/hello"]["parentId"] == api["rootResourceId"] and resources["/hello"]["pathPart"] == "hello"
    assert resources["/hello"]["resourceMethods"] == {"GET": {}}
    assert 6 <= len(resources["/hello"]["id"]) <= 10
    integration = gw.get_integration(restApiId=api_id, resourceId=resources["/hello"]["id"], httpMethod="GET")
    assert (integration["type"], integration["httpMethod"], integration["uri"]) == (
        "AWS_PROXY", "POST", invocation_uri(hello))

    assert answer_of(server, api_id, "/Prod/hello") == (403, {"message": "Forbidden"})  # nothing deployed yet
    deployment = gw.create_deployment(restApiId=api_id, stageName="Prod")
    stage = gw.get_stage(restApiId=api_id, stageName="Prod")
    assert stage["deploymentId"] == deployment["id"]
    assert answer_of(server, api_id, "/Prod/hello") == (500, {"message": "Internal server error"})  # no permission
    allow(lam, hello, api_id, "*/GET/hello")  # the SourceArn SAM's translator writes
    for form in ("host", "path"):
        status, _, raw = request(server, api_id, "GET", "/Prod/hello", headers=[("X-Spelled-Thus", "kept")],
                                 form=form)
        body = json.loads(raw)
        event = body["event"]
        assert status == 200 and body["message"] == "hello world"
        assert event["headers"]["X-Spelled-Thus"] == "kept" and "Host" in event["headers"]  # as the client wrote them
        assert event["multiValueHeaders"]["X-Spelled-Thus"] == ["kept"]
        assert "version" not in event
        assert (event["resource"], event["path"], event["httpMethod"]) == ("/hello", "/hello", "GET")
        assert event["requestContext"]["stage"] == "Prod" and event["requestContext"]["path"] == "/Prod/hello"
        assert event["requestContext"]["resourceId"] == resources["/hello"]["id"]
        assert event["requestContext"]["apiId"] == api_id
    assert answer_of(server, api_id, "/Prod/nowhere") == (403, {"message": "Missing Authentication Token"})
    listed = {item["id"]: item for item in gw.get_rest_apis()["items"]}
    assert listed[api_id]["tags"] == {"ember:stack": "sam-app", "ember:logical-id": "ServerlessRestApi"}
    assert listed[api_id]["name"] == "sam-app"  # overwrite takes info.title, as it was already


def test_resources_methods_and_integrations_step_by_step_with_path_parameters(server, gw, lam, hello):
    api = gw.create_rest_api(name="steps")
    api_id, root = api["id"], api["rootResourceId"]
    items = gw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    item = gw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    proxy = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert (item["path"], proxy["path"]) == ("/items/{id}", "/{proxy+}")
    for resource, method in ((item, "GET"), (proxy, "ANY")):
        gw.put_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method, authorizationType="NONE")
        gw.put_integration(restApiId=api_id, resourceId=resource["id"], httpMethod=method, type="AWS_PROXY",
                           integrationHttpMethod="POST", uri=invocation_uri(hello))
    method = gw.get_method(restApiId=api_id, resourceId=item["id"], httpMethod="GET")
    assert method["authorizationType"] == "NONE" and method["methodIntegration"]["type"] == "AWS_PROXY"
    gw.create_deployment(restApiId=api_id, stageName="dev", variables={"table": "items-dev"})
    allow(lam, hello, api_id)
    status, body = answer_of(server, api_id, "/dev/items/42")
    event = body["event"]
    assert status == 200 and event["resource"] == "/items/{id}" and event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"table": "items-dev"}
    status, body = answer_of(server, api_id, "/dev/a/b/c", method="DELETE")
    assert status == 200 and body["event"]["resource"] == "/{proxy+}"
    assert body["event"]["pathParameters"] == {"proxy": "a/b/c"} and body["event"]["httpMethod"] == "DELETE"
    with pytest.raises(gw.exceptions.ConflictException):
        gw.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    with pytest.raises(gw.exceptions.BadRequestException, match="sibling"):
        gw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{name}")


def test_a_change_is_served_only_after_a_new_deployment(server, gw, lam, hello):
    api_id = gw.create_rest_api(name="redeploy")["id"]
    gw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(sam_swagger(hello)).encode())
    first = gw.create_deployment(restApiId=api_id, stageName="Prod")["id"]
    allow(lam, hello, api_id)
    more = sam_swagger(hello, ("/bye", "post", {"x-amazon-apigateway-integration": {
        "httpMethod": "POST", "type": "aws_proxy", "uri": invocation_uri(hello)}}))
    gw.put_rest_api(restApiId=api_id, mode="merge", body=json.dumps(more).encode())
    assert request(server, api_id, "POST", "/Prod/bye")[0] == 403  # not deployed yet
    second = gw.create_deployment(restApiId=api_id, stageName="Prod", description="with /bye")["id"]
    assert request(server, api_id, "POST", "/Prod/bye")[0] == 200
    assert [item["id"] for item in gw.get_deployments(restApiId=api_id)["items"]] == sorted([first, second])
    gw.create_stage(restApiId=api_id, stageName="v1", deploymentId=first, tags={"ember:stack": "s"})
    assert request(server, api_id, "POST", "/v1/bye")[0] == 403
    assert request(server, api_id, "GET", "/v1/hello")[0] == 200
    assert [stage["stageName"] for stage in gw.get_stages(restApiId=api_id, deploymentId=first)["item"]] == ["v1"]
    with pytest.raises(gw.exceptions.ConflictException):
        gw.create_stage(restApiId=api_id, stageName="v1", deploymentId=second)
    gw.update_stage(restApiId=api_id, stageName="Prod",
                    patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first}])
    assert request(server, api_id, "POST", "/Prod/bye")[0] == 403  # the stage serves the first deployment again
    with pytest.raises(gw.exceptions.BadRequestException, match="Active stages"):
        gw.delete_deployment(restApiId=api_id, deploymentId=first)
    gw.delete_stage(restApiId=api_id, stageName="Prod")
    assert request(server, api_id, "GET", "/Prod/hello")[0] == 403
    gw.delete_rest_api(restApiId=api_id)
    assert request(server, api_id, "GET", "/Prod/hello")[0] == 404  # no such API: the HTTP APIs' answer


def test_other_integration_types_are_kept_warned_of_and_answered_500(server, gw, lam, hello):
    mock = {"x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "GET",
                                                "uri": "https://example.com/"}}
    secured = {"security": [{"sigv4": []}], "x-amazon-apigateway-integration": {
        "httpMethod": "POST", "type": "aws_proxy", "uri": invocation_uri(hello)}}
    body = sam_swagger(hello, ("/mock", "get", mock), ("/secure", "get", secured))
    body["securityDefinitions"] = {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                                             "x-amazon-apigateway-authtype": "awsSigv4"}}
    imported = gw.import_rest_api(body=json.dumps(body).encode())
    warning = imported["ResponseMetadata"]["HTTPHeaders"]["x-ember-warning"]
    assert "GET /mock: integration type HTTP_PROXY" in warning and "GET /secure: authorizationType AWS_IAM" in warning
    assert any("HTTP_PROXY" in item for item in imported["warnings"]) and imported["name"] == "sam-app"
    api_id = imported["id"]
    deployed = gw.create_deployment(restApiId=api_id, stageName="Prod")
    assert deployed["ResponseMetadata"]["HTTPHeaders"]["x-ember-warning"] == warning  # what this stage will serve
    allow(lam, hello, api_id)
    assert answer_of(server, api_id, "/Prod/mock") == (500, {"message": "Internal server error"})
    assert request(server, api_id, "GET", "/Prod/secure")[0] == 200  # kept, not enforced
    with pytest.raises(gw.exceptions.BadRequestException, match="Warnings found"):
        gw.import_rest_api(body=json.dumps(body).encode(), failOnWarnings=True)


def test_control_plane_errors(gw, hello):
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_rest_api(restApiId="nosuchapi1")
    api_id = gw.create_rest_api(name="errors")["id"]
    for bad in (b"{not json: [", b"just a string", json.dumps({"paths": {}}).encode(),
                json.dumps({"swagger": "2.0", "paths": {"/{proxy+}/x": {}}}).encode()):
        with pytest.raises(gw.exceptions.BadRequestException):
            gw.put_rest_api(restApiId=api_id, body=bad)
    with pytest.raises(gw.exceptions.BadRequestException, match="any methods"):
        gw.create_deployment(restApiId=api_id, stageName="Prod")
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_stage(restApiId=api_id, stageName="Prod")
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_resource(restApiId=api_id, resourceId="nosuch")
    root = gw.get_rest_api(restApiId=api_id)["rootResourceId"]
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    with pytest.raises(gw.exceptions.ConflictException):
        gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    with pytest.raises(gw.exceptions.BadRequestException, match="No integration"):
        gw.create_deployment(restApiId=api_id, stageName="Prod")
    with pytest.raises(gw.exceptions.BadRequestException, match="Invalid ARN"):
        gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="AWS_PROXY",
                           integrationHttpMethod="POST", uri=fn_arn(hello))
    gw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/name", "value": "renamed"},
                                                          {"op": "add", "path": "/binaryMediaTypes/image~1png"}])
    updated = gw.get_rest_api(restApiId=api_id)
    assert (updated["name"], updated["binaryMediaTypes"]) == ("renamed", ["image/png"])
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    gw.tag_resource(resourceArn=arn, tags={"ember:stack": "s"})
    assert gw.get_tags(resourceArn=arn)["tags"] == {"ember:stack": "s"}
    gw.untag_resource(resourceArn=arn, tagKeys=["ember:stack"])
    assert gw.get_tags(resourceArn=arn)["tags"] == {}
    gw.delete_rest_api(restApiId=api_id)
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.delete_rest_api(restApiId=api_id)


def test_paging_the_aws_cli_and_ember_apis(server, gw, hello):
    made = sorted(gw.create_rest_api(name=f"page-{index}")["id"] for index in range(3))
    ids = [api["id"] for page in gw.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 2})
           for api in page["items"]]
    assert set(made) <= set(ids) and len(ids) == len(set(ids))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION,
           "EMBER_ENDPOINT_URL": server.url}
    listed = subprocess.run([str(BIN / "aws"), "apigateway", "get-resources", "--endpoint-url", server.url,
                             "--rest-api-id", made[0]], capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [item["path"] for item in json.loads(listed.stdout)["items"]] == ["/"]
    gw.put_rest_api(restApiId=made[0], body=json.dumps(sam_swagger(hello)).encode())  # merge: the name stays
    gw.create_deployment(restApiId=made[0], stageName="Prod")
    name = gw.get_rest_api(restApiId=made[0])["name"]
    assert name.startswith("page-")
    apis = subprocess.run([str(BIN / "ember"), "apis"], capture_output=True, text=True, env=env, timeout=60)
    assert apis.returncode == 0, apis.stderr
    rows = [line.split() for line in apis.stdout.splitlines() if line.startswith(made[0])]
    port = server.url.rsplit(":", 1)[1]
    assert rows == [[made[0], name, "Prod", f"http://{made[0]}.execute-api.{REGION}.localhost:{port}/Prod/",
                     f"{server.url}/_aws/execute-api/{made[0]}/Prod/", "GET", "/hello"]]


def test_rest_apis_survive_a_restart(tmp_path):
    first = EmberProcess(tmp_path / "data").start()
    try:
        lam = lambda_client(first.url)
        lam.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="app.lambda_handler",
                            Code={"ZipFile": make_zip({"app.py": HELLO})})
        gw = rest_client(first.url)
        api_id = gw.create_rest_api(name="kept")["id"]
        yaml_body = (f"swagger: '2.0'\ninfo: {{title: kept}}\npaths:\n  /hello:\n    get:\n"
                     f"      x-amazon-apigateway-integration:\n        type: aws_proxy\n        httpMethod: POST\n"
                     f"        uri: {invocation_uri('kept')}\n")
        gw.put_rest_api(restApiId=api_id, mode="overwrite", body=yaml_body.encode())
        gw.create_deployment(restApiId=api_id, stageName="Prod")
        allow(lam, "kept", api_id)
    finally:
        first.stop()
    second = EmberProcess(tmp_path / "data").start()
    try:
        status, body = answer_of(second, api_id, "/Prod/hello")
        assert status == 200 and body["event"]["requestContext"]["stage"] == "Prod"
        assert rest_client(second.url).get_stages(restApiId=api_id)["item"][0]["stageName"] == "Prod"
    finally:
        second.stop()
