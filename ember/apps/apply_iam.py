"""Apply roles, layers and permissions: create, bring to the desired state, delete, each with its undo."""

from __future__ import annotations

import json
from typing import Any

from ember.apps.apply_context import Context, ignore_absent
from ember.apps.deployed import layer_mark
from ember.apps.model import LayerVersion, Permission, Role
from ember.apps.server_answers import absent

# ------------------------------------------------------------------ roles


def create_role(ctx: Context, role: Role) -> None:
    iam = ctx.clients.iam
    iam.create_role(RoleName=role.name, Path=role.path, AssumeRolePolicyDocument=json.dumps(role.assume_role_policy),
                    Tags=[{"Key": k, "Value": v} for k, v in role.tags.items()])
    ctx.undo(f"role {role.name}", lambda: delete_role(ctx, role.name))
    _set_role(ctx, role.name, role.desired(), {"Policies": {}, "ManagedPolicyArns": []})


def update_role(ctx: Context, role: Role) -> None:
    current = ctx.current("role", role.name)
    have = current.spec if current else {}
    _set_role(ctx, role.name, role.desired(), have)
    ctx.undo(f"role {role.name}", lambda: _set_role(ctx, role.name, have, role.desired()))


def _set_role(ctx: Context, name: str, want: dict[str, Any], have: dict[str, Any]) -> None:
    """Bring a role from `have` to `want` (trust policy, inline policies, managed policies)."""
    iam = ctx.clients.iam
    if have.get("AssumeRolePolicyDocument") not in (None, want["AssumeRolePolicyDocument"]):
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(want["AssumeRolePolicyDocument"]))
    for policy, document in want["Policies"].items():
        if have.get("Policies", {}).get(policy) != document:
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    for policy in set(have.get("Policies", {})) - set(want["Policies"]):
        ignore_absent(iam.delete_role_policy, RoleName=name, PolicyName=policy)
    for arn in sorted(set(want["ManagedPolicyArns"]) - set(have.get("ManagedPolicyArns", []))):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for arn in sorted(set(have.get("ManagedPolicyArns", [])) - set(want["ManagedPolicyArns"])):
        ignore_absent(iam.detach_role_policy, RoleName=name, PolicyArn=arn)


def delete_role(ctx: Context, name: str) -> None:
    iam = ctx.clients.iam
    for policy in (absent(iam.list_role_policies, RoleName=name) or {}).get("PolicyNames", []):
        ignore_absent(iam.delete_role_policy, RoleName=name, PolicyName=policy)
    for attached in (absent(iam.list_attached_role_policies, RoleName=name) or {}).get("AttachedPolicies", []):
        ignore_absent(iam.detach_role_policy, RoleName=name, PolicyArn=attached["PolicyArn"])
    ignore_absent(iam.delete_role, RoleName=name)


# ------------------------------------------------------------------ layers


def publish_layer(ctx: Context, layer: LayerVersion) -> None:
    """A new version (layers are immutable), marked as the stack's by a permission statement of its own account."""
    lam = ctx.clients.lambda_
    request: dict[str, Any] = {"LayerName": layer.name, "Content": {"ZipFile": ctx.zip_of(layer.code)},
                               "Description": layer.description}
    for key, value in (("CompatibleRuntimes", layer.compatible_runtimes),
                       ("CompatibleArchitectures", layer.compatible_architectures),
                       ("LicenseInfo", layer.license_info)):
        if value:
            request[key] = list(value) if isinstance(value, tuple) else value
    published = lam.publish_layer_version(**request)
    version = published["Version"]
    ctx.undo(f"layer {layer.name}:{version}",
             lambda: ignore_absent(lam.delete_layer_version, LayerName=layer.name, VersionNumber=version))
    lam.add_layer_version_permission(LayerName=layer.name, VersionNumber=version,
                                     StatementId=layer_mark(ctx.stack.name, layer.logical_id),
                                     Action="lambda:GetLayerVersion", Principal=ctx.stack.account)
    ctx.layer_arns[layer.logical_id] = published["LayerVersionArn"]


def delete_layer(ctx: Context, name: str) -> None:
    """Every version of the layer this stack published (a version another stack marked stays)."""
    lam = ctx.clients.lambda_
    versions = (absent(lam.list_layer_versions, LayerName=name) or {}).get("LayerVersions", [])
    for version in versions:
        policy = absent(lam.get_layer_version_policy, LayerName=name, VersionNumber=version["Version"])
        sids = [s.get("Sid", "") for s in json.loads(policy["Policy"])["Statement"]] if policy else []
        if any(sid.startswith(layer_mark(ctx.stack.name, "")) for sid in sids):
            ignore_absent(lam.delete_layer_version, LayerName=name, VersionNumber=version["Version"])


# ------------------------------------------------------------------ permissions


def add_permission(ctx: Context, permission: Permission) -> None:
    request = permission.request()
    ctx.clients.lambda_.add_permission(**request)
    ctx.undo(f"permission {permission.statement_id}", lambda: remove_permission(ctx, request))


def update_permission(ctx: Context, permission: Permission, key: str) -> None:
    current = ctx.current("permission", key)
    old = current.spec if current else None
    if old:
        remove_permission(ctx, old)
    request = permission.request()
    ctx.clients.lambda_.add_permission(**request)

    def restore() -> None:
        remove_permission(ctx, request)
        if old:
            ctx.clients.lambda_.add_permission(**old)
    ctx.undo(f"permission {permission.statement_id}", restore)


def remove_permission(ctx: Context, request: dict[str, Any]) -> None:
    kwargs = {"FunctionName": request["FunctionName"], "StatementId": request["StatementId"]}
    if request.get("Qualifier"):
        kwargs["Qualifier"] = request["Qualifier"]
    ignore_absent(ctx.clients.lambda_.remove_permission, **kwargs)
