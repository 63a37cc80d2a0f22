"""`ember deploy`: create the function, or update its code and the settings given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.cli.client import aws_client
from ember.cli.java_build import has_java_sources, java_zip
from ember.cli.packaging import code_bytes, folder_settings

DEFAULT_ROLE = "arn:aws:iam::000000000000:role/ember-function"
DEFAULTS = {"Runtime": "python3.11", "Handler": "index.handler", "MemorySize": 128, "Timeout": 3}


@dataclass
class DeploySpec:
    path: Path
    name: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # only what the user gave


def resolve_settings(spec: DeploySpec) -> dict[str, Any]:
    """Flags win over `ember.json`, which wins over nothing (defaults apply only on create)."""
    from_file = folder_settings(spec.path)
    mapping = {"runtime": "Runtime", "handler": "Handler", "memory": "MemorySize", "timeout": "Timeout"}
    resolved = {aws: from_file[key] for key, aws in mapping.items() if key in from_file}
    if "environment" in from_file:
        resolved["Environment"] = {"Variables": dict(from_file["environment"])}
    resolved.update(spec.settings)
    return resolved


def function_name(spec: DeploySpec) -> str:
    return spec.name or spec.path.resolve().name.removesuffix(".zip")


def project_file(path: Path) -> Path | None:
    """The SAM template or serverless.yml `path` is or holds. Such a project is a stack (ember.cli.stack_deploy),
    never one function."""
    from ember.apps.project import find_project
    from ember.errors import TemplateError

    try:
        return find_project(path)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc


def deploy(spec: DeploySpec, endpoint: str, warn: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Create or update; returns the function's configuration once it can be invoked. `warn` gets what the
    server warned of (extensions built for another Python, layers carrying Lambda extensions)."""
    project = project_file(spec.path)
    if project is not None:  # not deployed as a folder of code named index.handler, which fails only at invoke
        raise ValueError(f"{project} describes a stack: deploy it with `ember deploy {spec.path}`")
    client = aws_client("lambda", endpoint)
    name = function_name(spec)
    settings = resolve_settings(spec)
    zipped = java_zip(spec.path) if has_java_sources(spec.path, settings.get("Runtime")) else code_bytes(spec.path)
    try:
        client.get_function(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        _warnings(client.create_function(FunctionName=name, Role=DEFAULT_ROLE, Code={"ZipFile": zipped},
                                         **{**DEFAULTS, **settings}), warn)
        client.get_waiter("function_active_v2").wait(FunctionName=name)
    else:
        _warnings(client.update_function_code(FunctionName=name, ZipFile=zipped), warn)
        client.get_waiter("function_updated_v2").wait(FunctionName=name)
        if settings:
            _warnings(client.update_function_configuration(FunctionName=name, **settings), warn)
            client.get_waiter("function_updated_v2").wait(FunctionName=name)
    return client.get_function_configuration(FunctionName=name)


def _warnings(response: dict[str, Any], warn: Callable[[str], None]) -> None:
    warning = response["ResponseMetadata"]["HTTPHeaders"].get("x-ember-warning")
    if warning:
        warn(warning)
