"""`ember deploy` of a SAM template or serverless.yml: load the stack, read what the server has of it, print the
plan, apply it with a progress bar, and print the Outputs with the URLs that answer here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ember.apps.apply import apply
from ember.apps.clients import Clients
from ember.apps.deployed import read_deployed
from ember.apps.local_urls import local_outputs
from ember.apps.model import CodeSource, Stack
from ember.apps.plan import UNCHANGED, Plan, plan
from ember.apps.plan_view import plan_table
from ember.apps.project import load_project
from ember.cli.client import aws_client, client_region
from ember.cli.packaging import code_sha256, package


@dataclass
class StackOptions:
    stack_name: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)  # a template's Parameters
    options: dict[str, str] = field(default_factory=dict)  # serverless's --stage (and --region)
    params: dict[str, str] = field(default_factory=dict)  # serverless's --param
    dry_run: bool = False


def deploy_stack(file: Path, settings: StackOptions, endpoint: str, out: Console, err: Console) -> Plan:
    """Plan, print, apply (unless a dry run). Raises TemplateError, ApplyError or a client error, each one line."""
    clients = Clients.make(lambda service: aws_client(service, endpoint))
    zip_of = cache(package)

    def digest(source: CodeSource) -> str:
        return code_sha256(zip_of(source))

    def load(known_ids: Mapping[str, str]) -> Stack:
        return load_project(file, settings.stack_name, client_region(), settings.parameter_overrides,
                            settings.options, settings.params, known_ids)

    stack = load({})
    for warning in [stack.unsupported_warning(), *stack.warnings]:
        if warning:
            err.print(f"ember: warning: {warning}", markup=False)
    deployed = read_deployed(clients, stack)
    if deployed.known_ids:
        stack = load(deployed.known_ids)
    the_plan = plan(stack, deployed, digest)
    out.print(plan_table(the_plan))
    if settings.dry_run:
        out.print("dry run: nothing was changed", markup=False)
        return the_plan
    known = dict(deployed.known_ids)
    if the_plan.changed:
        def replan(ids: dict[str, str]) -> tuple[Stack, Plan]:
            again = load(ids)
            return again, plan(again, deployed, digest)
        work = sum(step.action != UNCHANGED for step in the_plan.steps)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"deploying {stack.name}", total=work)
            known = apply(clients, stack, deployed, the_plan, zip_of, replan,
                          lambda step: progress.update(task, advance=1,
                                                       description=f"{step.action} {step.logical_id or step.key}"))
        stack = load(known)
        out.print(f"deployed {stack.name}", markup=False)
    else:
        out.print(f"{stack.name}: all unchanged", markup=False)
    print_outputs(out, stack, endpoint)
    return the_plan


def print_outputs(out: Console, stack: Stack, endpoint: str) -> None:
    """One `Key: value` line per Output (never wrapped: a URL is copied whole), its description after it."""
    values = local_outputs(stack.outputs, endpoint)
    if values:
        out.print("Outputs:", markup=False)
    for key, value in values.items():
        description = stack.outputs[key].description
        out.print(f"  {key}: {_text(value)}" + (f"  ({description})" if description else ""), markup=False,
                  soft_wrap=True)


def _text(value: Any) -> str:
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
