"""ember.apps.cloudformation: SAM projects (expanded by aws-sam-translator offline) → the stack's model, Outputs
as URLs that answer on Ember, everything Ember does not run listed, bad input refused on one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ember.apps.cloudformation import find_template, load_stack
from ember.apps.local_urls import local_outputs, local_url
from ember.apps.model import STACK_TAG, Alias, LayerRef
from ember.apps.triggers import FunctionTarget, RestRoute
from ember.errors import TemplateError

DATA = Path(__file__).parent / "data" / "apps"
ACCOUNT = "000000000000"


def load(name: str, stack: str = "app", **overrides: str):
    return load_stack(find_template(DATA / name), stack, "us-east-1", ACCOUNT, overrides)


def project(tmp_path: Path, name: str) -> Path:
    shutil.copytree(DATA / name, tmp_path / name)
    return tmp_path / name


def test_sam_init_shaped_python_app():
    stack = load("sam-python", "greeter")
    (function,) = stack.functions
    (role,) = stack.roles
    (api,) = stack.rest_apis
    assert function.name.startswith("greeter-GreeterFunction-")
    assert function.code.path == DATA / "sam-python" / "hello_world"
    assert function.config["Runtime"] == "python3.13" and function.config["Handler"] == "app.lambda_handler"
    assert function.config["Timeout"] == 3 and function.config["MemorySize"] == 128  # Globals, then Lambda's
    assert function.config["Role"] == role.arn
    assert role.managed_policy_arns == ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",)
    assert function.tags[STACK_TAG] == "greeter" and role.tags[STACK_TAG] == "greeter"
    assert api.routes == [RestRoute("/greet", "GET", FunctionTarget(function.name))]
    assert sorted(api.stages) == ["Prod", "Stage"]  # SAM's implicit API makes both, as on AWS
    (permission,) = stack.permissions
    assert permission.principal == "apigateway.amazonaws.com"
    assert permission.source_arn == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api.api_id}/*/GET/greet"
    assert stack.unsupported == [] and stack.warnings == []


def test_outputs_become_urls_that_answer_on_ember():
    stack = load("sam-python", "greeter")
    api_id = stack.rest_apis[0].api_id
    assert stack.outputs["GreeterApi"].value == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/greet/"
    local = local_outputs(stack.outputs, "http://127.0.0.1:9000")
    assert local["GreeterApi"] == f"http://{api_id}.execute-api.us-east-1.localhost:9000/Prod/greet/"
    assert local["GreeterFunction"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{stack.functions[0].name}"
    assert local["GreeterFunctionIamRole"] == stack.roles[0].arn
    assert local_url("https://abc123.lambda-url.eu-west-1.on.aws/", "http://localhost:8123") == \
        "http://abc123.lambda-url.eu-west-1.localhost:8123/"


def test_sam_init_shaped_node_app():
    stack = load("sam-node", "greeter-node")
    (function,) = stack.functions
    assert function.config["Runtime"] == "nodejs22.x" and function.config["Handler"] == "app.lambdaHandler"
    assert stack.rest_apis[0].routes[0].path == "/greet"


def test_multi_function_app():
    stack = load("sam-shop", "shop")
    by_id = {function.logical_id: function for function in stack.functions}
    lister, creator, nightly = by_id["ListOrdersFunction"], by_id["CreateOrderFunction"], by_id["NightlyReportFunction"]
    (layer,) = stack.layers
    assert layer.name == "shop-common" and layer.code.path == DATA / "sam-shop" / "layers" / "common"
    assert all(f.layers == (LayerRef(logical_id=layer.logical_id),) for f in stack.functions)  # from Globals
    assert lister.config["MemorySize"] == 256  # Globals' FindInMap for dev
    assert lister.alias == Alias("live", 2)
    table = lister.config["Environment"]["Variables"]["TABLE_NAME"]
    assert table.startswith("shop-OrdersTable-") and table == load("sam-shop", "shop").functions[0].config[
        "Environment"]["Variables"]["TABLE_NAME"]  # the name CloudFormation would give, the same every time
    assert creator.reserved_concurrency == 5
    assert creator.event_invoke_config["MaximumRetryAttempts"] == 1
    assert creator.url_config == {"AuthType": "NONE"} and len(creator.url_id) == 32
    assert nightly.config["Environment"]["Variables"]["BUCKET"] == "none"  # Fn::If on a false condition
    assert nightly.config["Timeout"] == 60
    (rest,), (http,) = stack.rest_apis, stack.http_apis
    assert rest.routes == [RestRoute("/orders", "GET", FunctionTarget(lister.name, "live"))]  # through the alias
    assert [(r.route_key, r.function.name, r.payload_format) for r in http.routes] == \
        [("POST /orders", creator.name, "2.0")]
    (rule,) = stack.rules
    assert rule.schedule_expression == "cron(0 3 * * ? *)" and rule.targets[0].input == '{"kind": "nightly"}'
    (schedule,) = stack.schedules
    assert schedule.expression == "rate(1 hour)" and schedule.function == FunctionTarget(nightly.name)
    assert {p.principal for p in stack.permissions} == {"apigateway.amazonaws.com", "events.amazonaws.com", "*"}
    assert [(u.logical_id, u.what) for u in stack.unsupported] == [
        ("OrdersTable", "AWS::DynamoDB::Table"), ("DevQueue", "AWS::SQS::Queue")]  # the bucket is not in dev
    assert "OrdersTable (AWS::DynamoDB::Table), DevQueue (AWS::SQS::Queue)" in stack.unsupported_warning()
    outputs = local_outputs(stack.outputs, "http://127.0.0.1:9000")
    assert outputs["OrdersHttpApi"] == f"http://{http.api_id}.execute-api.us-east-1.localhost:9000"
    assert outputs["CreateOrderUrl"] == f"http://{creator.url_id}.lambda-url.us-east-1.localhost:9000/"
    assert outputs["Joined"] == "dev/y/aGk="
    assert "OnlyInProd" not in outputs


def test_parameter_overrides_change_what_resolves():
    stack = load("sam-shop", "shop", Stage="prod")
    assert stack.functions[0].config["MemorySize"] == 1024
    assert stack.functions[2].config["Environment"]["Variables"]["BUCKET"].startswith("shop-reportsbucket-")
    assert [u.logical_id for u in stack.unsupported] == ["OrdersTable", "ReportsBucket"]


def test_a_sam_build_output_is_preferred(tmp_path: Path):
    folder = project(tmp_path, "sam-python")
    built = folder / ".aws-sam" / "build" / "GreeterFunction"
    shutil.copytree(folder / "hello_world", built)
    assert load_stack(folder / "template.yaml", "g", "us-east-1", ACCOUNT).functions[0].code.path == built


def edit(folder: Path, old: str, new: str) -> Path:
    path = folder / "template.yaml"
    path.write_text(path.read_text().replace(old, new))
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("Runtime: python3.13", "Runtime: python9.9", "GreeterFunction: Value python9.9 at 'runtime' failed to satisfy"),
    ("Runtime: python3.13", "Runtime: python3.7", "GreeterFunction: The runtime parameter of python3.7 is no longer "
                                                  "supported for creating or updating AWS Lambda functions."),
    ("Timeout: 3", "Timeout: 3\n    MemorySize: 64", "GreeterFunction: 1 validation error detected: Value '64' at "
                                                     "'memorySize' failed to satisfy constraint"),
    ("Handler: app.lambda_handler", "Handler: app.missing", "GreeterFunction: handler 'missing' is not defined in "
                                                            "app.py"),
    ("Handler: app.lambda_handler", "Handler: nope.handler", "GreeterFunction: handler module 'nope' not found"),
    ("Method: get", "Method: get\n      Policies: [{NoSuchPolicyTemplate: {}}]", "Resource with id "
                                                                                  "[GreeterFunction] is invalid"),
    ("CodeUri: hello_world/", "CodeUri: gone/", "CodeUri 'gone/': no such file or folder"),
])
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, old: str, new: str, message: str):
    path = edit(project(tmp_path, "sam-python"), old, new)
    with pytest.raises(TemplateError) as caught:
        load_stack(path, "g", "us-east-1", ACCOUNT)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert "\n" not in text


def test_a_bad_schedule_expression_is_one_line(tmp_path: Path):
    path = edit(project(tmp_path, "sam-shop"), "cron(0 3 * * ? *)", "cron(0 3 * * *)")
    with pytest.raises(TemplateError, match=r"schedule expression 'cron\(0 3 \* \* \*\)' is not valid: a cron "
                                            r"expression has 6 fields"):
        load_stack(path, "shop", "us-east-1", ACCOUNT)
    path.write_text(path.read_text().replace("cron(0 3 * * *)", "cron(0 25 * * ? *)"))  # EventBridge's own parser
    with pytest.raises(TemplateError, match=r"schedule expression 'cron\(0 25 \* \* \? \*\)' is not valid: '25' is "
                                            r"not between 0 and 23"):
        load_stack(path, "shop", "us-east-1", ACCOUNT)


def test_a_deprecated_runtime_deploys_with_a_warning(tmp_path: Path):
    path = edit(project(tmp_path, "sam-python"), "Runtime: python3.13", "Runtime: python3.9")
    stack = load_stack(path, "g", "us-east-1", ACCOUNT)
    (warning,) = stack.warnings
    assert warning.startswith("GreeterFunction: python3.9 is deprecated by AWS since 2025-12-15")


def test_plain_cloudformation_without_the_transform(tmp_path: Path):
    folder = project(tmp_path, "sam-python")
    (folder / "template.yaml").write_text("""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return 1
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: plain}
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: items}
  GetItems:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Items
      HttpMethod: GET
      Integration:
        Type: AWS_PROXY
        Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
