"""IAM policy evaluation for the actions Ember serves: what a function's role may do.

As IAM decides within one account: an explicit Deny in any policy wins; otherwise the request is
allowed if an identity policy or the resource's policy allows it; otherwise it is denied by
default. Statements match on Action/NotAction, Resource/NotResource (`*` and `?` wildcards; actions
case-insensitively) and, in resource policies, Principal. A Condition is evaluated only where Ember
knows its operator and key (`ember.core.conditions`); any other fails closed: its Allow does not
apply, its Deny does.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ember.config import ACCOUNT_ID
from ember.core.conditions import condition_holds

Policy = dict[str, Any]


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class AccessRequest:
    principal: str  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    action: str  # service:Operation
    resource: str  # an ARN, or "*"
    role_arn: str = ""  # the role the session stands for: a resource policy may name it
    context: dict[str, str] = field(default_factory=dict)  # condition keys Ember knows


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    denied_by: str = ""  # "identity-based" or "resource-based" for an explicit deny

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


def evaluate(request: AccessRequest, identity: Iterable[Policy], resource: Policy | None = None) -> Outcome:
    """Explicit deny anywhere wins; then an allow from either kind of policy; else default deny."""
    identity_effects = [_effect(s, request, False) for p in identity for s in _statements(p)]
    resource_effects = [_effect(s, request, True) for s in _statements(resource)] if resource else []
    if "Deny" in identity_effects:
        return Outcome(Decision.EXPLICIT_DENY, "identity-based")
    if "Deny" in resource_effects:
        return Outcome(Decision.EXPLICIT_DENY, "resource-based")
    if "Allow" in identity_effects or "Allow" in resource_effects:
        return Outcome(Decision.ALLOW)
    return Outcome(Decision.IMPLICIT_DENY)


def _statements(policy: Policy | None) -> list[dict[str, Any]]:
    statements = (policy or {}).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _effect(statement: dict[str, Any], request: AccessRequest, resource_policy: bool) -> str | None:
    """The statement's Effect if it applies to the request, None if it does not."""
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        return None
    if not _matches_action(statement, request.action) or not _matches_resource(statement, request, resource_policy):
        return None
    if resource_policy and not _matches_principal(statement, request):
        return None
    holds = condition_holds(statement.get("Condition"), request.context)
    if holds is None:  # Ember cannot evaluate it: fail closed
        return "Deny" if effect == "Deny" else None
    return effect if holds else None


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(_wildcard(p, action, fold=True) for p in _strings(statement["Action"]))
    if "NotAction" in statement:
        return not any(_wildcard(p, action, fold=True) for p in _strings(statement["NotAction"]))
    return False


def _matches_resource(statement: dict[str, Any], request: AccessRequest, resource_policy: bool) -> bool:
    if "Resource" in statement:
        return any(_wildcard(p, request.resource) for p in _strings(statement["Resource"]))
    if "NotResource" in statement:
        return not any(_wildcard(p, request.resource) for p in _strings(statement["NotResource"]))
    return resource_policy  # a resource policy's statement is about the resource it is attached to


def _matches_principal(statement: dict[str, Any], request: AccessRequest) -> bool:
    if "Principal" in statement:
        return _names_principal(statement["Principal"], request)
    if "NotPrincipal" in statement:
        return not _names_principal(statement["NotPrincipal"], request)
    return False


def _names_principal(principal: Any, request: AccessRequest) -> bool:
    """"*", {"AWS": …} naming the account, the role or the session itself, or {"Service": …} naming
    the service that calls (a trigger such as events.amazonaws.com)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if request.principal in _strings(principal.get("Service", [])):
        return True
    account = {ACCOUNT_ID, f"arn:aws:iam::{ACCOUNT_ID}:root"}
    for name in _strings(principal.get("AWS", [])):
        if name == "*" or name in account or name in (request.role_arn, request.principal):
            return True
    return False


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _wildcard(pattern: str, value: str, fold: bool = False) -> bool:
    return _compiled(pattern, fold).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str, fold: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if fold else re.DOTALL)
