"""AWS's own libraries inside functions, unchanged: the SDK of every language Ember runs (boto3, the JavaScript
SDK v3, the AWS SDK for Java v2, aws-sdk-go-v2) calls another function through Ember with the caller's own
role, and the event types of aws-lambda-go and aws-lambda-java-events map an API Gateway event as on AWS."""

from __future__ import annotations

import json
import uuid

import pytest
from aws_libraries import go_binary, java_ric_files, java_sdk_folder
from conftest import ROLE, make_zip
from test_iam import TRUST, iam_client

from ember.cli.java_build import java_zip

pytestmark = pytest.mark.integration

PYTHON_CALLER = """import json, boto3
def handler(event, context):
    answer = boto3.client("lambda").invoke(FunctionName=event["target"], Payload=json.dumps(event["payload"]))
    return json.loads(answer["Payload"].read())
"""
NODE_CALLER = """const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const lambda = new LambdaClient({});
exports.handler = async (event) => {
  const command = new InvokeCommand({ FunctionName: event.target, Payload: JSON.stringify(event.payload) });
  const answer = await lambda.send(command);
  return JSON.parse(Buffer.from(answer.Payload).toString());
};
"""
EXECUTABLE = {"bootstrap": 0o755}
CALLERS = ("boto3", *(pytest.param(sdk, marks=pytest.mark.one_mode) for sdk in ("javascript-v3", "java-v2", "go-v2")))


def caller_code(sdk: str) -> tuple[str, str, int, bytes]:
    """(runtime, handler, memory, zip) of a function that invokes event.target with `sdk`, configured by nothing."""
    if sdk == "boto3":
        return "python3.11", "index.handler", 256, make_zip({"index.py": PYTHON_CALLER})
    if sdk == "javascript-v3":  # not bundled: the runtime's preinstalled copy, as on AWS
        return "nodejs20.x", "index.handler", 256, make_zip({"index.js": NODE_CALLER})
    if sdk == "java-v2":
        return "java17", "example.Caller", 1024, java_zip(java_sdk_folder())
    return "provided.al2023", "bootstrap", 256, make_zip({"bootstrap": go_binary("caller")}, EXECUTABLE)


@pytest.fixture(scope="module")
def worker(ember, client):
    """The function every caller invokes, and a role allowed to invoke it (and nothing else)."""
    name = f"worker-{uuid.uuid4().hex[:8]}"
    client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(event, context):\n"
                                                                  "    return event['n'] * 21\n"})})
    arn = client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    iam, role = iam_client(ember.url), f"caller-{uuid.uuid4().hex[:8]}"
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="invoke-worker", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]}))
    yield name, role_arn
    client.delete_function(FunctionName=name)


@pytest.mark.parametrize("sdk", CALLERS)
def test_each_languages_sdk_invokes_another_function_unchanged(client, worker, sdk):
    target, role = worker
    runtime, handler, memory, code = caller_code(sdk)
    name = f"call-{sdk}-{uuid.uuid4().hex[:6]}"
    client.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler, MemorySize=memory,
                           Timeout=30, Code={"ZipFile": code})
    try:
        response = client.invoke(FunctionName=name, Payload=json.dumps({"target": target, "payload": {"n": 2}}))
        body = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, body
        assert body == 42, "the nested invoke went through Ember's API with the caller's role"
    finally:
        client.delete_function(FunctionName=name)


HTTP_EVENT = {"version": "2.0", "routeKey": "GET /hello", "rawPath": "/hello", "rawQueryString": "name=Ada",
              "queryStringParameters": {"name": "Ada"}, "headers": {"host": "example.com"}, "isBase64Encoded": False,
              "requestContext": {"accountId": "000000000000", "apiId": "api", "domainName": "example.com",
                                 "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1",
                                          "sourceIp": "127.0.0.1", "userAgent": "curl"},
                                 "requestId": "id", "routeKey": "GET /hello", "stage": "$default",
                                 "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000}}


@pytest.mark.one_mode
@pytest.mark.parametrize("library", ["aws-lambda-go", "aws-lambda-java-events"])
def test_the_event_libraries_types_map_an_http_api_event(client, deploy, library):
    if library == "aws-lambda-go":
        name = deploy({"bootstrap": go_binary("behaviour")}, runtime="provided.al2023", handler="bootstrap",
                      modes=EXECUTABLE)
    else:
        name = deploy(java_ric_files(), runtime="provided.al2023", handler="example.HttpHandler::handleRequest",
                      modes=EXECUTABLE, memory=1024, timeout=20)
    response = client.invoke(FunctionName=name, Payload=json.dumps(HTTP_EVENT))
    answer = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, answer
    assert answer["statusCode"] == 200 and answer["headers"] == {"content-type": "application/json"}
    assert json.loads(answer["body"]) == {"path": "/hello", "method": "GET", "name": "Ada"}
