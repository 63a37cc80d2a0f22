"""REST API definitions (Swagger 2.0 / OpenAPI 3.0, JSON or YAML) read and applied as API Gateway does; patches."""

from __future__ import annotations

import json

import pytest

from ember.core.database import open_database
from ember.errors import BadRequestException
from ember.triggers.api_store import ApiStore
from ember.triggers.patch_ops import Patchable, apply
from ember.triggers.rest_apis import RestApis
from ember.triggers.rest_definitions import parse_definition, why_not_run

URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations")
OPENAPI_YAML = f"""
openapi: 3.0.1
info:
  title: items-api
  description: the items
  version: '2'
x-amazon-apigateway-binary-media-types: ['image/png', '*/*']
components:
  securitySchemes:
    cognito:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer: {{type: cognito_user_pools, providerARNs: [arn]}}
    key: {{type: apiKey, name: x-api-key, in: header}}
paths:
  /items/{{id}}/:
    parameters: [{{name: id, in: path}}]
    get:
      operationId: getItem
      security: [{{cognito: []}}]
      x-amazon-apigateway-integration: {{type: AWS_PROXY, httpMethod: POST, uri: '{URI.format("items")}'}}
  /{{proxy+}}:
    x-amazon-apigateway-any-method:
      security: [{{key: []}}]
      x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: '{URI.format("all")}',
                                         timeoutInMillis: 3000}}
"""


def test_openapi_3_yaml_gives_methods_integrations_and_the_apis_own_fields():
    definition = parse_definition(OPENAPI_YAML.encode())
    assert (definition.title, definition.description, definition.version) == ("items-api", "the items", "2")
    assert definition.binary_media_types == ["image/png", "*/*"]
    item, proxy = definition.operations
    assert (item.path, item.method, proxy.path, proxy.method) == ("/items/{id}", "GET", "/{proxy+}", "ANY")
    assert item.fields == {"authorizationType": "COGNITO_USER_POOLS", "apiKeyRequired": False,
                           "operationName": "getItem"}
    assert proxy.fields == {"authorizationType": "NONE", "apiKeyRequired": True}
    assert proxy.integration == {"type": "AWS_PROXY", "httpMethod": "POST", "uri": URI.format("all"),
                                 "timeoutInMillis": 3000}
    assert definition.warnings == [
        "GET /items/{id}: authorizationType COGNITO_USER_POOLS kept but not enforced by Ember: the method is open",
        "ANY /{proxy+}: apiKeyRequired kept but not enforced by Ember: the method is open"]


def test_a_swagger_body_sam_writes_has_no_warnings_and_basepath_is_applied_when_asked():
    body = json.dumps({"swagger": "2.0", "info": {"title": "sam-app", "version": "1.0"}, "basePath": "/v1/api",
                       "paths": {"/hello": {"get": {"x-amazon-apigateway-integration": {
                           "httpMethod": "POST", "type": "aws_proxy", "uri": URI.format("hello")}, "responses": {}}}}})
    assert [(op.path, op.method) for op in parse_definition(body.encode()).operations] == [("/hello", "GET")]
    assert parse_definition(body.encode()).warnings == []
    assert parse_definition(body.encode(), "prepend").operations[0].path == "/v1/api/hello"
    assert parse_definition(body.encode(), "split").operations[0].path == "/api/hello"


@pytest.mark.parametrize(("integration", "reason"), [
    ({"type": "HTTP"}, "integration type HTTP"),
    ({"type": "HTTP_PROXY", "uri": "http://example.com"}, "integration type HTTP_PROXY"),
    ({"type": "AWS_PROXY", "uri": "arn:aws:lambda:us-east-1:000000000000:function:f"}, "not a Lambda function's"),
    ({"type": "AWS_PROXY", "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem"}, "not a Lambda"),
    ({"type": "AWS_PROXY", "httpMethod": "GET", "uri": URI.format("f")}, "invoked with POST"),
])
def test_what_ember_does_not_run_is_said_and_what_it_runs_is_not(integration, reason):
    assert reason in (why_not_run(integration) or "")
    assert why_not_run({"type": "AWS_PROXY", "httpMethod": "POST", "uri": URI.format("f:live")}) is None
    assert why_not_run({"type": "MOCK"}) is None  # answered by ember.triggers.rest_mock


