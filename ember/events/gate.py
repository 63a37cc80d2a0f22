"""Whether a rule or a schedule may invoke its function, decided as AWS decides it.

A rule runs a function only where the function's resource policy lets `events.amazonaws.com` invoke
it (AddPermission, with the rule's ARN as `AWS:SourceArn` if the statement names one). A schedule
runs as its execution role: where Ember's IAM knows the role, its policies must allow
`lambda:InvokeFunction` on the target; a role Ember does not know is said once and allowed, as for
functions' roles, unless the server runs with `--strict-roles`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ember.config import ACCOUNT_ID
from ember.core.policy import AccessRequest, evaluate
from ember.core.resource_policy import ResourcePolicies
from ember.core.roles import RoleStore, role_name_of
from ember.errors import AwsError
from ember.events.targets import FunctionTarget

log = logging.getLogger("ember.events")
EVENTS_PRINCIPAL = "events.amazonaws.com"
INVOKE = "lambda:InvokeFunction"
Resolve = Callable[[str, "str | None"], object]  # raises an AwsError for a function, version or alias not there


class DeliveryGate:
    def __init__(self, policies: ResourcePolicies, roles: RoleStore, resolve: Resolve, strict_roles: bool = False
                 ) -> None:
        self.policies = policies
        self.roles = roles
        self.resolve = resolve
        self.strict_roles = strict_roles
        self._unknown_roles: set[str] = set()

    def rule_refusal(self, rule_arn: str, function: FunctionTarget) -> str | None:
        """Why the rule may not invoke the function, or None if it may."""
        try:
            self.resolve(function.name, function.qualifier)
            allowed = self.policies.allows(function.name, function.qualifier, EVENTS_PRINCIPAL, INVOKE,
                                           {"aws:sourcearn": rule_arn})
        except AwsError as error:
            return error.message
        if allowed:
            return None
        return (f"the function's resource policy does not let {EVENTS_PRINCIPAL} invoke it for {rule_arn} "
                "(lambda add-permission --principal events.amazonaws.com --source-arn <rule ARN>)")

    def schedule_refusal(self, role_arn: str, target_arn: str, function: FunctionTarget) -> str | None:
        """Why the schedule's execution role may not invoke the function, or None if it may."""
        try:
            self.resolve(function.name, function.qualifier)
        except AwsError as error:
            return error.message
        policies = self.roles.policies_of(role_arn)
        if policies is None:
            return self._unknown_role(role_arn)
        session = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name_of(role_arn)}/scheduler"
        if evaluate(AccessRequest(session, INVOKE, target_arn, role_arn), policies).allowed:
            return None
        return f"the execution role {role_arn} is not allowed {INVOKE} on {target_arn}"

    def _unknown_role(self, role_arn: str) -> str | None:
        if self.strict_roles:
            return f"the execution role {role_arn} is not known to Ember's IAM (--strict-roles)"
        if role_arn not in self._unknown_roles:
            self._unknown_roles.add(role_arn)
            log.warning("schedule execution role %s is not known to Ember (create it with the iam API): its "
                        "schedules invoke their functions unchecked", role_arn)
        return None
