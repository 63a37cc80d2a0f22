"""Layers: the API through boto3 (publish, get, list, delete, permissions, AWS's errors) and what a function
sees of its layers: read-only at /opt, later layers over earlier ones, AWS's search paths for Python,
Node.js and binaries, and a real package (AWS Lambda Powertools for Python) used as its public layer is."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import ROLE, lambda_client, make_zip
from test_cli import BIN, ember_cli, run
from test_iam import TRUST, iam_client
from test_provided import TUTORIAL_BOOTSTRAP, TUTORIAL_FUNCTION

POWERTOOLS = "aws-lambda-powertools==3.37.0"  # pinned: installed from PyPI at test time, never vendored
PUBLIC_POWERTOOLS = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"


@pytest.fixture
def publish(client):
    """Publish layer versions; every version published is deleted after the test."""
    published: list[dict] = []

    def _publish(files: dict[str, str | bytes], name: str | None = None, modes: dict[str, int] | None = None,
                 **params: object) -> dict:
        layer = name or f"l-{uuid.uuid4().hex[:10]}"
        version = client.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip(files, modes)}, **params)
        published.append(version)
        return version

    yield _publish
    for version in published:
        client.delete_layer_version(LayerName=version["LayerArn"].split(":")[-1], VersionNumber=version["Version"])


def call(client, name: str, qualifier: str | None = None) -> object:
    args = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    response = client.invoke(**args)
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_publish_get_list_and_delete_as_aws_answers_them(client, publish):
    name = f"l-{uuid.uuid4().hex[:10]}"
    first = publish({"python/a.py": "A = 1\n"}, name=name, Description="first", LicenseInfo="MIT",
                    CompatibleRuntimes=["python3.11", "python3.12"], CompatibleArchitectures=["x86_64"])
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == 1 and first["LayerVersionArn"] == f"{first['LayerArn']}:1"
    assert first["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}"
    assert (first["Description"], first["LicenseInfo"]) == ("first", "MIT")
    assert first["CreatedDate"][-5:] == "+0000" and first["Content"]["CodeSize"] > 0
    second = publish({"python/a.py": "A = 2\n"}, name=name, CompatibleRuntimes=["nodejs20.x"],
                     CompatibleArchitectures=["arm64"])
    assert second["Version"] == 2 and "LicenseInfo" not in second

    got = client.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    with urllib.request.urlopen(got["Content"]["Location"]) as download:  # presigned, as AWS's link is
        assert download.read()[:2] == b"PK"
    assert client.get_layer_version_by_arn(Arn=second["LayerVersionArn"])["Version"] == 2
    assert client.get_layer_version(LayerName=first["LayerArn"], VersionNumber=2)["Version"] == 2

    versions = client.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1] and "Content" not in versions[0]
    assert [v["Version"] for v in client.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")
            ["LayerVersions"]] == [1]
    listed = {layer["LayerName"]: layer for layer in client.list_layers()["Layers"]}
    assert listed[name]["LatestMatchingVersion"]["Version"] == 2
    by_runtime = {layer["LayerName"]: layer for layer in client.list_layers(CompatibleRuntime="python3.11")["Layers"]}
    assert by_runtime[name]["LatestMatchingVersion"]["Version"] == 1  # the latest that matches
    assert name not in {layer["LayerName"] for layer in
                        client.list_layers(CompatibleRuntime="python3.11", CompatibleArchitecture="arm64")["Layers"]}

    client.delete_layer_version(LayerName=name, VersionNumber=2)
    client.delete_layer_version(LayerName=name, VersionNumber=2)  # idempotent, as AWS's
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_layer_version(LayerName=name, VersionNumber=2)
    assert publish({"x.txt": "3"}, name=name)["Version"] == 3, "a deleted version's number is never reused"


def test_layer_api_errors_are_aws_errors(client, publish):
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="Content.ZipFile only"):
        client.publish_layer_version(LayerName="s3-layer", Content={"S3Bucket": "bucket", "S3Key": "layer.zip"})
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="Could not unzip"):
        client.publish_layer_version(LayerName="bad-zip", Content={"ZipFile": b"not a zip"})
    with pytest.raises(client.exceptions.ClientError, match="compatibleRuntimes"):
        client.publish_layer_version(LayerName="bad-runtime", Content={"ZipFile": make_zip({"a": "a"})},
                                     CompatibleRuntimes=["python9"])
    with pytest.raises(client.exceptions.ClientError, match="compatibleRuntime"):
        client.list_layers(CompatibleRuntime="cobol")
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="Cannot be less than 1"):
        client.get_layer_version(LayerName="anything", VersionNumber=0)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_layer_version(LayerName=f"missing-{uuid.uuid4().hex[:6]}", VersionNumber=1)
    assert client.list_layer_versions(LayerName=f"missing-{uuid.uuid4().hex[:6]}")["LayerVersions"] == []


def test_layer_version_permissions(client, publish):
    version = publish({"a.txt": "a"})
    name, number = version["LayerArn"].split(":")[-1], version["Version"]
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="No policy"):
        client.get_layer_version_policy(LayerName=name, VersionNumber=number)
    added = client.add_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="xaccount",
                                                Action="lambda:GetLayerVersion", Principal="111122223333")
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "lambda:GetLayerVersion", "Resource": version["LayerVersionArn"]}
    org = client.add_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="org",
                                              Action="lambda:GetLayerVersion", Principal="*",
                                              OrganizationId="o-t194hfs8cz", RevisionId=added["RevisionId"])
    assert json.loads(org["Statement"])["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-t194hfs8cz"}}
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.add_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="org",
                                            Action="lambda:GetLayerVersion", Principal="*")
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.remove_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="org",
                                               RevisionId=added["RevisionId"])
    policy = client.get_layer_version_policy(LayerName=name, VersionNumber=number)
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in document["Statement"]] == ["xaccount", "org"]
    assert policy["RevisionId"] == org["RevisionId"]
    client.remove_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="xaccount")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Statement xaccount is not found"):
        client.remove_layer_version_permission(LayerName=name, VersionNumber=number, StatementId="xaccount")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="does not exist"):
        client.add_layer_version_permission(LayerName=name, VersionNumber=99, StatementId="s",
                                            Action="lambda:GetLayerVersion", Principal="*")


def test_functions_refuse_layers_as_aws_does(client, deploy, publish, ember):
    one = publish({"a.txt": "1"})
    two = publish({"a.txt": "2"}, name=one["LayerArn"].split(":")[-1])
    name = deploy("def handler(e, c):\n    return 1\n")
    cases = [
        ([one["LayerVersionArn"]] * 6, "Cannot reference more than 5 layers."),
        ([f"{one['LayerArn']}:99"], f"Layer version {one['LayerArn']}:99 does not exist."),
        ([one["LayerVersionArn"], two["LayerVersionArn"]], "Two different versions of the same layer"),
        ([one["LayerVersionArn"].replace("us-east-1", "eu-west-1")], "expected to be in region us-east-1"),
    ]
    for layers, message in cases:
        with pytest.raises(client.exceptions.InvalidParameterValueException) as refused:
            client.update_function_configuration(FunctionName=name, Layers=layers)
        assert message in str(refused.value)
    with pytest.raises(client.exceptions.ClientError, match="at 'layers' failed to satisfy constraint"):
        client.update_function_configuration(FunctionName=name, Layers=[one["LayerArn"]])  # no version


def test_a_layer_of_another_account_says_how_to_publish_it_here(client, ember):
    with pytest.raises(client.exceptions.InvalidParameterValueException) as refused:
        client.create_function(FunctionName=f"t-{uuid.uuid4().hex[:10]}", Runtime="python3.12", Role=ROLE,
                               Handler="index.handler", Code={"ZipFile": make_zip({"index.py": "x = 1\n"})},
                               Layers=[PUBLIC_POWERTOOLS])
    message = str(refused.value)
    assert "belongs to AWS account 017000801446" in message
    assert f"aws lambda publish-layer-version --endpoint-url {ember.url} " \
           "--layer-name AWSLambdaPowertoolsPythonV3-python312-x86_64" in message


LAYERED = """
import os, subprocess, sys
import mylib

