"""`ember dev`'s reload: a change on disk → the plan against the stack as last deployed → only the changed steps
applied, through the same StackSession `ember deploy` uses.

The last deployed state is kept in memory, so a code edit reads nothing back from the server: one folder
zipped, the plan computed locally (every other function's digest is cached), one UpdateFunctionCode. A template
edit loads the project again and plans it whole (still applying only what changed), then reads the stack back.
Nothing that fails is half-applied: a broken template is reported and nothing runs; a Python file that does not
compile holds its function back; a failed apply rolls back. The previous version keeps serving in each case.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ember.apps.apply import ApplyError
from ember.apps.model import CodeSource, Function, Stack
from ember.apps.plan import UNCHANGED, UPDATE_CODE, UPDATE_CONFIG, Deployed, DeployedResource, Plan, Step
from ember.cli.dev_stream import DevStream
from ember.cli.dev_watch import Change
from ember.cli.python_check import SyntaxCheck
from ember.cli.stack_session import StackSession
from ember.errors import TemplateError

KEEPS_SERVING = "the previous version keeps serving"


@dataclass
class Live:
    """The stack as last deployed: the model and what the server holds of it."""

    stack: Stack
    deployed: Deployed


class Reloader:
    def __init__(self, session: StackSession, live: Live, stream: DevStream) -> None:
        self.session = session
        self.live = live
        self.stream = stream
        self.checks = SyntaxCheck()
        session.clients.lambda_.get_waiter("function_updated_v2")  # botocore loads waiters' model once: not at a save

    def reload(self, change: Change) -> bool:
        """Apply what `change` changed; whether the stack's shape may have changed (its URLs, its code folders)."""
        started = time.perf_counter()
        self.session.forget(change.sources)
        self.checks.check(change.paths)
        try:
            if change.project:
                return self._template(started)
            self._code(change, started)
        except TemplateError as exc:
            self.stream.error(f"{self._short(str(exc))} ({KEEPS_SERVING})")
        except ApplyError as exc:
            self.stream.error(f"deploy failed: {exc}")
        except Exception as exc:  # the server gone, a folder removed mid-zip: one line, and keep watching
            self.stream.error(f"{type(exc).__name__}: {exc} ({KEEPS_SERVING})")
        return False

    def _code(self, change: Change, started: float) -> None:
        stack, deployed = self.live.stack, self.live.deployed
        for source in change.sources:
            self.session.digest(source)  # zipped here, so it is timed apart; every other digest is cached
        zipped = time.perf_counter()
        the_plan = self._checked(stack, self.session.plan(stack, deployed))
        planned = time.perf_counter()
        if not the_plan.changed:
            return
        self.session.apply(stack, deployed, the_plan)
        applied = time.perf_counter()
        self._remember(the_plan)
        self.stream.info(f"{_changes(the_plan)} in {_ms(started, applied)} (zip {_ms(started, zipped)}, plan "
                         f"{_ms(zipped, planned)}, deploy {_ms(planned, applied)})")

    def _template(self, started: float) -> bool:
        stack = self.session.load(self.live.deployed.known_ids)
        for warning in [stack.unsupported_warning(), *stack.warnings]:
            if warning:
                self.stream.info(f"warning: {warning}")
        the_plan = self._checked(stack, self.session.plan(stack, self.live.deployed))
        if not the_plan.changed:
            self.live.stack = stack
            self.stream.info(f"{self.session.file.name}: nothing to change")
            return True
        known = self.session.apply(stack, self.live.deployed, the_plan)
        stack = self.session.load(known)
        self.live = Live(stack, self.session.read(stack))
        self.stream.info(f"{self.session.file.name}: {_changes(the_plan)} in {_ms(started, time.perf_counter())}")
        return True

    def _checked(self, stack: Stack, the_plan: Plan) -> Plan:
        """The plan without the code of Python functions that do not compile (each error said once per change)."""
        held = self.checks.held_back(stack)
        for source, errors in held.items():
            names = ", ".join(f.logical_id for f in stack.functions if f.code == source)
            for error in errors:
                self.stream.error(f"{self._short(error)} ({names} not deployed: {KEEPS_SERVING})")
        return Plan(the_plan.stack, [_without_code(step, held) for step in the_plan.steps])

    def _remember(self, the_plan: Plan) -> None:
        """What the server holds now: for a code update of a function without an alias, only its new digest
        (kept in memory); anything else is read back from the server."""
        changed = [step for step in the_plan.steps if step.action != UNCHANGED]
        if not all(_plain_code_update(step) for step in changed):
            self.live.deployed = self.session.read(self.live.stack)
            return
        for step in changed:
            assert isinstance(step.resource, Function)
            old = self.live.deployed.resources[("function", step.key)]
            self.live.deployed.resources[("function", step.key)] = DeployedResource(
                old.spec, self.session.digest(step.resource.code), old.logical_id, old.detail)

    def _short(self, text: str) -> str:
        """Paths under the project's folder written relative to it."""
        return text.replace(f"{self.session.file.resolve().parent}/", "")


def _without_code(step: Step, held: dict[CodeSource, list[str]]) -> Step:
    resource = step.resource
    if not isinstance(resource, Function) or resource.code not in held or "Code" not in step.changes:
        return step
    rest = tuple(change for change in step.changes if change != "Code")
    return replace(step, action=UPDATE_CONFIG if rest else UNCHANGED, changes=rest)


def _plain_code_update(step: Step) -> bool:
    return step.action == UPDATE_CODE and isinstance(step.resource, Function) and step.resource.alias is None


def _changes(the_plan: Plan) -> str:
    """`GreetFunction: update code, CountFunction: update configuration (Environment)`."""
    return ", ".join(f"{step.logical_id or step.key}: {step.action}" + _what(step) for step in the_plan.steps
                     if step.action != UNCHANGED)


def _what(step: Step) -> str:
    shown = [change for change in step.changes if change != "Code"]
    return f" ({', '.join(shown)})" if shown else ""


def _ms(start: float, end: float) -> str:
    ms = (end - start) * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"

