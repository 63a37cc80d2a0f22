"""Read what a server has of a stack, in the model's terms, for the plan (ember.apps.plan) and for removal.

Ownership, kind by kind: functions, roles and APIs carry the `ember:stack` tag (with `ember:logical-id`); a
layer version carries a permission statement `ember-stack-<stack>` (layers take no tags); a function's
permissions are its resource policy's statements; rules and schedules are the stack's when they target one of
its functions (EventBridge rules and Scheduler schedules take no tags here). Each reader turns the server's
answer back into the shape of the model's `desired()`, and notes the ids the server chose (APIs, function URLs)
by logical id, so the stack can be loaded again with them (`Deployed.known_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ember.apps import deployed_triggers
from ember.apps.clients import Clients
from ember.apps.model import LOGICAL_ID_TAG, STACK_TAG, Stack, invoke_config_spec, url_spec
from ember.apps.plan import Deployed, DeployedResource
from ember.apps.server_answers import absent, pages

CONDITIONS = {("ArnLike", "AWS:SourceArn"): "SourceArn", ("StringEquals", "AWS:SourceAccount"): "SourceAccount",
              ("StringEquals", "lambda:FunctionUrlAuthType"): "FunctionUrlAuthType",
              ("Bool", "lambda:InvokedViaFunctionUrl"): "InvokedViaFunctionUrl"}
LAYER_MARK = "ember-stack-"  # the StatementId prefix that marks a layer version as a stack's


def read_deployed(clients: Clients, stack: Stack) -> Deployed:
    """What the server has of `stack` (its name, and the url logical ids its functions use)."""
    urls = {f.logical_id: f.url_logical_id for f in stack.functions if f.url_logical_id}
    return read_stack(clients, stack.name, urls, {layer.name for layer in stack.layers})


def read_stack(clients: Clients, name: str, url_logical_ids: Mapping[str, str] | None = None,
               layer_names: set[str] | None = None) -> Deployed:
    """`layer_names`: layers the stack declares, which its functions' specs name by name (not version ARN)."""
    deployed = Deployed()
    client = clients.lambda_
    for config in all_functions(client):
        tags = client.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
        if tags.get(STACK_TAG) == name:
            _function(deployed, client, config, tags, dict(url_logical_ids or {}), layer_names or set())
    _roles(deployed, clients.iam, name)
    _layers(deployed, client, name)
    functions = {key for kind, key in deployed.resources if kind == "function"}
    deployed_triggers.read(clients, name, functions, deployed)
    return deployed


def all_functions(client: Any) -> list[dict[str, Any]]:
    return [config for page in client.get_paginator("list_functions").paginate() for config in page["Functions"]]