def handler(event, context):
    try:
        open("/opt/new-file", "w")
        writable = True
    except OSError:
        writable = False
    return {"lib": mylib.WHO, "shared": open("/opt/shared.txt").read(), "tool": subprocess.run(
        ["layer-tool"], capture_output=True, text=True).stdout.strip(), "writable": writable,
        "path": sys.path[:3], "opt": sorted(os.listdir("/opt"))}
"""


def test_a_python_function_imports_runs_and_reads_from_its_layers_in_order(client, deploy, publish):
    base = publish({"python/mylib.py": "WHO = 'base'\n", "shared.txt": "base",
                    "bin/layer-tool": "#!/bin/sh\necho tool\n"}, modes={"bin/layer-tool": 0o755})
    override = publish({"shared.txt": "override", "python/mylib.py": "WHO = 'override'\n"})
    name = deploy(LAYERED)
    configured = client.update_function_configuration(FunctionName=name, Layers=[base["LayerVersionArn"]])
    assert configured["Layers"] == [{"Arn": base["LayerVersionArn"], "CodeSize": base["Content"]["CodeSize"]}]
    first = call(client, name)
    assert (first["lib"], first["shared"], first["tool"], first["writable"]) == ("base", "base", "tool", False)
    assert first["path"] == ["/var/task", "/opt/python/lib/python3.11/site-packages", "/opt/python"]
    client.update_function_configuration(FunctionName=name, Layers=[base["LayerVersionArn"],
                                                                    override["LayerVersionArn"]])
    second = call(client, name)
    assert (second["lib"], second["shared"], second["tool"]) == ("override", "override", "tool")
    assert second["opt"] == ["bin", "python", "shared.txt"]
    fetched = client.get_function(FunctionName=name)["Configuration"]["Layers"]
    assert [layer["Arn"] for layer in fetched] == [base["LayerVersionArn"], override["LayerVersionArn"]]


def test_without_a_mount_namespace_layers_are_found_where_they_are(ember_with):
    """`--isolation rlimits` has no /opt of its own: the runtimes are told the merged tree's real path."""
    server = ember_with("--isolation", "rlimits", "--zygote", "off")
    client = lambda_client(server.url)
    base = client.publish_layer_version(LayerName="base", Content={"ZipFile": make_zip(
        {"python/mylib.py": "WHO = 'base'\n", "bin/layer-tool": "#!/bin/sh\necho tool\n"},
        {"bin/layer-tool": 0o755})})
    override = client.publish_layer_version(LayerName="override", Content={"ZipFile": make_zip(
        {"python/mylib.py": "WHO = 'override'\n"})})
    client.create_function(FunctionName="host-layers", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "import mylib, subprocess\ndef handler(e, c):\n"
                                                      "    return [mylib.WHO, subprocess.run(['layer-tool'], "
                                                      "capture_output=True, text=True).stdout]\n"})},
                           Layers=[base["LayerVersionArn"], override["LayerVersionArn"]])
    assert call(client, "host-layers") == ["override", "tool\n"]


