"""A Serverless framework project (serverless.yml, v3 and v4) → the desired-state model of its stack.

Mapped directly, not through CloudFormation, with the framework's own defaults: memorySize 1024, timeout 6,
stage `dev`, region `us-east-1`, functions named `<service>-<stage>-<function>`, the stack `<service>-<stage>`,
one role for every function (`<service>-<stage>-<region>-lambdaRole`) holding `provider.iam.role.statements`.
CloudFormation in `resources:` goes through the same mappers as a SAM template (a DynamoDB table there is listed
as not run), and `!Ref`/`!GetAtt` anywhere resolve against it and the framework's logical ids
(`<Fn>LambdaFunction`, `ApiGatewayRestApi`, `HttpApi`, `IamRoleLambdaExecution`, `<Layer>LambdaLayer`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ember.apps import serverless_warmup, warmup_resources
from ember.apps.cfn_context import Build
from ember.apps.checks import check_functions
from ember.apps.cloudformation import MAPPERS
from ember.apps.intrinsics import Resolver
from ember.apps.model import Alias, CodeSource, Function, LayerRef, LayerVersion, Output, Permission, Role, Stack
from ember.apps.physical import Where
from ember.apps.serverless_events import Service, add_events, url_config
from ember.apps.serverless_variables import Variables
from ember.apps.template_loading import load_file
from ember.apps.triggers import FunctionTarget
from ember.errors import TemplateError

SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml", "serverless.json")
# What the framework leaves out of every package before the project's own patterns
DEFAULT_EXCLUDES = ("!.git/**", "!.gitignore", "!.DS_Store", "!npm-debug.log", "!yarn-*.log", "!.serverless/**",
                    "!.serverless_plugins/**")
LAMBDA_ASSUME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"],
                                                         "Principal": {"Service": ["lambda.amazonaws.com"]}}]}


def find_serverless(folder: Path) -> Path | None:
    return next((folder / name for name in SERVERLESS_NAMES if (folder / name).is_file()), None)


def normalized(name: str) -> str:
    """The framework's logical-id form of a name: `my-fn_x` → `MyDashfnUnderscorex`."""
    return (name[:1].upper() + name[1:]).replace("-", "Dash").replace("_", "Underscore")


def load_serverless(path: Path, options: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
                    environ: Mapping[str, str] | None = None, account: str = "000000000000",
                    stack_name: str | None = None, known_ids: Mapping[str, str] | None = None) -> Stack:
    """Read and resolve a serverless.yml; the model of the stack `serverless deploy` would make of it."""
    raw = load_file(path)
    variables = Variables(raw, path, dict(options or {}), dict(params or {}),
                          dict(os.environ if environ is None else environ), account)
    doc = variables.resolve(raw)
    provider = doc.get("provider") or {}
    if provider.get("name", "aws") != "aws":
        raise TemplateError(f"provider {provider.get('name')!r}: Ember runs AWS Lambda functions only", str(path))
    service = str((doc.get("service") or {}).get("name") if isinstance(doc.get("service"), dict)
                  else doc.get("service") or "")
    if not service:
        raise TemplateError("service: a name is required", str(path))
    stage, region = variables.stage, variables.region
    functions = doc.get("functions") or {}
    template = _template(doc, service, stage, region, functions)
    stack = Stack(stack_name or f"{service}-{stage}", region, account, path)
    where = Where(stack.name, region, account, known_ids=dict(known_ids or {}))
    build = Build(Resolver(template, where, file=str(path)), stack, folder=path.parent)
    role_arn = _role(build, doc, service, stage, region)
    _layers(build, doc)
    events = Service(build, service, stage, provider)
    warmable = []
    for name, spec in functions.items():
        target = _function(build, events, doc, str(name), spec or {}, role_arn)
        warmable.append((spec or {}, target))
    _resources(build, doc)
    _scheduler_role(build, service, stage)
    serverless_warmup.apply_plugins(build, doc, warmable, stage)
    for warmer in stack.warmers:
        warmup_resources.expand(build, warmer, service, stage)
    stack.outputs = _outputs(build, doc)
    check_functions(stack, str(path))
    return stack


