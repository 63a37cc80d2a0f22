"""What `Ref` and `Fn::GetAtt` return for each resource type, as CloudFormation documents it per type.

A resource's name comes from its own name property when the template gives one, else from
`ember.apps.names.physical_name`. Known difference: a `Ref` to an `AWS::Lambda::Version` or `LayerVersion`
needs a number only the server assigns; it resolves as version 1 (Ember's mapping never relies on it: aliases
and layers are linked by logical id, and applying publishes first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ember.apps import names
from ember.errors import TemplateError


@dataclass(frozen=True)
class Where:
    """The stack's coordinates every ARN is built from."""

    stack: str
    region: str
    account: str
    partition: str = "aws"
    known_ids: Mapping[str, str] = field(default_factory=dict)  # logical id -> an id the server chose

    def api_id(self, logical_id: str) -> str:
        """An API's id: the server's when known, else the one derived from the stack and logical id."""
        return self.known_ids.get(logical_id) or names.api_id(self.stack, logical_id)

    def url_id(self, logical_id: str) -> str:
        """A function URL's id (its AWS::Lambda::Url logical id), the same way."""
        return self.known_ids.get(logical_id) or names.url_id(self.stack, logical_id)

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


# type -> (its name property, the name's length limit, lower-case only)
NAMING: dict[str, tuple[str | None, int, bool]] = {
    "AWS::Lambda::Function": ("FunctionName", 64, False),
    "AWS::Lambda::LayerVersion": ("LayerName", 140, False),
    "AWS::IAM::Role": ("RoleName", 64, False),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128, False),
    "AWS::IAM::Policy": ("PolicyName", 128, False),
    "AWS::Events::Rule": ("Name", 64, False),
    "AWS::Scheduler::Schedule": ("Name", 64, False),
    "AWS::ApiGateway::RestApi": ("Name", 128, False),
    "AWS::ApiGatewayV2::Api": ("Name", 128, False),
    "AWS::DynamoDB::Table": ("TableName", 255, False),
    "AWS::S3::Bucket": ("BucketName", 63, True),
    "AWS::SQS::Queue": ("QueueName", 80, False),
    "AWS::SNS::Topic": ("TopicName", 256, False),
    "AWS::Logs::LogGroup": ("LogGroupName", 512, False),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", 80, False),
    "AWS::Kinesis::Stream": ("Name", 128, False),
    "AWS::SecretsManager::Secret": ("Name", 512, False),
}


def name_of(where: Where, logical_id: str, type_: str, name_property: Any) -> str:
    """The physical name: the template's own (already resolved) or the generated one."""
    if isinstance(name_property, str) and name_property:
        return name_property
    _, limit, lowercase = NAMING.get(type_, (None, 64, False))
    return names.physical_name(where.stack, logical_id, limit, lowercase)


def ref(where: Where, logical_id: str, type_: str, name: str, props: dict[str, Any]) -> Any:
    """`{"Ref": logical_id}` for a resource of `type_` named `name` (`props` already resolved where needed)."""
    if type_ in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        return where.api_id(logical_id)
    if type_ == "AWS::ApiGateway::Deployment":
        return names.deployment_id(where.stack, logical_id)
    if type_ in ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"):
        return props.get("StageName", logical_id)
    builder = REF_ARNS.get(type_)
    return builder(where, name, props) if builder else name


REF_ARNS: dict[str, Callable[[Where, str, dict[str, Any]], str]] = {
    "AWS::Lambda::Version": lambda w, n, p: w.arn("lambda", f"function:{_function_name(p)}:1"),
    "AWS::Lambda::Alias": lambda w, n, p: w.arn("lambda", f"function:{_function_name(p)}:{p.get('Name', n)}"),
    "AWS::Lambda::LayerVersion": lambda w, n, p: w.arn("lambda", f"layer:{n}:1"),
    "AWS::Lambda::Url": lambda w, n, p: w.arn("lambda", f"function:{_function_name(p, 'TargetFunctionArn')}"),
    "AWS::IAM::ManagedPolicy": lambda w, n, p: w.arn("iam", f"policy/{n}", region=False),
    "AWS::SQS::Queue": lambda w, n, p: f"https://sqs.{w.region}.amazonaws.com/{w.account}/{n}",
    "AWS::SNS::Topic": lambda w, n, p: w.arn("sns", n),
    "AWS::StepFunctions::StateMachine": lambda w, n, p: w.arn("states", f"stateMachine:{n}"),
    "AWS::Scheduler::ScheduleGroup": lambda w, n, p: n,
}


def _function_name(props: dict[str, Any], key: str = "FunctionName") -> str:
    """A FunctionName property may be a name or an ARN (with a qualifier): the bare name."""
    value = str(props.get(key, ""))
    if value.startswith("arn:"):
        return value.split(":")[6]
    return value


