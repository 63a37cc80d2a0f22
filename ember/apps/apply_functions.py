"""Apply a function: create it with everything that is its own (reserved concurrency, alias and provisioned
concurrency, async config, URL), update it in place, or delete it.

The previous version keeps serving until the new one is ready: `$LATEST` changes only when UpdateFunctionCode /
UpdateFunctionConfiguration finish (Lambda swaps it whole), and a function reached through an alias
(AutoPublishAlias, serverless's provisioned alias) keeps running its old version until the new one is published
and the alias moved. Before changing anything its code is fetched (GetFunction's link) and its configuration
kept, so a failed deploy puts both back (the code from the caller's memory when it still holds that zip: `ember dev`).
"""

from __future__ import annotations

import urllib.request
from typing import Any

from ember.apps.apply_context import Context, ignore_absent, wait_until
from ember.apps.model import Function
from ember.apps.server_answers import absent

# UpdateFunctionConfiguration's members a model sets (Architectures goes with UpdateFunctionCode)
CONFIG_MEMBERS = ("Runtime", "Handler", "MemorySize", "Timeout", "Description", "Role", "Environment",
                  "EphemeralStorage", "DeadLetterConfig", "TracingConfig", "LoggingConfig", "KMSKeyArn")


def layer_arns(ctx: Context, function: Function) -> list[str]:
    return [ctx.layer_arns[ref.logical_id] if ref.logical_id else str(ref.arn) for ref in function.layers]


def create_function(ctx: Context, function: Function) -> None:
    lam = ctx.clients.lambda_
    lam.create_function(**function.create_request(ctx.zip_of(function.code), layer_arns(ctx, function)))
    ctx.undo(f"function {function.name}", lambda: ignore_absent(lam.delete_function, FunctionName=function.name))
    lam.get_waiter("function_active_v2").wait(FunctionName=function.name)
    _reserved(ctx, function, None)
    _invoke_config(ctx, function, None)
    if function.alias:
        _move_alias(ctx, function, None)
    _url(ctx, function, None)


def update_function(ctx: Context, function: Function, changes: tuple[str, ...]) -> None:
    lam, name = ctx.clients.lambda_, function.name
    current = ctx.current("function", name)
    assert current is not None
    have, old_config = current.spec, current.spec["Configuration"]
    if "Code" in changes or "Architectures" in changes:
        old_zip = ctx.known_zips.get(current.code_sha256 or "") or _download(lam, name)
        lam.update_function_code(FunctionName=name, ZipFile=ctx.zip_of(function.code),
                                 Architectures=function.config["Architectures"])
        ctx.undo(f"code of {name}", lambda: _restore_code(ctx, name, old_zip, old_config))
        _wait_updated(ctx, name)
    if set(changes) & {*CONFIG_MEMBERS, "Layers"}:
        wanted = {key: function.config[key] for key in CONFIG_MEMBERS if key in function.config}
        lam.update_function_configuration(FunctionName=name, Layers=layer_arns(ctx, function), **wanted)
        ctx.undo(f"configuration of {name}", lambda: _restore_config(ctx, name, old_config))
        _wait_updated(ctx, name)
    if "Tags" in changes:
        _tags(ctx, function, have.get("Tags") or {})
    if "ReservedConcurrentExecutions" in changes:
        _reserved(ctx, function, have.get("ReservedConcurrentExecutions"))
    if "EventInvokeConfig" in changes:
        _invoke_config(ctx, function, have.get("EventInvokeConfig"))
    if function.alias and (set(changes) - {"Tags", "Url", "EventInvokeConfig", "ReservedConcurrentExecutions"}):
        _move_alias(ctx, function, have.get("Alias"), current.detail.get("AliasVersion"))
    elif not function.alias and have.get("Alias"):
        _drop_alias(ctx, name, have["Alias"]["Name"])
    if "Url" in changes:
        _url(ctx, function, have.get("Url"))


def delete_function(ctx: Context, name: str) -> None:
    lam = ctx.clients.lambda_
    for url in (absent(lam.list_function_url_configs, FunctionName=name) or {}).get("FunctionUrlConfigs", []):
        parts = url["FunctionArn"].split(":")
        qualifier = {"Qualifier": parts[7]} if len(parts) > 7 else {}
        ignore_absent(lam.delete_function_url_config, FunctionName=name, **qualifier)
    ignore_absent(lam.delete_function, FunctionName=name)  # its versions, aliases and their configs go with it


def _wait_updated(ctx: Context, name: str) -> None:
    ctx.clients.lambda_.get_waiter("function_updated_v2").wait(FunctionName=name)


def _download(lam: Any, name: str) -> bytes:
    """The zip $LATEST runs now, through the presigned link GetFunction gives (Ember's own endpoint)."""
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310 (the server we deploy to)
        return bytes(response.read())


def _restore_code(ctx: Context, name: str, zipped: bytes, config: dict[str, Any]) -> None:
    ctx.clients.lambda_.update_function_code(FunctionName=name, ZipFile=zipped,
                                            Architectures=config.get("Architectures") or ["x86_64"])
    _wait_updated(ctx, name)


