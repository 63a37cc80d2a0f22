"""ember.apps.serverless: serverless.yml (v3, v4) → the same model as SAM, with the framework's defaults and
names, its variables resolved, and serverless-plugin-warmup's warmers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ember.apps.local_urls import local_outputs
from ember.apps.model import LayerRef
from ember.apps.serverless import find_serverless, load_serverless
from ember.apps.triggers import FunctionTarget, HttpRoute, RestRoute, WarmTarget
from ember.cli.packaging import package
from ember.errors import TemplateError

DATA = Path(__file__).parent / "data" / "apps"


def load(name: str, **kwargs):
    kwargs.setdefault("environ", {})
    return load_serverless(find_serverless(DATA / name), **kwargs)


def test_v3_service_with_the_frameworks_names_and_defaults():
    stack = load("sls-v3")
    assert (stack.name, stack.region) == ("catalog-dev", "eu-west-1")
    lister, refresh, _warmer = stack.functions
    assert (lister.name, lister.logical_id) == ("catalog-dev-listItems", "ListItemsLambdaFunction")
    assert lister.config["MemorySize"] == 512  # provider.memorySize from ${file(...)}'s key
    assert lister.config["Timeout"] == 6 and refresh.config["Timeout"] == 30  # the framework's default, then own
    role, _warmer_role = stack.roles
    assert role.name == "catalog-dev-eu-west-1-lambdaRole" and lister.config["Role"] == role.arn
    statements = role.inline_policies["catalog-dev-lambda"]["Statement"]
    assert statements[1]["Resource"].startswith("arn:aws:dynamodb:eu-west-1:000000000000:table/catalog-dev-ItemsTable-")
    (layer,) = stack.layers
    assert (layer.logical_id, layer.name) == ("DepsLambdaLayer", "deps")
    assert lister.layers == (LayerRef(logical_id="DepsLambdaLayer"),)
    assert refresh.alias.name == "provisioned" and refresh.alias.provisioned == 1 and refresh.reserved_concurrency == 3
    assert lister.url_config == {"AuthType": "NONE"}


def test_variables_of_every_supported_kind():
    variables = load("sls-v3", environ={"CATALOG_OWNER": "ana"}).functions[0].config["Environment"]["Variables"]
    assert variables["TABLE"] == "catalog-dev-main"  # ${self:service}-${sls:stage}-${param:tableSuffix}
    assert variables["OWNER"] == "ana"  # ${env:CATALOG_OWNER, 'nobody'}
    assert variables["REGION"] == "eu-west-1" and variables["ACCOUNT"] == "000000000000"  # ${aws:...}
    assert variables["GREETING"] == "hello from dev"  # ${file(./settings.${opt:stage, 'dev'}.yml):messages.greeting}
    assert variables["ITEMS_TABLE"].startswith("catalog-dev-ItemsTable-")  # !Ref into resources:
    assert load("sls-v3").functions[0].config["Environment"]["Variables"]["OWNER"] == "nobody"  # the fallback


def test_options_and_params_pick_the_stage(tmp_path: Path):
    folder = tmp_path / "sls-v3"
    shutil.copytree(DATA / "sls-v3", folder)
    (folder / "settings.prod.yml").write_text("memory: 2048\nmessages: {greeting: hi}\n")
    stack = load_serverless(folder / "serverless.yml", options={"stage": "prod", "region": "us-west-2"}, environ={})
    assert (stack.name, stack.region) == ("catalog-prod", "us-west-2")
    assert stack.functions[0].config["Environment"]["Variables"]["TABLE"] == "catalog-prod-live"
    assert stack.functions[0].config["MemorySize"] == 2048
    assert len(stack.warmers) == 2  # officeHours is enabled for prod only


def test_events_become_apis_rules_and_permissions():
    stack = load("sls-v3")
    lister, refresh, _warmer = stack.functions
    (rest,), (http,) = stack.rest_apis, stack.http_apis
    assert rest.name == "dev-catalog" and rest.stages == ("dev",)
    assert rest.routes == [RestRoute("/items", "GET", FunctionTarget(lister.name))]
    assert http.routes == [HttpRoute("GET /items/{id}", FunctionTarget(lister.name))]
    assert http.cors["AllowOrigins"] == ["*"]
    first, second, _warm = stack.rules
    assert first.schedule_expression == "rate(10 minutes)" and first.state == "ENABLED"
    assert first.targets[0].input == '{"full":true}'
    assert first.targets[0].function == FunctionTarget(refresh.name, "provisioned")  # events go to the alias
    assert second.schedule_expression == "cron(0 2 * * ? *)" and second.state == "DISABLED"
    assert sorted(p.logical_id for p in stack.permissions) == [
        "ListItemsLambdaPermissionApiGateway", "ListItemsLambdaPermissionFnUrl", "ListItemsLambdaPermissionFnUrlInvoke",
        "ListItemsLambdaPermissionHttpApi",
        "RefreshLambdaPermissionEventsRuleSchedule1", "RefreshLambdaPermissionEventsRuleSchedule2",
        "WarmUpPluginDefaultLambdaPermissionEventsRuleSchedule1"]
    assert [(u.logical_id, u.what) for u in stack.unsupported] == [("ItemsTable", "AWS::DynamoDB::Table")]
    outputs = local_outputs(stack.outputs, "http://127.0.0.1:9000")
    assert outputs["ServiceEndpoint"] == f"http://{rest.api_id}.execute-api.eu-west-1.localhost:9000/dev"
    assert outputs["HttpApiUrl"] == f"http://{http.api_id}.execute-api.eu-west-1.localhost:9000"
    assert outputs["ListItemsLambdaFunctionUrl"] == f"http://{lister.url_id}.lambda-url.eu-west-1.localhost:9000/"


def test_warmup_warms_enabled_functions_with_their_concurrency():
    (warmer,) = load("sls-v3").warmers
    assert warmer.name == "default" and warmer.schedules == ("rate(5 minutes)",)
    assert warmer.targets == [WarmTarget(FunctionTarget("catalog-dev-listItems"), 2)]  # refresh opted out
    assert warmer.payload == '{"source":"serverless-plugin-warmup"}'


def test_a_warmer_is_the_role_function_and_rule_the_plugin_generates():
    stack = load("sls-v3")
    role, function, rule = stack.roles[-1], stack.functions[-1], stack.rules[-1]
    assert (role.logical_id, role.name) == ("WarmUpPluginDefaultRole", "catalog-dev-eu-west-1-default-role")
    (policy,) = role.inline_policies.values()
    assert policy["Statement"][1]["Resource"] == [
        "arn:aws:lambda:eu-west-1:000000000000:function:catalog-dev-listItems*"]
    assert (function.logical_id, function.name) == ("WarmUpPluginDefaultLambdaFunction",
                                                    "catalog-dev-warmup-plugin-default")
    assert (function.config["MemorySize"], function.config["Timeout"], function.config["Role"]) == (128, 10, role.arn)
    variables = function.config["Environment"]["Variables"]
    assert json.loads(variables["WARMUP_TARGETS"]) == [{"name": "catalog-dev-listItems", "qualifier": None,
                                                        "concurrency": 2}]
    assert function.code.inline is not None and "def handler" in function.code.inline
    assert rule.schedule_expression == "rate(5 minutes)" and rule.targets[0].function.name == function.name


def test_package_patterns_leave_files_out():
    import io
    import zipfile

    lister = load("sls-v3").functions[0]
    names = zipfile.ZipFile(io.BytesIO(package(lister.code))).namelist()
    assert "src/items.py" in names and "serverless.yml" in names
    assert not [name for name in names if name.startswith(("layer/", "tests/"))]


def test_v4_service():
    stack = load("sls-v4")
    api, sweep = stack.functions
    assert (api.name, api.config["MemorySize"], sweep.config["MemorySize"]) == ("notes-dev-api", 256, 1024)
    assert api.config["Architectures"] == ["arm64"]
    assert api.config["Environment"]["Variables"] == {"RETENTION_DAYS": "7", "STAGE": "dev"}
    assert load("sls-v4", options={"stage": "prod"}).functions[0].config["Environment"]["Variables"][
        "RETENTION_DAYS"] == "30"
    assert stack.http_apis[0].routes == [HttpRoute("$default", FunctionTarget(api.name))]
    (schedule,) = stack.schedules  # method: scheduler
    assert (schedule.expression, schedule.timezone) == ("rate(1 day)", "Europe/Paris")
    assert stack.rules == [] and stack.warmers == []
    assert [w.split(":")[0] for w in stack.warnings] == ["ApiLambdaFunction", "SweepLambdaFunction"]  # nodejs20.x


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "h.py").write_text("def main(event, context):\n    return 1\n")
    path = tmp_path / "serverless.yml"
    path.write_text("service: s\nprovider:\n  name: aws\n  runtime: python3.12\n" + text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("custom:\n  x: ${ssm:/db/password}\n", r"\$\{ssm:/db/password\} reads AWS \(ssm\), which Ember does not serve"),
    ("custom:\n  x: '{{resolve:secretsmanager:db}}'\n", "dynamic references read SSM or Secrets Manager"),
    ("custom:\n  x: ${env:NOPE}\n", r"Cannot resolve variable \$\{env:NOPE\}: Value not found at \"env\" source"),
    ("custom:\n  x: ${self:custom.x}\n", r"Cannot resolve variable \$\{self:custom.x\}: it refers to itself"),
    ("functions:\n  f:\n    handler: h.main\n    memorySize: 50\n", "f.*Value '50' at 'memorySize'"),
    ("functions:\n  f:\n    handler: h.main\n    events:\n      - schedule: rate(5 minute)\n",
     r"rate\(\) takes a positive value, a singular unit for 1 and a plural one otherwise"),
    ("functions:\n  f:\n    handler: h.nope\n", "FLambdaFunction: handler 'nope' is not defined in h.py"),
])
def test_bad_input_is_one_line(tmp_path: Path, text: str, message: str):
    path = write(tmp_path, text)
    with pytest.raises(TemplateError, match=message) as caught:
        load_serverless(path, environ={})
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)
