"""One project file against one server: load it, read what the server has of it, plan and apply — the steps
`ember deploy` takes once and `ember dev` takes again on every change, through this one object."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ember.apps.apply import apply
from ember.apps.clients import Clients
from ember.apps.deployed import read_deployed
from ember.apps.model import CodeSource, Stack
from ember.apps.plan import Deployed, Plan, Step, plan
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


class StackSession:
    """Zips are built once per code source and kept (with their digests) until `forget` says the source
    changed on disk, so a plan after one edit zips one folder. The zip forgotten is kept too (one per source):
    it is what the server runs until the new one is applied, and what a rollback would put back."""

    def __init__(self, file: Path, settings: StackOptions, endpoint: str) -> None:
        self.file = file
        self.settings = settings
        self.endpoint = endpoint
        self.clients = Clients.make(lambda service: aws_client(service, endpoint))
        self._zips: dict[CodeSource, bytes] = {}
        self._digests: dict[CodeSource, str] = {}
        self._previous: dict[CodeSource, tuple[str, bytes]] = {}  # the zip before the last `forget`, by digest

    def load(self, known_ids: Mapping[str, str]) -> Stack:
        """The stack the file describes now (raises TemplateError, one line)."""
        s = self.settings
        return load_project(self.file, s.stack_name, client_region(), s.parameter_overrides, s.options, s.params,
                            known_ids)

    def read(self, stack: Stack) -> Deployed:
        return read_deployed(self.clients, stack)

    def zip_of(self, source: CodeSource) -> bytes:
        if source not in self._zips:
            self._zips[source] = package(source)
        return self._zips[source]

    def digest(self, source: CodeSource) -> str:
        if source not in self._digests:
            self._digests[source] = code_sha256(self.zip_of(source))
        return self._digests[source]

    def forget(self, sources: Iterable[CodeSource]) -> None:
        for source in sources:
            zipped, digest = self._zips.pop(source, None), self._digests.pop(source, None)
            if zipped is not None and digest is not None:
                self._previous[source] = (digest, zipped)

    def plan(self, stack: Stack, deployed: Deployed) -> Plan:
        return plan(stack, deployed, self.digest)

    def apply(self, stack: Stack, deployed: Deployed, the_plan: Plan,
              on_step: Callable[[Step], None] = lambda step: None) -> dict[str, str]:
        """Apply the plan's changed steps; the ids the server chose, by logical id (raises ApplyError)."""
        def replan(ids: dict[str, str]) -> tuple[Stack, Plan]:
            again = self.load(ids)
            return again, self.plan(again, deployed)
        held = {**dict(self._previous.values()), **{self._digests[s]: z for s, z in self._zips.items()
                                                     if s in self._digests}}
        return apply(self.clients, stack, deployed, the_plan, self.zip_of, replan, on_step, held)