def test_a_node_function_requires_and_imports_modules_from_its_layer(client, deploy, publish):
    layer = publish({"nodejs/node_modules/greeter/index.js": "module.exports = (n) => `hello ${n}`;\n",
                     "nodejs/node20/node_modules/only20/index.js": "module.exports = 20;\n"})
    name = deploy({"index.js": "const greet = require('greeter');\nconst v = require('only20');\n"
                               "exports.handler = async (e) => ({greeting: greet(e.who), v});\n"},
                  runtime="nodejs20.x")
    client.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
    response = client.invoke(FunctionName=name, Payload=json.dumps({"who": "layer"}))
    assert json.loads(response["Payload"].read()) == {"greeting": "hello layer", "v": 20}
    esm = deploy({"app.mjs": "import greet from 'greeter';\nimport v from 'only20';\n"  # AWS's Node.js 18+ finds
                             "export const handler = async (e) => ({greeting: greet(e.who), v});\n"},  # these too
                 runtime="nodejs20.x", handler="app.handler")
    client.update_function_configuration(FunctionName=esm, Layers=[layer["LayerVersionArn"]])
    response = client.invoke(FunctionName=esm, Payload=json.dumps({"who": "esm"}))
    assert json.loads(response["Payload"].read()) == {"greeting": "hello esm", "v": 20}


def test_a_custom_runtime_can_come_from_a_layer(client, deploy, publish):
    """AWS's custom-runtime tutorial ships its bash runtime as a layer: /opt/bootstrap; the function has function.sh."""
    runtime = publish({"bootstrap": TUTORIAL_BOOTSTRAP}, modes={"bootstrap": 0o755})
    name = deploy({"function.sh": TUTORIAL_FUNCTION}, runtime="provided.al2023", handler="function.handler")
    client.update_function_configuration(FunctionName=name, Layers=[runtime["LayerVersionArn"]])
    response = client.invoke(FunctionName=name, Payload=b'{"k": 1}')
    assert response["Payload"].read() == b"Echoing request: '{\"k\": 1}'"