def _template(doc: dict[str, Any], service: str, stage: str, region: str, functions: dict[str, Any]) -> dict:
    """The CloudFormation the framework would generate, as far as references into it need."""
    resources = dict((doc.get("resources") or {}).get("Resources") or {})
    for name, spec in functions.items():
        fn = normalized(str(name))
        resources[f"{fn}LambdaFunction"] = {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": (spec or {}).get("name") or f"{service}-{stage}-{name}"}}
        resources[f"{fn}LambdaFunctionUrl"] = {"Type": "AWS::Lambda::Url", "Properties": {
            "TargetFunctionArn": {"Ref": f"{fn}LambdaFunction"}}}
    for name, spec in (doc.get("layers") or {}).items():
        resources[f"{normalized(str(name))}LambdaLayer"] = {"Type": "AWS::Lambda::LayerVersion", "Properties": {
            "LayerName": (spec or {}).get("name") or str(name)}}
    resources["ApiGatewayRestApi"] = {"Type": "AWS::ApiGateway::RestApi"}
    resources["HttpApi"] = {"Type": "AWS::ApiGatewayV2::Api"}
    resources["IamRoleLambdaExecution"] = {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": f"{service}-{stage}-{region}-lambdaRole"}}
    extra = doc.get("resources") or {}
    return {"Resources": resources, "Conditions": extra.get("Conditions") or {},
            "Mappings": extra.get("Mappings") or {}, "Outputs": extra.get("Outputs") or {}}


def _role(build: Build, doc: dict[str, Any], service: str, stage: str, region: str) -> str:
    """The role every function runs as: the project's own ARN, or the framework's generated one."""
    provider = doc.get("provider") or {}
    iam = provider.get("iam") or {}
    given = iam.get("role") if isinstance(iam.get("role"), str) else provider.get("role")
    if given:
        return str(build.resolver.resolve(given))
    role: dict[str, Any] = iam["role"] if isinstance(iam.get("role"), dict) else {}
    statements = build.resolver.resolve(role.get("statements") or provider.get("iamRoleStatements") or [])
    logs = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents"],
            "Resource": [build.resolver.where.arn("logs", f"log-group:/aws/lambda/{service}-{stage}*:*")]}
    arn = build.resolver.get_att("IamRoleLambdaExecution", "Arn")
    build.stack.roles.append(Role(
        "IamRoleLambdaExecution", build.resolver.name("IamRoleLambdaExecution"), arn, LAMBDA_ASSUME,
        {f"{service}-{stage}-lambda": {"Version": "2012-10-17", "Statement": [logs, *statements]}},
        tuple(build.resolver.resolve(role.get("managedPolicies") or provider.get("managedPolicyArns") or [])),
        tags=build.tags("IamRoleLambdaExecution")))
    return str(arn)


def _scheduler_role(build: Build, service: str, stage: str) -> None:
    """`method: scheduler` schedules run as the functions' generated role, as the framework sets it up: trusted by
    the Scheduler and allowed to invoke the service's functions."""
    role = next((r for r in build.stack.roles if r.logical_id == "IamRoleLambdaExecution"), None)
    if role is None or not build.stack.schedules:
        return
    role.assume_role_policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["sts:AssumeRole"],
        "Principal": {"Service": ["lambda.amazonaws.com", "scheduler.amazonaws.com"]}}]}
    document = role.inline_policies[f"{service}-{stage}-lambda"]
    document["Statement"].append({"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [
        build.resolver.where.arn("lambda", f"function:{service}-{stage}-*")]})


def _patterns(*packages: Any) -> tuple[str, ...]:
    found = list(DEFAULT_EXCLUDES)
    for package in packages:
        found += [str(p) for p in ((package or {}).get("patterns") or [])]
        found += [f"!{p}" for p in ((package or {}).get("exclude") or [])]  # v2's exclude/include
        found += [str(p) for p in ((package or {}).get("include") or [])]
    return tuple(found)


def _code(build: Build, path: str | None, *packages: Any) -> CodeSource:
    artifact = next((p.get("artifact") for p in reversed(packages) if isinstance(p, dict) and p.get("artifact")),
                    None)
    if artifact:
        return CodeSource(path=(build.folder / str(artifact)).resolve())
    return CodeSource(path=(build.folder / (path or ".")).resolve(), patterns=_patterns(*packages))


def _layers(build: Build, doc: dict[str, Any]) -> None:
    for name, spec in (doc.get("layers") or {}).items():
        spec = spec or {}
        logical_id = f"{normalized(str(name))}LambdaLayer"
        build.stack.layers.append(LayerVersion(
            logical_id, build.resolver.name(logical_id), _code(build, spec.get("path"), spec.get("package")),
            tuple(spec.get("compatibleRuntimes") or ()), tuple(spec.get("compatibleArchitectures") or ()),
            str(spec.get("description", "")), spec.get("licenseInfo")))


def _layer_refs(build: Build, layers: list[Any]) -> tuple[LayerRef, ...]:
    refs = []
    for item in layers or []:
        named = item.get("Ref") if isinstance(item, dict) else None
        if isinstance(named, str) and any(layer.logical_id == named for layer in build.stack.layers):
            refs.append(LayerRef(logical_id=named))
        else:
            refs.append(LayerRef(arn=str(build.resolver.resolve(item))))
    return tuple(refs)


