"""CloudFormation's Lambda and IAM resources → the model: functions, their versions, aliases, URLs, async
configs, permissions, layers and roles."""

from __future__ import annotations

from typing import Any

from ember.apps.cfn_context import Build, tag_dict
from ember.apps.model import Alias, Function, LayerRef, LayerVersion, Permission, Role

# CreateFunction members a template may set, with Lambda's defaults: a property removed from the template goes
# back to its default, as in CloudFormation.
FUNCTION_DEFAULTS: dict[str, Any] = {
    "Description": "", "MemorySize": 128, "Timeout": 3, "Environment": {"Variables": {}},
    "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
}
PASSED_THROUGH = ("Runtime", "Handler", "Role", "DeadLetterConfig", "TracingConfig", "LoggingConfig", "KmsKeyArn")
NOT_RUN = ("VpcConfig", "FileSystemConfigs", "CodeSigningConfigArn", "ImageConfig", "SnapStart")


def function(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    runtime = str(props.get("Runtime", ""))
    code = build.code(logical_id, props.get("Code"), runtime)
    if code is None:
        return
    config = {**FUNCTION_DEFAULTS, **{k: props[k] for k in (*FUNCTION_DEFAULTS, *PASSED_THROUGH) if k in props}}
    if "KmsKeyArn" in config:
        config["KMSKeyArn"] = config.pop("KmsKeyArn")
    config["Environment"] = {"Variables": {k: str(v) for k, v in
                                           ((config["Environment"] or {}).get("Variables") or {}).items()}}
    for key in NOT_RUN:
        if key in props:
            build.unsupported(logical_id, f"AWS::Lambda::Function.{key}")
    tags = {**tag_dict(props.get("Tags")), **build.tags(logical_id)}
    build.stack.functions.append(Function(
        logical_id, build.resolver.name(logical_id), code, config, layers=_layers(build, logical_id),
        reserved_concurrency=props.get("ReservedConcurrentExecutions"), tags=tags))


def _layers(build: Build, logical_id: str) -> tuple[LayerRef, ...]:
    """Layers of this stack by logical id (their version is the server's), others by their resolved ARN."""
    refs = []
    for item in build.resolver.properties(logical_id).get("Layers") or []:
        named = item.get("Ref") if isinstance(item, dict) else None
        if isinstance(named, str) and build.resolver.resources.get(named, {}).get("Type") == \
                "AWS::Lambda::LayerVersion":
            refs.append(LayerRef(logical_id=named))
        else:
            refs.append(LayerRef(arn=str(build.resolver.resolve(item))))
    return tuple(refs)


def _function_of(build: Build, logical_id: str, value: Any) -> Function | None:
    target = build.target(value)
    found = next((f for f in build.stack.functions if target and f.name == target.name), None)
    if found is None:
        build.unsupported(logical_id, f"refers to a function outside this stack ({value})")
    return found


def version(build: Build, logical_id: str) -> None:
    """Published by the alias that points at it (AutoPublishAlias); alone, it is not modelled."""


def alias(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    found = _function_of(build, logical_id, props.get("FunctionName"))
    if found is None:
        return
    provisioned = (props.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions")
    found.alias = Alias(str(props["Name"]), None if provisioned is None else int(provisioned))
    if props.get("RoutingConfig"):
        build.unsupported(logical_id, "AWS::Lambda::Alias.RoutingConfig")


def url(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    found = _function_of(build, logical_id, props.get("TargetFunctionArn"))
    if found is None:
        return
    target = build.target(props.get("TargetFunctionArn"))
    config: dict[str, Any] = {key: props[key] for key in ("AuthType", "Cors", "InvokeMode") if key in props}
    if target and target.qualifier:
        config["Qualifier"] = target.qualifier
    found.url_config = config
    found.url_id = build.resolver.where.url_id(logical_id)
    found.url_logical_id = logical_id


def event_invoke_config(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    found = _function_of(build, logical_id, props.get("FunctionName"))
    if found is not None:
        keys = ("Qualifier", "MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        found.event_invoke_config = {key: props[key] for key in keys if key in props}


def permission(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    target = build.target(props.get("FunctionName"))
    if target is None or _function_of(build, logical_id, props.get("FunctionName")) is None:
        return
    build.stack.permissions.append(Permission(
        logical_id, target, str(props["Action"]), str(props["Principal"]), props.get("SourceArn"),
        props.get("SourceAccount"), props.get("FunctionUrlAuthType"), props.get("InvokedViaFunctionUrl")))


def layer(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    code = build.code(logical_id, props.get("Content"))
    if code is not None:
        build.stack.layers.append(LayerVersion(
            logical_id, build.resolver.name(logical_id), code, tuple(props.get("CompatibleRuntimes") or ()),
            tuple(props.get("CompatibleArchitectures") or ()), str(props.get("Description", "")),
            props.get("LicenseInfo")))


def role(build: Build, logical_id: str) -> None:
    props = build.props(logical_id)
    policies = {str(p["PolicyName"]): p["PolicyDocument"] for p in props.get("Policies") or []}
    arn = build.resolver.get_att(logical_id, "Arn")
    build.stack.roles.append(Role(
        logical_id, build.resolver.name(logical_id), arn, props.get("AssumeRolePolicyDocument") or {},
        policies, tuple(props.get("ManagedPolicyArns") or ()), str(props.get("Path", "/")),
        {**tag_dict(props.get("Tags")), **build.tags(logical_id)}))
    if props.get("PermissionsBoundary"):
        build.unsupported(logical_id, "AWS::IAM::Role.PermissionsBoundary")


def inline_policy(build: Build, logical_id: str) -> None:
    """AWS::IAM::Policy: an inline policy put on each role it names."""
    props = build.props(logical_id)
    for name in props.get("Roles") or []:
        found = next((r for r in build.stack.roles if r.name == name), None)
        if found is None:
            build.unsupported(logical_id, f"a policy on role {name}, which is not in this stack")
        else:
            found.inline_policies[str(props["PolicyName"])] = props["PolicyDocument"]
    if props.get("Users") or props.get("Groups"):
        build.unsupported(logical_id, "AWS::IAM::Policy on users or groups")