def _restore_config(ctx: Context, name: str, config: dict[str, Any]) -> None:
    old = {key: config[key] for key in CONFIG_MEMBERS if config.get(key) is not None}
    old.setdefault("Environment", {"Variables": {}})  # AWS leaves an empty environment out of the configuration
    layers = [layer["Arn"] for layer in config.get("Layers") or []]
    ctx.clients.lambda_.update_function_configuration(FunctionName=name, Layers=layers, **old)
    _wait_updated(ctx, name)


def _tags(ctx: Context, function: Function, have: dict[str, str]) -> None:
    lam, arn = ctx.clients.lambda_, ctx.function_arn_of(function.name)
    lam.tag_resource(Resource=arn, Tags=function.tags)
    gone = sorted(set(have) - set(function.tags))
    if gone:
        lam.untag_resource(Resource=arn, TagKeys=gone)

    def restore() -> None:
        added = sorted(set(function.tags) - set(have))
        if added:
            lam.untag_resource(Resource=arn, TagKeys=added)
        if have:
            lam.tag_resource(Resource=arn, Tags=have)
    ctx.undo(f"tags of {function.name}", restore)


def _reserved(ctx: Context, function: Function, have: int | None) -> None:
    lam, name, want = ctx.clients.lambda_, function.name, function.reserved_concurrency

    def put(value: int | None) -> None:
        if value is None:
            ignore_absent(lam.delete_function_concurrency, FunctionName=name)
        else:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)
    if want != have:
        put(want)
        ctx.undo(f"reserved concurrency of {name}", lambda: put(have))


def _invoke_config(ctx: Context, function: Function, have: dict[str, Any] | None) -> None:
    lam, name, want = ctx.clients.lambda_, function.name, function.event_invoke_config

    def put(value: dict[str, Any] | None, qualifier: str | None) -> None:
        where = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
        if value is None:
            ignore_absent(lam.delete_function_event_invoke_config, **where)
        else:
            lam.put_function_event_invoke_config(**where, **{k: v for k, v in value.items() if k != "Qualifier"})
    if want == have:
        return
    qualifier = (want or {}).get("Qualifier")
    if qualifier and function.alias and qualifier == function.alias.name and not have:
        _move_alias(ctx, function, None)  # its alias must exist first
    put(want, qualifier)
    ctx.undo(f"async config of {name}", lambda: put(have, (have or {}).get("Qualifier")))


def _move_alias(ctx: Context, function: Function, have: dict[str, Any] | None, old_version: str | None = None) -> None:
    """Publish what $LATEST now is and point the alias at it; provisioned environments follow the alias."""
    lam, name, alias = ctx.clients.lambda_, function.name, function.alias
    assert alias is not None
    version = lam.publish_version(FunctionName=name)["Version"]
    exists = absent(lam.get_alias, FunctionName=name, Name=alias.name) is not None
    if exists:
        lam.update_alias(FunctionName=name, Name=alias.name, FunctionVersion=version)
    else:
        lam.create_alias(FunctionName=name, Name=alias.name, FunctionVersion=version)
    if have and have.get("Name") != alias.name:
        _drop_alias(ctx, name, have["Name"])

    def restore() -> None:
        if exists and old_version:
            lam.update_alias(FunctionName=name, Name=alias.name, FunctionVersion=old_version)
        elif not exists:
            ignore_absent(lam.delete_alias, FunctionName=name, Name=alias.name)
    ctx.undo(f"alias {name}:{alias.name}", restore)
    want, had = alias.provisioned, (have or {}).get("Provisioned")
    if want:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=alias.name,
                                               ProvisionedConcurrentExecutions=want)
        wait_until(lambda: _provisioned_ready(lam, name, alias.name), f"provisioned concurrency of {name}")
    elif had:
        ignore_absent(lam.delete_provisioned_concurrency_config, FunctionName=name, Qualifier=alias.name)


def _provisioned_ready(lam: Any, name: str, alias: str) -> bool:
    status = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=alias)["Status"]
    if status == "FAILED":
        raise RuntimeError(f"provisioned concurrency of {name}:{alias} failed to start")
    return bool(status == "READY")


def _drop_alias(ctx: Context, name: str, alias: str) -> None:
    ignore_absent(ctx.clients.lambda_.delete_alias, FunctionName=name, Name=alias)


def _url(ctx: Context, function: Function, have: dict[str, Any] | None) -> None:
    lam, want = ctx.clients.lambda_, function.url_config

    def where(config: dict[str, Any] | None) -> dict[str, Any]:
        qualifier = (config or {}).get("Qualifier")
        return {"FunctionName": function.name, **({"Qualifier": qualifier} if qualifier else {})}
    if have and (not want or want.get("Qualifier") != have.get("Qualifier")):
        ignore_absent(lam.delete_function_url_config, **where(have))
        have = None
    if not want:
        return
    members = {k: v for k, v in want.items() if k != "Qualifier"}
    if have:
        answer = lam.update_function_url_config(**where(want), **members)
    else:
        answer = lam.create_function_url_config(**where(want), **members)
        ctx.undo(f"URL of {function.name}", lambda: ignore_absent(lam.delete_function_url_config, **where(want)))
    if function.url_logical_id:
        ctx.known_ids[function.url_logical_id] = answer["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