def test_versions_snapshot_layers_and_a_deleted_layer_version_keeps_serving(client, deploy, publish):
    old = publish({"python/mylib.py": "WHO = 'old'\n"})
    new = publish({"python/mylib.py": "WHO = 'new'\n"})
    name = deploy("import mylib\ndef handler(e, c):\n    return mylib.WHO\n")
    client.update_function_configuration(FunctionName=name, Layers=[old["LayerVersionArn"]])
    assert client.publish_version(FunctionName=name)["Layers"][0]["Arn"] == old["LayerVersionArn"]
    client.update_function_configuration(FunctionName=name, Layers=[new["LayerVersionArn"]])
    client.delete_layer_version(LayerName=old["LayerArn"].split(":")[-1], VersionNumber=old["Version"])
    assert (call(client, name), call(client, name, "1")) == ("new", "old"), "version 1 keeps its deleted layer"
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="does not exist"):
        client.update_function_configuration(FunctionName=name, Layers=[old["LayerVersionArn"]])
    assert "Layers" not in client.update_function_configuration(FunctionName=name, Layers=[])


def test_a_layer_carrying_extensions_is_warned_of(client, deploy, publish):
    layer = publish({"extensions/my-extension": "#!/bin/sh\n"}, modes={"extensions/my-extension": 0o755})
    name = deploy("def handler(e, c):\n    return 1\n")
    updated = client.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
    warning = updated["ResponseMetadata"]["HTTPHeaders"]["x-ember-warning"]
    assert layer["LayerVersionArn"] in warning and "/opt/extensions" in warning


@pytest.fixture(scope="session")
def powertools_layer(tmp_path_factory) -> bytes:
    """AWS Lambda Powertools for Python laid out as its public layer is (python/…), installed from PyPI now."""
    root = tmp_path_factory.mktemp("powertools")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                    "--target", str(root / "python"), POWERTOOLS], check=True, timeout=300)
    files: dict[str, str | bytes] = {str(path.relative_to(root)): path.read_bytes()
                                     for path in sorted(root.rglob("*")) if path.is_file()}
    return make_zip(files)


POWERTOOLS_HANDLER = """
from aws_lambda_powertools import Logger

logger = Logger(service="orders")
calls = 0

@logger.inject_lambda_context
def handler(event, context):
    global calls
    calls += 1
    logger.info("order placed", extra={"order": event["order"]})
    return {"calls": calls}
"""


def test_aws_powertools_in_a_layer_works_as_its_public_layer_does(client, deploy, powertools_layer):
    layer = client.publish_layer_version(LayerName="AWSLambdaPowertoolsPythonV3", Content={"ZipFile": powertools_layer},
                                         CompatibleRuntimes=["python3.11", "python3.12"])
    try:
        name = deploy(POWERTOOLS_HANDLER)
        client.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
        for expected in (1, 2):  # the second call is warm: module state kept
            response = client.invoke(FunctionName=name, Payload=json.dumps({"order": expected}), LogType="Tail")
            assert json.loads(response["Payload"].read()) == {"calls": expected}
        lines = [json.loads(line) for line in base64.b64decode(response["LogResult"]).decode().splitlines()
                 if line.startswith("{")]
        assert lines[-1]["message"] == "order placed" and lines[-1]["service"] == "orders"
        assert lines[-1]["order"] == 2 and lines[-1]["function_name"] == name and lines[-1]["cold_start"] is False
    finally:
        client.delete_layer_version(LayerName="AWSLambdaPowertoolsPythonV3", VersionNumber=layer["Version"])


def test_layer_content_is_collected_once_nothing_names_it(ember, client, deploy, publish):
    layer = publish({"python/gone.py": "X = 1\n"})
    digest = base64.b64decode(layer["Content"]["CodeSha256"]).hex()
    code = Path(ember.data_dir) / "code"
    assert (code / digest).is_dir()
    client.delete_layer_version(LayerName=layer["LayerArn"].split(":")[-1], VersionNumber=layer["Version"])
    client.delete_function(FunctionName=deploy("x = 1\n"))  # any registry change runs the collector
    assert not (code / digest).exists()