def _function(deployed: Deployed, client: Any, config: dict[str, Any], tags: dict[str, str],
              url_logical_ids: dict[str, str], layer_names: set[str]) -> None:
    name, logical_id = config["FunctionName"], tags.get(LOGICAL_ID_TAG, "")
    reserved = (absent(client.get_function_concurrency, FunctionName=name) or {}).get("ReservedConcurrentExecutions")
    aliases = sorted((absent(client.list_aliases, FunctionName=name) or {}).get("Aliases", []),
                     key=lambda alias: alias["Name"])
    alias = None
    if aliases:
        provisioned = absent(client.get_provisioned_concurrency_config, FunctionName=name,
                             Qualifier=aliases[0]["Name"]) or {}
        alias = {"Name": aliases[0]["Name"], "Provisioned": provisioned.get("RequestedProvisionedConcurrentExecutions")}
    urls = (absent(client.list_function_url_configs, FunctionName=name) or {}).get("FunctionUrlConfigs", [])
    invokes = (absent(client.list_function_event_invoke_configs, FunctionName=name) or {}).get(
        "FunctionEventInvokeConfigs", [])
    spec = {
        "Configuration": config,
        "Layers": [layer_ref(layer["Arn"], layer_names) for layer in config.get("Layers") or []],
        "ReservedConcurrentExecutions": reserved, "Alias": alias, "Tags": tags,
        "EventInvokeConfig": _invoke_config(invokes[0]) if invokes else None,
        "Url": url_spec(_url(urls[0])) if urls else None,
    }
    detail = {"AliasVersion": aliases[0]["FunctionVersion"]} if aliases else {}
    deployed.resources[("function", name)] = DeployedResource(spec, config.get("CodeSha256"), logical_id, detail)
    if urls and logical_id:
        url_id = urls[0]["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
        deployed.known_ids[url_logical_ids.get(logical_id, f"{logical_id}Url")] = url_id
    for qualifier in [None, *(alias["Name"] for alias in aliases)]:
        _permissions(deployed, client, name, qualifier)


def _invoke_config(config: dict[str, Any]) -> dict[str, Any] | None:
    """An async config as PutFunctionEventInvokeConfig's members (Qualifier from its ARN)."""
    members = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    spec: dict[str, Any] = {key: config[key] for key in members if key in config}
    parts = config["FunctionArn"].split(":")
    if len(parts) > 7:
        spec["Qualifier"] = parts[7]
    return invoke_config_spec(spec)


def _url(config: dict[str, Any]) -> dict[str, Any]:
    """A URL config as CreateFunctionUrlConfig's members (Qualifier from its ARN; AWS's default Cors left out)."""
    url: dict[str, Any] = {key: config[key] for key in ("AuthType", "Cors", "InvokeMode") if key in config}
    parts = config["FunctionArn"].split(":")
    if len(parts) > 7:
        url["Qualifier"] = parts[7]
    return url


def layer_ref(arn: str, layer_names: set[str]) -> str:
    """A layer of the stack by its name (its version follows the stack's code); any other by its full ARN."""
    parts = arn.split(":")
    return f"layer:{parts[6]}" if len(parts) == 8 and parts[6] in layer_names else arn


def _permissions(deployed: Deployed, client: Any, name: str, qualifier: str | None) -> None:
    kwargs = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    policy = absent(client.get_policy, **kwargs)
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
            deployed.resources[("role", name)] = DeployedResource(spec, logical_id=tags.get(LOGICAL_ID_TAG, ""))


def _layers(deployed: Deployed, client: Any, stack_name: str) -> None:
    """The latest version of each layer whose latest version this stack published (none without a layers API)."""
    for page in pages(client, "list_layers"):
        for layer in page.get("Layers", []):
            latest = layer["LatestMatchingVersion"]
            owner = _layer_owner(client, layer["LayerName"], latest["Version"])
            if owner is None or owner[0] != stack_name:
                continue
            full = client.get_layer_version(LayerName=layer["LayerName"], VersionNumber=latest["Version"])
            spec = {"CompatibleRuntimes": full.get("CompatibleRuntimes", []),
                    "Description": full.get("Description", ""),
                    "CompatibleArchitectures": full.get("CompatibleArchitectures", []),
                    "LicenseInfo": full.get("LicenseInfo")}
            deployed.resources[("layer", layer["LayerName"])] = DeployedResource(
                spec, full["Content"]["CodeSha256"], owner[1], {"LayerVersionArn": full["LayerVersionArn"]})


def layer_mark(stack_name: str, logical_id: str) -> str:
    """The StatementId that marks a layer version as the stack's: `ember-stack-<stack>--<logical id>`."""
    return f"{LAYER_MARK}{stack_name}--{logical_id}"[:100]


def _layer_owner(client: Any, name: str, version: int) -> tuple[str, str] | None:
    policy = absent(client.get_layer_version_policy, LayerName=name, VersionNumber=version)
    for statement in json.loads(policy["Policy"])["Statement"] if policy else []:
        sid = str(statement.get("Sid", ""))
        if sid.startswith(LAYER_MARK):
            stack, _, logical_id = sid.removeprefix(LAYER_MARK).partition("--")
            return stack, logical_id
    return None