def test_operations_without_an_integration_and_ignored_extensions_are_warned_of():
    body = {"swagger": "2.0", "info": {"title": "t"}, "x-amazon-apigateway-gateway-responses": {},
            "paths": {"/a": {"post": {"responses": {}}, "summary": "not an operation"}}}
    definition = parse_definition(json.dumps(body).encode())
    assert [(op.method, op.integration) for op in definition.operations] == [("POST", None)]
    assert len(definition.warnings) == 2 and "x-amazon-apigateway-gateway-responses" in definition.warnings[1]


@pytest.mark.parametrize("raw", [
    b"{not: json: [", b"- a list", b"just text", b'{"info": {"title": "no version key"}, "paths": {}}',
    b'{"swagger": "2.0", "paths": []}', b'{"swagger": "2.0", "paths": {"/a/{proxy+}/b": {}}}',
    b'{"swagger": "2.0", "paths": {"no-slash": {}}}', b'{"swagger": "2.0", "paths": {"/a b": {}}}',
])
def test_a_body_that_is_no_definition_is_a_bad_request(raw):
    with pytest.raises(BadRequestException, match="Invalid OpenAPI input"):
        parse_definition(raw)


def test_patch_operations_replace_scalars_and_edit_maps_and_sets():
    allowed = Patchable(scalars={"name": str, "on": bool, "size": int}, maps=("variables",), sets=("types",))
    record = {"name": "a", "on": False, "variables": {"keep": "1", "drop": "2"}, "types": ["image/png"]}
    patched = apply(record, [{"op": "replace", "path": "/name", "value": "b"},
                             {"op": "replace", "path": "/on", "value": "true"},
                             {"op": "replace", "path": "/size", "value": "300"},
                             {"op": "replace", "path": "/variables/new", "value": "3"},
                             {"op": "remove", "path": "/variables/drop"},
                             {"op": "add", "path": "/types/application~1octet-stream"},
                             {"op": "remove", "path": "/types/image~1png"}], allowed)
    assert patched == {"name": "b", "on": True, "size": 300, "variables": {"keep": "1", "new": "3"},
                       "types": ["application/octet-stream"]}
    assert record["variables"] == {"keep": "1", "drop": "2"}  # the record itself is left as it was
    for bad in ({"op": "replace", "path": "/nope", "value": "x"}, {"op": "add", "path": "/name"},
                {"op": "replace", "path": "/on", "value": "maybe"}):
        with pytest.raises(BadRequestException):
            apply(record, [bad], allowed)


def test_overwrite_keeps_the_ids_of_paths_it_keeps_and_an_identical_one_changes_nothing(tmp_path):
    db = open_database(tmp_path / "ember.db")
    apis = RestApis(ApiStore(db), "us-east-1", lambda api_id: "")
    api_id = apis.create({"name": "a"})["id"]
    proxy = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": URI.format("f")}}
    first = json.dumps({"swagger": "2.0", "paths": {"/a/b": {"get": proxy}, "/c": {"post": proxy}}}).encode()
    apis.put_definition(api_id, first, "overwrite", {}, False)
    ids = {item["path"]: item["id"] for item in apis.resources.resources(api_id)}
    revision = apis.store.revisions[api_id]
    apis.put_definition(api_id, first, "overwrite", {}, False)
    assert apis.store.revisions[api_id] == revision + 1  # only the API record itself was written again
    second = json.dumps({"swagger": "2.0", "paths": {"/a/b": {"put": proxy}}}).encode()
    apis.put_definition(api_id, second, "overwrite", {}, False)
    resources = {item["path"]: item for item in apis.resources.resources(api_id, embed=True)}
    assert {path: item["id"] for path, item in resources.items()} == {path: ids[path] for path in ("/", "/a", "/a/b")}
    assert list(resources["/a/b"]["resourceMethods"]) == ["PUT"]
    apis.put_definition(api_id, json.dumps({"swagger": "2.0", "paths": {"/c": {"get": proxy}}}).encode(), "merge",
                        {}, False)
    assert {item["path"] for item in apis.resources.resources(api_id)} == {"/", "/a", "/a/b", "/c"}
    db.close()
