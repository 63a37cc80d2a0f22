"""`ember deploy` of SAM templates and serverless.yml projects, run as a user runs it, against a real server:
the plan, the apply, the Outputs' URLs answering over HTTP (curl), a second deploy changing nothing, an edit
updating only its function, a removal deleting, a failing apply leaving the previous version serving, bad
input refused in one line, `ember stacks` and `ember rm --stack`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from conftest import BIN, EmberProcess, lambda_client, make_zip, wait_for, wait_for_records

DATA = Path(__file__).parent / "data" / "apps"
UNIT_DATA = Path(__file__).parents[1] / "unit" / "data" / "apps"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("stacks")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.url)


def aws(server: EmberProcess, service: str):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


def ember(server: EmberProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "EMBER_ENDPOINT_URL": server.url, "COLUMNS": "200"}
    return subprocess.run([str(BIN / "ember"), *argv], capture_output=True, text=True, env=env, timeout=120)


def deployed(server: EmberProcess, *argv: str) -> dict[str, str]:
    """`ember deploy …`, which must succeed; its Outputs (key → value)."""
    result = ember(server, "deploy", *argv)
    assert result.returncode == 0, result.stdout + result.stderr
    return outputs(result.stdout)


def outputs(text: str) -> dict[str, str]:
    found = {}
    for line in text.split("Outputs:", 1)[1].splitlines() if "Outputs:" in text else []:
        match = re.match(r"^  (\w+): (\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def curl(url: str) -> tuple[int, str]:
    """GET as a user would: curl resolves *.localhost to the loopback address itself."""
    result = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", url], capture_output=True, text=True, timeout=30)
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def project(tmp_path: Path, name: str, source: Path = DATA) -> Path:
    folder = tmp_path / name
    shutil.copytree(source / name.split("--")[0], folder)
    return folder


@pytest.fixture(scope="module")
def pair(server, tmp_path_factory) -> dict[str, object]:
    """One stack the tests below take through its life, in file order: deployed, redeployed, edited, failed,
    shrunk, removed (each `ember deploy` costs seconds: the SAM translator alone takes one to import)."""
    folder = project(tmp_path_factory.mktemp("pair"), "pair")
    return {"folder": folder}


def test_a_project_deploys_answers_and_a_second_deploy_changes_nothing(server, lam, pair):
    result = ember(server, "deploy", str(pair["folder"]))
    assert result.returncode == 0, result.stderr
    assert "pair: 9 to create, 0 to update, 0 to delete, 0 unchanged" in result.stdout
    found = pair["outputs"] = outputs(result.stdout)
    assert curl(found["PairApi"] + "greet") == (200, '{"greeting": "hello v1"}')
    assert curl(found["CountUrl"]) == (200, '{"calls": 1}')
    answer = lam.invoke(FunctionName=found["GreetFunction"])
    assert json.loads(json.loads(answer["Payload"].read())["body"]) == {"greeting": "hello v1"}

    again = ember(server, "deploy", str(pair["folder"]))
    assert again.returncode == 0 and "pair: all unchanged" in again.stdout, again.stdout + again.stderr
    assert outputs(again.stdout) == found  # the same ids: nothing was made again
    assert curl(found["PairApi"] + "count") == (200, '{"calls": 2}')  # the same warm environment


def test_an_edit_updates_only_its_function_and_the_other_stays_warm(server, lam, pair):
    folder, found = pair["folder"], pair["outputs"]
    greet = folder / "greet" / "app.py"
    greet.write_text(greet.read_text().replace("v1", "v2"))
    dry = ember(server, "deploy", str(folder), "--dry-run")
    assert dry.returncode == 0 and "pair: 0 to create, 1 to update, 0 to delete, 8 unchanged" in dry.stdout
    assert re.search(r"GreetFunction\s+│\s+update code\s+│ Code", dry.stdout), dry.stdout
    assert curl(found["PairApi"] + "greet") == (200, '{"greeting": "hello v1"}'), "a dry run changes nothing"

    result = ember(server, "deploy", str(folder))
    assert result.returncode == 0 and "pair: 0 to create, 1 to update" in result.stdout, result.stderr
    assert curl(found["PairApi"] + "greet") == (200, '{"greeting": "hello v2"}')
    assert curl(found["PairApi"] + "count") == (200, '{"calls": 3}')  # module state kept: the same environment
    count = _name(lam, "pair", "CountFunction")
    records = wait_for_records(server.data_dir, 3, "function = ?", (count,))
    assert [row["cold"] for row in sorted(records, key=lambda row: row["started_at"])] == [1, 0, 0]


def test_a_failing_apply_rolls_back_and_the_previous_version_serves(server, lam, pair):
    folder, found = pair["folder"], pair["outputs"]
    lam.create_function(FunctionName="taken-by-someone", Runtime="python3.12", Handler="index.handler",
                        Role="arn:aws:iam::000000000000:role/ember-function",
                        Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 'mine'\n"})})
    greet = folder / "greet" / "app.py"
    greet.write_text(greet.read_text().replace("v2", "v3"))
    template = folder / "template.yaml"
    good = template.read_text()
    template.write_text(good.replace("Outputs:", TAKEN + "\nOutputs:"))

    result = ember(server, "deploy", str(folder))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ember: deploy failed: function TakenFunction: ResourceConflictException: ") and \
        "rolled back; the previous version still serves" in line, line
    assert curl(found["PairApi"] + "greet") == (200, '{"greeting": "hello v2"}')  # its code, put back
    assert lam.invoke(FunctionName="taken-by-someone")["Payload"].read() == b'"mine"'  # someone else's, untouched
    assert "ember:stack" not in lam.list_tags(Resource=lam.get_function(FunctionName="taken-by-someone")[
        "Configuration"]["FunctionArn"])["Tags"]
    assert not [role for role in aws(server, "iam").list_roles()["Roles"] if "TakenFunctionRole" in role["RoleName"]]
    lam.delete_function(FunctionName="taken-by-someone")
    template.write_text(good)


def test_a_function_removed_from_the_template_is_deleted_with_its_url_and_route(server, lam, pair):
    folder, found = pair["folder"], pair["outputs"]
    count = _name(lam, "pair", "CountFunction")
    template = folder / "template.yaml"
    text = template.read_text()
    text = text[:text.index("  CountFunction:")] + text[text.index("Outputs:"):]
    template.write_text(text[:text.index("  CountUrl:")] + text[text.index("  GreetFunction:\n    Value"):])

    result = ember(server, "deploy", str(folder))
    assert result.returncode == 0, result.stderr
    # v3 of greet (left by the failed deploy) goes out now; the function, its role, its 3 permissions are deleted
    assert "pair: 0 to create, 2 to update, 5 to delete, 2 unchanged" in result.stdout, result.stdout
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=count)
    assert curl(found["CountUrl"])[0] == 403  # an unknown URL: Forbidden, as on AWS
    assert curl(found["PairApi"] + "count")[0] == 404
    assert curl(found["PairApi"] + "greet") == (200, '{"greeting": "hello v3"}')


def test_stacks_list_what_each_owns_and_rm_removes_all_of_it(server, lam, pair):
    listed = ember(server, "stacks")
    assert re.search(r"pair\s+1 role, 1 function, 1 permission, 1 http api\s+GreetFunctionRole, GreetFunction, "
                     r"ServerlessHttpApi", listed.stdout), listed.stdout
    removed = ember(server, "rm", "--stack", "pair")
    assert removed.returncode == 0 and removed.stdout.startswith("deleted stack pair: "), removed.stderr
    assert curl(pair["outputs"]["PairApi"] + "greet")[0] == 404
    assert not [f for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith("pair-")]
    assert not [r for r in aws(server, "iam").list_roles()["Roles"] if r["RoleName"].startswith("pair-")]
    again = ember(server, "rm", "--stack", "pair")
    assert again.returncode == 2 and "no stack named pair" in again.stderr


def test_bad_input_is_one_line_and_changes_nothing(server, lam, tmp_path):
    folder = project(tmp_path, "pair--bad")
    template = folder / "template.yaml"
    good = template.read_text()
    cases = {
        "Resources:\n  GreetFunction:\n    Type: [unclosed\n": r"template.yaml:\d+:\d+: while parsing a flow sequence",
        good.replace("Runtime: python3.12", "Runtime: python9.9"): r"template.yaml: GreetFunction: .*python9\.9",
        good.replace("Handler: app.handler\n      Events:\n        Greet",
                     "Handler: app.nothere\n      Events:\n        Greet"): r"'nothere' is not defined in app\.py",
        good.replace("        Greet:\n", "        Tick:\n          Type: Schedule\n          Properties:\n"
                                       "            Schedule: cron(0 25 * * ? *)\n        Greet:\n"):
            r"template.yaml: schedule expression 'cron\(0 25 \* \* \? \*\)' is not valid: '25' is not between 0 and 23",
    }
    before = len(lam.list_functions()["Functions"])
    for text, expected in cases.items():
        template.write_text(text)
        result = ember(server, "deploy", str(folder))
        assert result.returncode == 4, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert re.search(expected, line), line
    assert len(lam.list_functions()["Functions"]) == before
    assert "pair--bad" not in ember(server, "stacks").stdout


TAKEN = """  TakenFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: taken-by-someone
      CodeUri: greet/
      Handler: app.handler
