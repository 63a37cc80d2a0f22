"""The AWS managed policies Ember knows (`managed_policies.json`), under their real ARNs."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("managed_policies.json")


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    path: str
    description: str
    document: dict[str, Any]

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"


@functools.lru_cache(maxsize=1)
def managed_policies() -> dict[str, ManagedPolicy]:
    """Read once: ARN → policy."""
    entries = json.loads(DATA.read_text())["policies"]
    policies = [ManagedPolicy(e["PolicyName"], e["Path"], e["Description"], e["Document"]) for e in entries]
    return {policy.arn: policy for policy in policies}
