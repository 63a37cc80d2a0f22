"""A SAM `Api` with `Cors`, deployed with `ember deploy`: the browser's preflight (OPTIONS) is answered by the
MOCK integration SAM's translator writes, with the Access-Control-Allow-* headers the template asked for, and the
GET still reaches the function. Then a MOCK built step by step with PutMethodResponse and PutIntegrationResponse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import EmberProcess
from test_http_apis import request
from test_rest_apis import rest_client
from test_stack_deploy import ember, outputs

DATA = Path(__file__).parent / "data" / "apps"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("rest-mock")).start()
    yield started
    started.stop()


def test_a_sam_api_with_cors_answers_the_browsers_preflight_and_the_get(server, tmp_path):
    folder = tmp_path / "cors-api"
    shutil.copytree(DATA / "cors-api", folder)
    result = ember(server, "deploy", str(folder))
    assert result.returncode == 0 and "mock" not in (result.stdout + result.stderr).lower(), result.stdout
    url = outputs(result.stdout)["HelloApi"]
    api_id = url.split("//", 1)[1].split(".", 1)[0]
    preflight = [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET"),
                 ("Access-Control-Request-Headers", "content-type")]
    status, headers, body = request(server, api_id, "OPTIONS", "/Prod/hello", headers=preflight)
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
    assert headers["Access-Control-Max-Age"] == "600" and headers["Content-Type"] == "application/json"
    status, headers, body = request(server, api_id, "GET", "/Prod/hello", headers=[("Origin", "https://app.example.com")])
    assert (status, json.loads(body)) == (200, {"message": "hello", "method": "GET"})
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"

    gw = rest_client(server.url)
    resource = next(item for item in gw.get_resources(restApiId=api_id)["items"] if item["path"] == "/hello")
    method = gw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="OPTIONS")
    assert method["methodResponses"]["200"]["responseParameters"]["method.response.header.Access-Control-Max-Age"] \
        is False
    integration = method["methodIntegration"]
    assert integration["type"] == "MOCK" and integration["requestTemplates"] == {
        "application/json": "{\n  \"statusCode\" : 200\n}\n"}
    default = integration["integrationResponses"]["200"]
    assert "selectionPattern" not in default and default["responseTemplates"] == {"application/json": "{}\n"}
    assert default["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == \
        "'https://app.example.com'"
    got = gw.get_integration_response(restApiId=api_id, resourceId=resource["id"], httpMethod="OPTIONS",
                                      statusCode="200")
    assert {key: value for key, value in got.items() if key != "ResponseMetadata"} == default


def test_a_mock_built_step_by_step_selects_its_response_by_status(server):
    gw = rest_client(server.url)
    api = gw.create_rest_api(name="mock-steps")
    api_id, root = api["id"], api["rootResourceId"]
    where = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET"}
    gw.put_method(**where, authorizationType="NONE")
    gw.put_integration(**where, type="MOCK", requestTemplates={"application/json": '{"statusCode": 404}'})
    with pytest.raises(gw.exceptions.NotFoundException):  # its method response comes first, as on AWS
        gw.put_integration_response(**where, statusCode="404", selectionPattern="4\\d{2}")
    gw.put_method_response(**where, statusCode="200")
    gw.put_method_response(**where, statusCode="404", responseParameters={"method.response.header.X-Why": False})
    with pytest.raises(gw.exceptions.BadRequestException, match="mapping expression"):
        gw.put_integration_response(**where, statusCode="404",
                                    responseParameters={"method.response.header.Undeclared": "'x'"})
    gw.put_integration_response(**where, statusCode="200", responseTemplates={"application/json": '{"ok": true}'})
    made = gw.put_integration_response(**where, statusCode="404", selectionPattern="4\\d{2}",
                                       responseParameters={"method.response.header.X-Why": "'mocked'"},
                                       responseTemplates={"application/json": '{"message": "not here"}'})
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201 and made["selectionPattern"] == "4\\d{2}"
    got = gw.get_integration_response(**where, statusCode="404")
    assert got["responseParameters"] == {"method.response.header.X-Why": "'mocked'"}
    assert set(gw.get_integration(**where)["integrationResponses"]) == {"200", "404"}
    gw.create_deployment(restApiId=api_id, stageName="dev")
    status, headers, body = request(server, api_id, "GET", "/dev/")
    assert (status, headers["X-Why"], json.loads(body)) == (404, "mocked", {"message": "not here"})

    gw.delete_integration_response(**where, statusCode="404")
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_integration_response(**where, statusCode="404")
    gw.create_deployment(restApiId=api_id, stageName="dev")
    status, _, body = request(server, api_id, "GET", "/dev/")
    assert (status, json.loads(body)) == (200, {"ok": True})  # no pattern matches 404: the default answers
    gw.delete_method_response(**where, statusCode="404")
    assert set(gw.get_method(**where)["methodResponses"]) == {"200"}