def test_the_cli_publishes_lists_and_deploys_with_layers(ember, client, tmp_path):
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "clilib.py").write_text("WHO = 'cli'\n")
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "index.py").write_text("import clilib\ndef handler(e, c):\n    return clilib.WHO\n")
    published = ember_cli(ember, "layers", "publish", "cli-layer", str(tmp_path / "layer"), "--runtime", "python3.11")
    assert published.returncode == 0, published.stderr
    assert re.match(r"published arn:aws:lambda:us-east-1:000000000000:layer:cli-layer:\d+ ", published.stdout)
    (tmp_path / "layer.zip").write_bytes(make_zip({"python/clilib.py": "WHO = 'aws cli'\n"}))
    by_aws = run(str(BIN / "aws"), "lambda", "publish-layer-version", "--endpoint-url", ember.url,  # as the foreign
                 "--layer-name", "cli-layer", "--zip-file", f"fileb://{tmp_path / 'layer.zip'}")  # layer's error says
    assert by_aws.returncode == 0, by_aws.stderr
    arn = json.loads(by_aws.stdout)["LayerVersionArn"]
    try:
        deployed = ember_cli(ember, "deploy", str(tmp_path / "fn"), "--name", "cli-layered", "--layer", arn)
        assert deployed.returncode == 0, deployed.stderr
        assert call(client, "cli-layered") == "aws cli"
        listed = ember_cli(ember, "layers", "ls")
        rows = [line.split() for line in listed.stdout.splitlines() if line.startswith("cli-layer ")]
        assert [row[1] for row in rows] == [arn.rsplit(":", 1)[1], str(int(arn.rsplit(":", 1)[1]) - 1)]
        assert rows[1][2] == "python3.11" and rows[0][-1] == arn
        missing = ember_cli(ember, "layers", "publish", "x", str(tmp_path / "nowhere"))
        assert missing.returncode == 4 and missing.stderr.startswith("ember: no such file or folder")
    finally:
        client.delete_function(FunctionName="cli-layered")
        for version in client.list_layer_versions(LayerName="cli-layer")["LayerVersions"]:
            client.delete_layer_version(LayerName="cli-layer", VersionNumber=version["Version"])


SESSION_CALLER = """
import base64, boto3

def handler(event, context):
    client = boto3.client("lambda")
    outcome = {}
    for layer in ("shared-ok", "shared-secret"):
        try:
            arn = client.publish_layer_version(LayerName=layer, Content={"ZipFile": base64.b64decode(event["zip"])})
            created = client.create_function(FunctionName=f"{layer}-user", Runtime="python3.11", Role=event["role"],
                                             Handler="index.handler", Code={"ZipFile": base64.b64decode(event["zip"])},
                                             Layers=[arn["LayerVersionArn"]])
            outcome[layer] = created["Layers"][0]["Arn"]
        except client.exceptions.ClientError as error:
            outcome[layer] = error.response["Error"]["Code"]
    return outcome
"""


def test_a_session_adds_only_the_layers_its_role_may_get(ember, client, deploy):
    """As on AWS, adding a layer to a function takes lambda:GetLayerVersion on it."""
    iam = iam_client(ember.url)
    suffix = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"layers-{suffix}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"layers-{suffix}", PolicyName="layers", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lambda:PublishLayerVersion", "lambda:CreateFunction"], "Resource": "*"},
            {"Effect": "Allow", "Action": "lambda:GetLayerVersion",
             "Resource": "arn:aws:lambda:us-east-1:000000000000:layer:shared-ok:*"}]}))
    name = deploy(SESSION_CALLER, timeout=20, memory=256)
    client.update_function_configuration(FunctionName=name, Role=role)
    try:
        zipped = base64.b64encode(make_zip({"index.py": "def handler(e, c):\n    return 1\n"})).decode()
        response = client.invoke(FunctionName=name, Payload=json.dumps({"zip": zipped, "role": ROLE}))
        assert "FunctionError" not in response, response["Payload"].read()
        outcome = json.loads(response["Payload"].read())
        assert outcome["shared-ok"].startswith("arn:aws:lambda:us-east-1:000000000000:layer:shared-ok:")
        assert outcome["shared-secret"] == "AccessDeniedException"
    finally:
        for fn in ("shared-ok-user", "shared-secret-user"):
            try:
                client.delete_function(FunctionName=fn)
            except client.exceptions.ResourceNotFoundException:
                pass
        for layer in ("shared-ok", "shared-secret"):
            for version in client.list_layer_versions(LayerName=layer)["LayerVersions"]:
                client.delete_layer_version(LayerName=layer, VersionNumber=version["Version"])