"""


@pytest.mark.parametrize("name", ["hello-python", "hello-node"])
def test_sam_init_hello_worlds_answer_over_http_and_the_lambda_api(server, lam, tmp_path, name):
    found = deployed(server, str(project(tmp_path, name)))
    status, body = curl(found["HelloWorldApi"])
    assert status == 200 and json.loads(body) == {"message": f"hello from {name.split('-')[1]}", "path": "/hello/"}
    answer = json.loads(lam.invoke(FunctionName=found["HelloWorldFunction"], Payload=b'{"path": "/x"}')[
        "Payload"].read())
    assert answer["statusCode"] == 200


def test_a_serverless_project_deploys_with_the_frameworks_names_and_warms(server, lam, tmp_path):
    folder = project(tmp_path, "sls-store")
    found = deployed(server, str(folder), "--stage", "test")
    assert set(found) == {"ServiceEndpoint", "HttpApiUrl", "ItemsLambdaFunctionUrl"}
    config = lam.get_function_configuration(FunctionName="store-test-items")
    assert (config["MemorySize"], config["Timeout"]) == (1024, 6)  # the framework's defaults
    assert curl(found["ServiceEndpoint"] + "/items") == (200, '{"item": "all", "stage": "test"}')
    assert curl(found["HttpApiUrl"] + "/items/7") == (200, '{"item": "7", "stage": "test"}')
    assert curl(found["ItemsLambdaFunctionUrl"]) == (200, '{"item": "all", "stage": "test"}')  # url: true
    rules = aws(server, "events").list_rules()["Rules"]
    assert {rule["ScheduleExpression"] for rule in rules if rule["Name"].startswith("store-test-")} == {
        "rate(1 hour)", "rate(5 minutes)"}
    warmed = lam.invoke(FunctionName="store-test-warmup-plugin-default")
    assert json.loads(warmed["Payload"].read()) == {"warmed": 2, "errors": 0}
    records = wait_for_records(server.data_dir, 4, "function = ?", ("store-test-items",))
    assert sum(row["cold"] for row in records) >= 2, "concurrency 2: two environments at once"
    line = 'warm-up call, client context {"source": "serverless-plugin-warmup"}'  # the plugin's ClientContext
    assert wait_for(lambda: line in ember(server, "logs", "store-test-items").stdout)
    again = ember(server, "deploy", str(folder), "--stage", "test")
    assert "all unchanged" in again.stdout, again.stdout


def test_a_multi_function_sam_app_deploys(server, lam, tmp_path):
    """Globals, an Api and an HttpApi event, two schedules, a layer, AutoPublishAlias with provisioned concurrency,
    a function URL, an async config, and resources Ember does not run."""
    folder = project(tmp_path, "sam-shop", UNIT_DATA)
    result = ember(server, "deploy", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("not run by Ember") == 1  # the unsupported-resources warning, once
    found = outputs(result.stdout)
    table = found["TableArn"].split("/")[1]  # the name CloudFormation would give the table Ember does not run
    assert curl(found["OrdersApi"]) == (200, json.dumps({"table": table, "orders": []}))
    assert curl(found["CreateOrderUrl"]) == (201, '{"created": true}')
    lister = _name(lam, "sam-shop", "ListOrdersFunction")
    assert lam.get_alias(FunctionName=lister, Name="live")["FunctionVersion"] == "1"
    assert lam.get_provisioned_concurrency_config(FunctionName=lister, Qualifier="live")["Status"] == "READY"
    (layer,) = lam.get_function_configuration(FunctionName=lister)["Layers"]
    assert layer["Arn"].endswith(":layer:sam-shop-common:1")
    events, scheduler = aws(server, "events"), aws(server, "scheduler")
    assert [r["ScheduleExpression"] for r in events.list_rules()["Rules"] if r["Name"].startswith("sam-shop-")] == [
        "cron(0 3 * * ? *)"]
    assert scheduler.get_schedule(Name="NightlyReportFunctionHourly")["ScheduleExpression"] == "rate(1 hour)"
    again = ember(server, "deploy", str(folder))
    assert "sam-shop: all unchanged" in again.stdout, again.stdout
    prod = ember(server, "deploy", str(folder), "--dry-run", "--parameter-overrides",
                 "ParameterKey=Stage,ParameterValue=prod")  # SAM CLI's long form
    changed = re.findall(r"(\w+Function)\s+│ update configuration │ (.*?)\s+│", prod.stdout)
    assert sorted(changed) == [(name, "Environment, MemorySize") for name in
                               ("CreateOrderFunction", "ListOrdersFunction", "NightlyReportFunction")], prod.stdout

    removed = ember(server, "rm", "--stack", "sam-shop")
    assert removed.returncode == 0 and "1 layer, 3 functions" in removed.stdout, removed.stdout + removed.stderr
    assert lam.list_layer_versions(LayerName="sam-shop-common")["LayerVersions"] == []
    assert scheduler.list_schedules()["Schedules"] == []


def _name(lam, stack: str, logical_id: str) -> str:
    for config in lam.list_functions()["Functions"]:
        tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
        if tags.get("ember:stack") == stack and tags.get("ember:logical-id") == logical_id:
            return str(config["FunctionName"])
    raise AssertionError(f"no function {logical_id} in stack {stack}")