def _function(build: Build, events: Service, doc: dict[str, Any], name: str, spec: dict[str, Any],
              role_arn: str) -> FunctionTarget:
    provider, fn_id = doc.get("provider") or {}, normalized(name)
    logical_id = f"{fn_id}LambdaFunction"
    environment = build.resolver.resolve({**(provider.get("environment") or {}), **(spec.get("environment") or {})})
    config = {
        "Runtime": spec.get("runtime") or provider.get("runtime"), "Handler": spec.get("handler"),
        "MemorySize": int(spec.get("memorySize") or provider.get("memorySize") or 1024),
        "Timeout": int(spec.get("timeout") or provider.get("timeout") or 6),
        "Description": str(spec.get("description", "")), "Role": role_arn,
        "Environment": {"Variables": {str(k): str(v) for k, v in environment.items()}},
        "Architectures": [str(spec.get("architecture") or provider.get("architecture") or "x86_64")],
        "EphemeralStorage": {"Size": int(spec.get("ephemeralStorageSize") or 512)},
    }
    if spec.get("image"):
        build.unsupported(logical_id, "container image functions (image)")
    provisioned = spec.get("provisionedConcurrency")
    function = Function(
        logical_id, build.resolver.name(logical_id), _code(build, None, doc.get("package"), spec.get("package")),
        config, _layer_refs(build, spec.get("layers") or provider.get("layers") or []),
        spec.get("reservedConcurrency"), Alias("provisioned", int(provisioned)) if provisioned else None,
        _invoke_config(spec), tags={**{str(k): str(v) for k, v in {**(provider.get("tags") or {}),
                                                                    **(spec.get("tags") or {})}.items()},
                                    **build.tags(logical_id)})
    build.stack.functions.append(function)
    target = FunctionTarget(function.name, "provisioned" if provisioned else None)
    if spec.get("url"):
        function.url_config = url_config(spec["url"])
        function.url_id = build.resolver.where.url_id(f"{fn_id}LambdaFunctionUrl")
        function.url_logical_id = f"{fn_id}LambdaFunctionUrl"
        if function.url_config["AuthType"] == "NONE":  # the two statements AWS requires of a public URL
            build.stack.permissions.append(Permission(
                f"{fn_id}LambdaPermissionFnUrl", FunctionTarget(function.name), "lambda:InvokeFunctionUrl", "*",
                function_url_auth_type="NONE"))
            build.stack.permissions.append(Permission(
                f"{fn_id}LambdaPermissionFnUrlInvoke", FunctionTarget(function.name), "lambda:InvokeFunction", "*",
                invoked_via_function_url=True))
    add_events(events, fn_id, target, spec.get("events") or [])
    return target


def _invoke_config(spec: dict[str, Any]) -> dict[str, Any] | None:
    destinations = spec.get("destinations") or {}
    config: dict[str, Any] = {}
    if "maximumRetryAttempts" in spec:
        config["MaximumRetryAttempts"] = int(spec["maximumRetryAttempts"])
    if "maximumEventAge" in spec:
        config["MaximumEventAgeInSeconds"] = int(spec["maximumEventAge"])
    for key, aws in (("onSuccess", "OnSuccess"), ("onFailure", "OnFailure")):
        if destinations.get(key):
            config.setdefault("DestinationConfig", {})[aws] = {"Destination": str(destinations[key])}
    return config or None


def _resources(build: Build, doc: dict[str, Any]) -> None:
    """`resources.Resources`: the same CloudFormation mappers as a SAM template's."""
    own = set((doc.get("resources") or {}).get("Resources") or {})
    for logical_id in build.resolver.order():
        if logical_id in own:
            mapper = MAPPERS.get(build.resolver.type_of(logical_id))
            if mapper is None:
                build.unsupported(logical_id, build.resolver.type_of(logical_id))
            else:
                mapper(build, logical_id)


def _outputs(build: Build, doc: dict[str, Any]) -> dict[str, Output]:
    """The framework's endpoint outputs, then the project's own (`resources.Outputs`)."""
    where, outputs = build.resolver.where, {}
    for api in build.stack.rest_apis:
        outputs["ServiceEndpoint"] = Output(f"https://{api.api_id}.execute-api.{where.region}.amazonaws.com/"
                                            f"{api.stages[0]}", "URL of the service endpoint")
    for http_api in build.stack.http_apis:
        outputs["HttpApiUrl"] = Output(f"https://{http_api.api_id}.execute-api.{where.region}.amazonaws.com",
                                       "URL of the HTTP API")
    for function in build.stack.functions:
        if function.url_id:
            outputs[f"{function.logical_id}Url"] = Output(
                f"https://{function.url_id}.lambda-url.{where.region}.on.aws/", "Lambda Function URL")
    outputs.update(build.resolver.outputs())
    return outputs
