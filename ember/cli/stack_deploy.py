"""`ember deploy` of a SAM template or serverless.yml: load the stack, read what the server has of it, print the
plan, apply it with a progress bar, and print the Outputs with the URLs that answer here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ember.apps.local_urls import local_outputs
from ember.apps.model import Stack
from ember.apps.plan import UNCHANGED, Deployed, Plan, Step
from ember.apps.plan_view import plan_table
from ember.cli.stack_session import StackOptions, StackSession

__all__ = ["Deployment", "StackOptions", "deploy_stack", "print_outputs"]


@dataclass
class Deployment:
    plan: Plan
    stack: Stack  # loaded again with the ids the server chose
    deployed: Deployed  # what the server had before the plan was applied


def deploy_stack(session: StackSession, out: Console, err: Console) -> Deployment:
    """Plan, print, apply (unless a dry run). Raises TemplateError, ApplyError or a client error, each one line."""
    stack = session.load({})
    for warning in [stack.unsupported_warning(), *stack.warnings]:
        if warning:
            err.print(f"ember: warning: {warning}", markup=False)
    deployed = session.read(stack)
    if deployed.known_ids:
        stack = session.load(deployed.known_ids)
    the_plan = session.plan(stack, deployed)
    out.print(plan_table(the_plan))
    if session.settings.dry_run:
        out.print("dry run: nothing was changed", markup=False)
        return Deployment(the_plan, stack, deployed)
    if the_plan.changed:
        work = sum(step.action != UNCHANGED for step in the_plan.steps)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"deploying {stack.name}", total=work)

            def advance(step: Step) -> None:
                progress.update(task, advance=1, description=f"{step.action} {step.logical_id or step.key}")
            known = session.apply(stack, deployed, the_plan, advance)
        stack = session.load(known)
        out.print(f"deployed {stack.name}", markup=False)
    else:
        out.print(f"{stack.name}: all unchanged", markup=False)
    print_outputs(out, stack, session.endpoint)
    return Deployment(the_plan, stack, deployed)


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
