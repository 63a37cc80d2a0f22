"""What a session may do: each API call as an IAM action on a resource, decided by its role's policies.

Only session credentials (an environment's keys) are checked; the operator's own keys stay
all-powerful. The middleware leaves the caller's `Session` in `scope["state"]["session"]`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.core.credentials import Session
from ember.core.policy import AccessRequest, Decision, Outcome, evaluate
from ember.core.roles import RoleStore
from ember.errors import AccessDeniedException

log = logging.getLogger("ember.iam")
Endpoint = Callable[[Request], Awaitable[Response]]


def session_of(request: Request) -> Session | None:
    session: Session | None = request.scope.get("state", {}).get("session")
    return session


class Authorizer:
    def __init__(self, roles: RoleStore, region: str) -> None:
        self.roles = roles
        self.region = region
        self._unknown_roles: set[str] = set()

    def check(self, request: Request, action: str, resource: str,
              resource_policy: dict[str, Any] | None = None) -> None:
        """Raise AWS's AccessDeniedException unless the caller may; the operator always may."""
        session = session_of(request)
        if session is None:
            return
        outcome = self.decide(session, action, resource, resource_policy)
        if not outcome.allowed:
            raise AccessDeniedException(denial(session.principal, action, resource, outcome))

    def decide(self, session: Session, action: str, resource: str,
               resource_policy: dict[str, Any] | None = None, extra: dict[str, str] | None = None) -> Outcome:
        """`extra`: condition keys the call itself sets (lower-case), such as lambda:functionurlauthtype."""
        context = {"aws:principalarn": session.principal, "aws:principalaccount": session.principal.split(":")[4],
                   "aws:requestedregion": self.region, "aws:principaltype": "AssumedRole", **(extra or {})}
        request = AccessRequest(session.principal, action, resource, session.role_arn, context)
        return evaluate(request, self.policies(session.role_arn), resource_policy)

    def policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The role's policies; a role Ember does not know has none (said once per role)."""
        policies = self.roles.policies_of(role_arn)
        if policies is None:
            if role_arn not in self._unknown_roles:
                self._unknown_roles.add(role_arn)
                log.warning("role %s is not known to Ember (create it with the iam API): its functions' "
                            "credentials may do nothing", role_arn)
            return []
        return policies


def denial(principal: str, action: str, resource: str, outcome: Outcome) -> str:
    """AWS's wording for each kind of denial."""
    head = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
    if outcome.decision is Decision.EXPLICIT_DENY:
        return f"{head} with an explicit deny in an {outcome.denied_by} policy"
    return f"{head} because no identity-based policy allows the {action} action"


ResourceOf = Callable[[Request], Awaitable[str]]
ActionOf = Callable[[Request], str]


def guarded(authorizer: Authorizer, action: str | ActionOf, endpoint: Endpoint, resource: ResourceOf) -> Endpoint:
    """The endpoint, checked first as `action` on `resource` when a session calls it."""
    async def checked(request: Request) -> Response:
        if session_of(request) is not None:
            name = action if isinstance(action, str) else action(request)
            authorizer.check(request, name, await resource(request))
        return await endpoint(request)

    checked.__name__ = getattr(endpoint, "__name__", "endpoint")
    return checked
