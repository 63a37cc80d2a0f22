"""A SAM or CloudFormation project → the desired-state model of its stack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ember.apps import cfn_apis, cfn_events, cfn_lambda, sam
from ember.apps.cfn_context import Build
from ember.apps.checks import check_functions
from ember.apps.intrinsics import Resolver
from ember.apps.model import Stack
from ember.apps.physical import Where
from ember.apps.template_loading import load_file

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")

# One mapper per CloudFormation type Ember runs; every other type is listed as unsupported.
MAPPERS: dict[str, Callable[[Build, str], None]] = {
    "AWS::Lambda::Function": cfn_lambda.function,
    "AWS::Lambda::Version": cfn_lambda.version,
    "AWS::Lambda::Alias": cfn_lambda.alias,
    "AWS::Lambda::Url": cfn_lambda.url,
    "AWS::Lambda::EventInvokeConfig": cfn_lambda.event_invoke_config,
    "AWS::Lambda::Permission": cfn_lambda.permission,
    "AWS::Lambda::LayerVersion": cfn_lambda.layer,
    "AWS::IAM::Role": cfn_lambda.role,
    "AWS::IAM::Policy": cfn_lambda.inline_policy,
    "AWS::ApiGateway::RestApi": cfn_apis.rest_api,
    "AWS::ApiGateway::Stage": cfn_apis.rest_stage,
    "AWS::ApiGateway::Deployment": cfn_apis.rest_stage,
    "AWS::ApiGateway::Resource": lambda build, logical_id: None,  # read through the Methods on it
    "AWS::ApiGateway::Method": cfn_apis.rest_method,
    "AWS::ApiGatewayV2::Api": cfn_apis.http_api,
    "AWS::ApiGatewayV2::Stage": cfn_apis.http_stage,
    "AWS::ApiGatewayV2::Route": cfn_apis.http_route,
    "AWS::ApiGatewayV2::Integration": lambda build, logical_id: None,  # read through the Routes using it
    "AWS::Events::Rule": cfn_events.rule,
    "AWS::Scheduler::Schedule": cfn_events.schedule,
}


def find_template(folder: Path) -> Path | None:
    return next((folder / name for name in TEMPLATE_NAMES if (folder / name).is_file()), None)


def load_stack(template_path: Path, stack_name: str, region: str, account: str,
               overrides: Mapping[str, str] | None = None, known_ids: Mapping[str, str] | None = None) -> Stack:
    """Read, translate (SAM), resolve and map a template; the model of the stack it describes. `known_ids`:
    ids the server chose for APIs and function URLs, by logical id (ember.apps.names)."""
    file = str(template_path)
    template = load_file(template_path)
    folder = template_path.parent
    parameters = {**dict(overrides or {}), "AWS::AccountId": account, "AWS::StackName": stack_name}
    translated, local = sam.translate(template, folder, parameters, region, file)
    resolver = Resolver(translated, Where(stack_name, region, account, known_ids=dict(known_ids or {})), overrides,
                        file)
    stack = Stack(stack_name, region, account, template_path)
    build = Build(resolver, stack, local, folder)
    for logical_id in resolver.order():
        kind = resolver.type_of(logical_id)
        mapper = MAPPERS.get(kind)
        if mapper is None:
            build.unsupported(logical_id, kind)
        else:
            mapper(build, logical_id)
    stack.outputs = resolver.outputs()
    check_functions(stack, file)
    return stack