""")
    stack = load_stack(folder / "template.yaml", "plain", "us-east-1", ACCOUNT)
    (function,) = stack.functions
    assert function.code.inline.startswith("def handler") and function.code.inline_name == "index.py"
    assert stack.rest_apis[0].routes == [RestRoute("/items", "GET", FunctionTarget(function.name))]


def test_a_project_is_found_by_its_file_and_named_by_its_folder(tmp_path: Path):
    from ember.apps.project import find_project, load_project, stack_name_for
    from ember.cli.deploy import DeploySpec, deploy

    folder = project(tmp_path, "sam-python")
    assert find_project(folder) == folder / "template.yaml" and find_project(folder / "hello_world") is None
    assert load_project(folder / "template.yaml").name == "sam-python" == stack_name_for(folder)
    assert load_project(find_project(DATA / "sls-v4")).name == "notes-dev"
    with pytest.raises(ValueError, match="describes a stack"):  # never deployed as a folder named index.handler
        deploy(DeploySpec(folder), "http://127.0.0.1:1")
    (folder / "serverless.yml").write_text("service: x\n")
    with pytest.raises(TemplateError, match="holds both template.yaml and serverless.yml"):
        find_project(folder)


def test_a_nested_application_is_listed_not_fetched(tmp_path: Path):
    path = edit(project(tmp_path, "sam-python"), "\nOutputs:", """
  Auth:
    Type: AWS::Serverless::Application
    Properties:
      Location:
        ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/auth
        SemanticVersion: 1.0.0

Outputs:""")
    stack = load_stack(path, "g", "us-east-1", ACCOUNT)
    assert [(u.logical_id, u.what) for u in stack.unsupported] == [("Auth", "AWS::CloudFormation::Stack")]


def test_ids_a_server_chose_replace_the_derived_ones():
    stack = load_stack(DATA / "sam-python" / "template.yaml", "greeter", "us-east-1", ACCOUNT,
                       known_ids={"ServerlessRestApi": "abcdef1234"})
    assert stack.rest_apis[0].api_id == "abcdef1234"
    assert stack.outputs["GreeterApi"].value == "https://abcdef1234.execute-api.us-east-1.amazonaws.com/Prod/greet/"
    assert stack.permissions[0].source_arn.endswith(":abcdef1234/*/GET/greet")