def get_att(where: Where, logical_id: str, type_: str, name: str, props: dict[str, Any], attribute: str) -> Any:
    """`Fn::GetAtt [logical_id, attribute]`."""
    known = ATTRIBUTES.get(type_, {})
    if attribute in known:
        return known[attribute](where, logical_id, name, props)
    if type_ in ATTRIBUTES:
        raise TemplateError(f"Template error: resource {logical_id} does not support attribute type "
                            f"{attribute} in Fn::GetAtt")
    if attribute == "Arn":  # a type Ember does not run: an ARN of the usual shape is what references need
        service = type_.split("::")[1].lower()
        return where.arn(service, name)
    return f"{name}.{attribute}"


def _rest_url(w: Where, logical_id: str) -> str:
    return f"https://{w.api_id(logical_id)}.execute-api.{w.region}.amazonaws.com"


def _url(w: Where, logical_id: str) -> str:
    return f"https://{w.url_id(logical_id)}.lambda-url.{w.region}.on.aws/"


Getter = Callable[[Where, str, str, dict[str, Any]], Any]
ATTRIBUTES: dict[str, dict[str, Getter]] = {
    "AWS::Lambda::Function": {
        "Arn": lambda w, lid, n, p: w.arn("lambda", f"function:{n}"),
        "SnapStartResponse.ApplyOn": lambda w, lid, n, p: "None",
    },
    "AWS::Lambda::Version": {"Version": lambda w, lid, n, p: "1",
                             "FunctionArn": lambda w, lid, n, p: w.arn("lambda", f"function:{_function_name(p)}")},
    "AWS::Lambda::Alias": {"AliasArn": lambda w, lid, n, p: w.arn("lambda", f"function:{_function_name(p)}:"
                                                                              f"{p.get('Name', n)}")},
    "AWS::Lambda::LayerVersion": {"LayerVersionArn": lambda w, lid, n, p: w.arn("lambda", f"layer:{n}:1")},
    "AWS::Lambda::Url": {
        "FunctionUrl": lambda w, lid, n, p: _url(w, lid),
        "FunctionArn": lambda w, lid, n, p: w.arn("lambda", f"function:{_function_name(p, 'TargetFunctionArn')}"),
    },
    "AWS::IAM::Role": {
        "Arn": lambda w, lid, n, p: w.arn("iam", f"role{p.get('Path', '/')}{n}", region=False),
        "RoleId": lambda w, lid, n, p: "AROA" + names.suffix(w.stack, lid, 17),
    },
    "AWS::ApiGateway::RestApi": {"RootResourceId": lambda w, lid, n, p: names.api_id(w.stack, lid + "/")},
    "AWS::ApiGatewayV2::Api": {
        "ApiEndpoint": lambda w, lid, n, p: _rest_url(w, lid),
        "ApiId": lambda w, lid, n, p: w.api_id(lid),
    },
    "AWS::Events::Rule": {"Arn": lambda w, lid, n, p: w.arn("events", f"rule/{n}")},
    "AWS::Scheduler::Schedule": {
        "Arn": lambda w, lid, n, p: w.arn("scheduler", f"schedule/{p.get('GroupName', 'default')}/{n}")},
    "AWS::DynamoDB::Table": {
        "Arn": lambda w, lid, n, p: w.arn("dynamodb", f"table/{n}"),
        "StreamArn": lambda w, lid, n, p: w.arn("dynamodb", f"table/{n}/stream/1970-01-01T00:00:00.000"),
    },
    "AWS::S3::Bucket": {
        "Arn": lambda w, lid, n, p: f"arn:{w.partition}:s3:::{n}",
        "DomainName": lambda w, lid, n, p: f"{n}.s3.amazonaws.com",
        "RegionalDomainName": lambda w, lid, n, p: f"{n}.s3.{w.region}.amazonaws.com",
        "WebsiteURL": lambda w, lid, n, p: f"http://{n}.s3-website-{w.region}.amazonaws.com",
    },
    "AWS::SQS::Queue": {
        "Arn": lambda w, lid, n, p: w.arn("sqs", n),
        "QueueName": lambda w, lid, n, p: n,
        "QueueUrl": lambda w, lid, n, p: f"https://sqs.{w.region}.amazonaws.com/{w.account}/{n}",
    },
    "AWS::SNS::Topic": {"TopicArn": lambda w, lid, n, p: w.arn("sns", n), "TopicName": lambda w, lid, n, p: n},
    "AWS::Logs::LogGroup": {"Arn": lambda w, lid, n, p: w.arn("logs", f"log-group:{n}:*")},
    "AWS::StepFunctions::StateMachine": {"Arn": lambda w, lid, n, p: w.arn("states", f"stateMachine:{n}"),
                                         "Name": lambda w, lid, n, p: n},
}
