"""What every apply step shares: the clients, the stack being applied, the snapshot read before applying, and
the undo journal that rolls a failed deploy back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ember.apps.clients import Clients
from ember.apps.model import CodeSource, Stack
from ember.apps.plan import Deployed, DeployedResource
from ember.apps.server_answers import is_absent
from ember.apps.triggers import FunctionTarget

log = logging.getLogger("ember.apps")
WAIT_S = 120.0


@dataclass
class Context:
    clients: Clients
    stack: Stack
    deployed: Deployed
    zip_of: Callable[[CodeSource], bytes]
    layer_arns: dict[str, str] = field(default_factory=dict)  # a stack layer's logical id -> its version in use
    known_ids: dict[str, str] = field(default_factory=dict)  # ids the server chose, by logical id
    undos: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    known_zips: dict[str, bytes] = field(default_factory=dict)  # CodeSha256 -> a zip the caller still holds

    def undo(self, what: str, action: Callable[[], Any]) -> None:
        """Record how to take back what was just done (run newest first if the deploy fails)."""
        self.undos.append((what, action))

    def current(self, kind: str, key: str) -> DeployedResource | None:
        return self.deployed.resources.get((kind, key))

    def function_arn(self, target: FunctionTarget) -> str:
        qualifier = f":{target.qualifier}" if target.qualifier else ""
        return self.function_arn_of(target.name) + qualifier

    def function_arn_of(self, name: str) -> str:
        return f"arn:aws:lambda:{self.stack.region}:{self.stack.account}:function:{name}"

    def roll_back(self) -> list[str]:
        """Run every undo, newest first; what could not be undone, one line each."""
        failed = []
        while self.undos:
            what, action = self.undos.pop()
            try:
                action()
            except Exception as exc:  # keep undoing the rest: one failure must not strand the others
                failed.append(f"{what}: {exc}")
        return failed


def ignore_absent(call: Callable[..., Any], **kwargs: Any) -> Any:
    """Delete-like calls: a thing already gone is what was wanted."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if not is_absent(exc):
            raise
        return None


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
