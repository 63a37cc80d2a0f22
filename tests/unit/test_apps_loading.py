"""ember.apps.template_loading and ember.apps.intrinsics: CloudFormation's YAML and functions, as CloudFormation
resolves them, with errors on one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ember.apps.intrinsics import Resolver
from ember.apps.physical import Where
from ember.apps.template_loading import load_file, load_text
from ember.errors import TemplateError

WHERE = Where("app", "eu-west-1", "000000000000")


def test_short_tags_become_the_long_form():
    loaded = load_text("""
A: !Ref X
B: !GetAtt Fn.Arn
C: !GetAtt [Fn, Arn]
D: !Sub "${AWS::Region}-x"
E: !If [Cond, !Ref AWS::NoValue, !Join ["", [a, !Select [0, !Split [",", "b,c"]]]]]
F: !Condition Cond
G: !FindInMap [M, k, v]
H: !Base64 text
I: !GetAZs ""
J: !Equals [a, !Not [!And [!Or [x, y]]]]
K: !ImportValue shared
Version: 2010-09-09
""")
    assert loaded["A"] == {"Ref": "X"}
    assert loaded["B"] == loaded["C"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert loaded["D"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert loaded["E"]["Fn::If"][2] == {"Fn::Join": ["", ["a", {"Fn::Select": [0, {"Fn::Split": [",", "b,c"]}]}]]}
    assert loaded["F"] == {"Condition": "Cond"}
    assert loaded["G"] == {"Fn::FindInMap": ["M", "k", "v"]}
    assert loaded["J"] == {"Fn::Equals": ["a", {"Fn::Not": [{"Fn::And": [{"Fn::Or": ["x", "y"]}]}]}]}
    assert loaded["K"] == {"Fn::ImportValue": "shared"}
    assert loaded["Version"] == "2010-09-09"  # a string to CloudFormation, not a date


def test_bad_yaml_is_one_line_naming_file_line_and_column(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Fn:\n    Type: [AWS::Lambda::Function\n    Properties: {}\n")
    with pytest.raises(TemplateError) as caught:
        load_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4:15: ")
    assert "\n" not in message
    assert (caught.value.line, caught.value.column) == (4, 15)


def test_a_template_that_is_not_a_mapping_is_refused(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(TemplateError, match=r"template.yaml:1:1: the template must be a YAML or JSON mapping"):
        load_file(path)


def resolver(template: dict, overrides: dict | None = None) -> Resolver:
    return Resolver(template, WHERE, overrides, file="t.yaml")


TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                   "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
                   "Size": {"Type": "Number", "Default": 3}},
    "Mappings": {"Sizes": {"dev": {"Memory": 256}, "prod": {"Memory": 2048}}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                   "Big": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "Size"}, "9"]}]},
                   "Small": {"Fn::Not": [{"Condition": "Big"}]},
                   "Both": {"Fn::And": [{"Condition": "Small"}, {"Fn::Equals": ["a", "a"]}]}},
    "Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/app/"}},
        "Named": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Fn::Sub": "${Stage}-named"}}},
        "Table": {"Type": "AWS::DynamoDB::Table", "DependsOn": "Queue"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Bucket": {"Type": "AWS::S3::Bucket", "Condition": "IsProd"},
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "Url": {"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": {"Ref": "Fn"}}},
    },
}


def test_refs_follow_cloudformation_per_type():
    r = resolver(TEMPLATE)
    assert r.resolve({"Ref": "Stage"}) == "dev"
    assert r.resolve({"Ref": "Zones"}) == ["a", "b"]
    assert r.resolve({"Ref": "Fn"}) == r.name("Fn")
    assert r.name("Fn").startswith("app-Fn-") and len(r.name("Fn")) == len("app-Fn-") + 12
    assert r.resolve({"Ref": "Named"}) == "dev-named"
    assert r.resolve({"Ref": "Queue"}) == f"https://sqs.eu-west-1.amazonaws.com/000000000000/{r.name('Queue')}"
    assert r.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == f"arn:aws:lambda:eu-west-1:000000000000:function:{r.name('Fn')}"
    assert r.resolve({"Fn::GetAtt": ["Role", "Arn"]}) == f"arn:aws:iam::000000000000:role/app/{r.name('Role')}"
    table_arn = r.resolve({"Fn::GetAtt": ["Table", "Arn"]})
    assert table_arn.startswith("arn:aws:dynamodb:eu-west-1:000000000000:table/app-Table-")
    assert r.resolve({"Fn::GetAtt": ["Url", "FunctionUrl"]}).endswith(".lambda-url.eu-west-1.on.aws/")
    api_id = r.resolve({"Ref": "Api"})
    assert len(api_id) == 10 and api_id == resolver(TEMPLATE).resolve({"Ref": "Api"})  # the same every time


def test_pseudo_parameters():
    r = resolver(TEMPLATE)
    assert r.resolve({"Fn::Sub": "${AWS::Region}/${AWS::AccountId}/${AWS::StackName}/${AWS::Partition}/"
                                 "${AWS::URLSuffix}"}) == "eu-west-1/000000000000/app/aws/amazonaws.com"
    assert r.resolve({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}


def test_functions_and_conditions():
    r = resolver(TEMPLATE, {"Stage": "prod"})
    assert r.condition("IsProd") and r.condition("Big") and not r.condition("Small") and not r.condition("Both")
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 2048
    assert r.resolve({"Fn::If": ["IsProd", "yes", {"Fn::GetAtt": ["Nope", "Arn"]}]}) == "yes"  # other branch unread
    assert r.resolve({"Fn::Join": ["-", ["a", {"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}]]}) == "a-y"
    assert r.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert r.resolve({"Fn::GetAZs": ""}) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert r.resolve({"Fn::Sub": ["${X}-${!Literal}-${Fn.Arn}", {"X": "x"}]}).startswith("x-${Literal}-arn:aws:")
    assert r.resolve({"Fn::Length": [1, 2]}) == 2
    assert r.resolve({"Fn::ToJsonString": {"a": 1}}) == '{"a":1}'


def test_resources_in_dependency_order_without_excluded_ones():
    order = resolver(TEMPLATE).order()
    assert "Bucket" not in order  # its Condition is false
    assert order.index("Role") < order.index("Fn") < order.index("Url")
    assert order.index("Queue") < order.index("Table")  # DependsOn


def test_a_cycle_is_named():
    template = {"Resources": {"A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"},
                              "B": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": "A"}}}}}
    with pytest.raises(TemplateError, match=r"t.yaml: Circular dependency between resources: \['A', 'B'\]"):
        resolver(template).order()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"Stage": "qa"}, "Parameter 'Stage' must be one of AllowedValues"),
    ({"Nope": "x"}, r"Parameters: \['Nope'\] do not exist in the template"),
])
def test_bad_parameter_overrides(overrides, message):
    with pytest.raises(TemplateError, match=message):
        resolver(TEMPLATE, overrides)


def test_a_parameter_without_a_value_is_refused():
    with pytest.raises(TemplateError, match=r"Parameters: \[Key\] must have values"):
        resolver({"Parameters": {"Key": {"Type": "String"}}})


@pytest.mark.parametrize(("value", "message"), [
    ({"Ref": "Missing"}, r"Unresolved resource dependencies \[Missing\]"),
    ({"Fn::ImportValue": "x"}, "Fn::ImportValue is not supported on Ember"),
    ("{{resolve:ssm:/db/password}}", r"dynamic references \(\{\{resolve:ssm:/db/password\}\}\)"),
    ({"Fn::GetAtt": ["Fn", "Nope"]}, "resource Fn does not support attribute type Nope"),
])
def test_what_cannot_resolve_says_so_on_one_line(value, message):
    with pytest.raises(TemplateError, match=message) as caught:
        resolver(TEMPLATE).resolve(value)
    assert str(caught.value).startswith("t.yaml: ") and "\n" not in str(caught.value)
