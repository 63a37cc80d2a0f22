"""Read what a server has of a stack, in the model's terms, for the plan (ember.apps.plan).

Ownership is the `ember:stack` tag: functions (ListTags) and roles (GetRole's Tags) carry it; a function's
permissions are its resource policy's statements (GetPolicy, per qualifier), and layers are found by the names
the stack gives them. Each reader turns the server's answer back into the shape of the model's `desired()`.

Readers for the kinds whose APIs are not on this server yet (HTTP and REST APIs, rules, schedules, warmers)
come with the apply step: until then `read_deployed` reports none of them, so the plan shows them as created.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ember.apps.model import STACK_TAG, Stack
from ember.apps.plan import Deployed, DeployedResource

ABSENT = {"ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException", "NoSuchEntity",
          "UnknownOperation", "UnknownOperationException", "404"}
CONDITIONS = {("ArnLike", "AWS:SourceArn"): "SourceArn", ("StringEquals", "AWS:SourceAccount"): "SourceAccount",
              ("StringEquals", "lambda:FunctionUrlAuthType"): "FunctionUrlAuthType",
              ("Bool", "lambda:InvokedViaFunctionUrl"): "InvokedViaFunctionUrl"}


def _absent(call: Any, **kwargs: Any) -> Any:
    """The call's answer, or None when the server has no such thing (or no such API yet)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ABSENT or \
                exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise


def read_deployed(lambda_client: Any, iam_client: Any, stack: Stack) -> Deployed:
    deployed = Deployed()
    layer_names = {layer.name for layer in stack.layers}
    for page in lambda_client.get_paginator("list_functions").paginate():
        for config in page["Functions"]:
            tags = lambda_client.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
            if tags.get(STACK_TAG) == stack.name:
                _function(deployed, lambda_client, config, tags, layer_names)
    _roles(deployed, iam_client, stack.name)
    _layers(deployed, lambda_client, layer_names)
    return deployed


def _function(deployed: Deployed, client: Any, config: dict[str, Any], tags: dict[str, str],
              layer_names: set[str]) -> None:
    name = config["FunctionName"]
    reserved = (_absent(client.get_function_concurrency, FunctionName=name) or {}).get("ReservedConcurrentExecutions")
    aliases = sorted((_absent(client.list_aliases, FunctionName=name) or {}).get("Aliases", []),
                     key=lambda alias: alias["Name"])
    alias = None
    if aliases:
        provisioned = _absent(client.get_provisioned_concurrency_config, FunctionName=name,
                              Qualifier=aliases[0]["Name"]) or {}
        alias = {"Name": aliases[0]["Name"],
                 "Provisioned": provisioned.get("RequestedProvisionedConcurrentExecutions")}
    url = _absent(client.get_function_url_config, FunctionName=name)
    invoke = _absent(client.get_function_event_invoke_config, FunctionName=name)
    spec = {
        "Configuration": config,
        "Layers": [_layer_ref(layer["Arn"], layer_names) for layer in config.get("Layers") or []],
        "ReservedConcurrentExecutions": reserved, "Alias": alias, "Tags": tags,
        "EventInvokeConfig": None if invoke is None else {
            key: invoke[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in invoke},
        "Url": None if url is None else {key: url[key] for key in ("AuthType", "Cors", "InvokeMode") if key in url},
    }
    deployed.resources[("function", name)] = DeployedResource(spec, config.get("CodeSha256"),
                                                              tags.get("ember:logical-id", ""))
    for qualifier in [None, *(alias["Name"] for alias in aliases)]:
        _permissions(deployed, client, name, qualifier)


def _layer_ref(arn: str, layer_names: set[str]) -> str:
    """A layer of the stack by its name (its version follows the stack's code); any other by its full ARN."""
    parts = arn.split(":")
    return f"layer:{parts[6]}" if len(parts) == 8 and parts[6] in layer_names else arn


def _permissions(deployed: Deployed, client: Any, name: str, qualifier: str | None) -> None:
    kwargs = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    policy = _absent(client.get_policy, **kwargs)
    for statement in json.loads(policy["Policy"])["Statement"] if policy else []:
        spec = permission_spec(statement, name, qualifier)
        key = f"{name}{':' + qualifier if qualifier else ''}/{statement['Sid']}"
        deployed.resources[("permission", key)] = DeployedResource(spec, logical_id=statement["Sid"])


def permission_spec(statement: dict[str, Any], name: str, qualifier: str | None) -> dict[str, Any]:
    """A resource policy statement back as the AddPermission request that wrote it."""
    principal = statement["Principal"]
    if isinstance(principal, dict):
        principal = principal.get("Service") or principal.get("AWS")
        if str(principal).endswith(":root"):
            principal = str(principal).split(":")[4]
    spec: dict[str, Any] = {"FunctionName": name, "StatementId": statement["Sid"], "Action": statement["Action"],
                            "Principal": principal}
    if qualifier:
        spec["Qualifier"] = qualifier
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, value in conditions.items():
            member = CONDITIONS.get((operator, key))
            if member:
                spec[member] = value == "true" if operator == "Bool" else value
    return spec


def _roles(deployed: Deployed, client: Any, stack_name: str) -> None:
    for page in client.get_paginator("list_roles").paginate():
        for listed in page["Roles"]:
            role = client.get_role(RoleName=listed["RoleName"])["Role"]
            tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags") or []}
            if tags.get(STACK_TAG) != stack_name:
                continue
            name = role["RoleName"]
            policies = {policy: client.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                        for policy in client.list_role_policies(RoleName=name)["PolicyNames"]}
            attached = [p["PolicyArn"] for p in client.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
            spec = {"AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"], "Policies": policies,
                    "ManagedPolicyArns": sorted(attached), "Path": role.get("Path", "/")}
            deployed.resources[("role", name)] = DeployedResource(spec, logical_id=tags.get("ember:logical-id", ""))


def _layers(deployed: Deployed, client: Any, layer_names: set[str]) -> None:
    """The latest version of each layer the stack names (none while the server has no layers API)."""
    for name in sorted(layer_names):
        versions = (_absent(client.list_layer_versions, LayerName=name) or {}).get("LayerVersions", [])
        if not versions:
            continue
        latest = max(versions, key=lambda version: version["Version"])
        full = client.get_layer_version(LayerName=name, VersionNumber=latest["Version"])
        spec = {"CompatibleRuntimes": full.get("CompatibleRuntimes", []), "Description": full.get("Description", ""),
                "CompatibleArchitectures": full.get("CompatibleArchitectures", []),
                "LicenseInfo": full.get("LicenseInfo")}
        deployed.resources[("layer", name)] = DeployedResource(spec, full["Content"]["CodeSha256"])
