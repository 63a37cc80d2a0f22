"""Functions' resource-based policies: who else may invoke a function (AddPermission), as AWS keeps them.

A policy belongs to a function, or to one of its versions or aliases (the qualifier it was added
with), and the one that applies to a call is the policy of exactly the resource the call names, as on
AWS. Triggers (API Gateway, EventBridge, function URLs) ask `allows` before they invoke.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Any

from ember.arns import function_arn
from ember.config import ACCOUNT_ID
from ember.core.functions import FunctionRegistry, check_revision_id
from ember.core.policy import AccessRequest, evaluate
from ember.errors import ResourceConflictException, ResourceNotFoundException

NOT_FOUND = "The resource you requested does not exist."
# AddPermission's parameters that become conditions: (parameter, operator, condition key).
CONDITIONS = (("SourceArn", "ArnLike", "AWS:SourceArn"), ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
              ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
              ("EventSourceToken", "StringEquals", "lambda:EventSourceToken"),
              ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"))
ACCOUNT_RE = re.compile(r"^\d{12}$")


def principal_of(principal: str) -> Any:
    """AddPermission's Principal as the policy writes it: `*`, an account's root, an ARN, or a service."""
    if principal == "*":
        return "*"
    if ACCOUNT_RE.match(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement_of(resource: str, params: dict[str, Any]) -> dict[str, Any]:
    """The statement AWS adds for one AddPermission call."""
    condition: dict[str, dict[str, str]] = {}
    for param, operator, key in CONDITIONS:
        if params.get(param):
            condition.setdefault(operator, {})[key] = str(params[param])
    if params.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    statement = {"Sid": params["StatementId"], "Effect": "Allow", "Principal": principal_of(params["Principal"]),
                 "Action": params["Action"], "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


class ResourcePolicies:
    def __init__(self, db: sqlite3.Connection, registry: FunctionRegistry, region: str) -> None:
        self.db = db
        self.registry = registry
        self.region = region
        # Every trigger asks `allows` per call: policies are read from SQLite once and kept (~100 us a
        # call saved); what leaves this class is a copy. _store and _on_change drop what they change.
        self._cache: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._decisions: dict[tuple[object, ...], bool] = {}  # allows' answers, until a policy changes
        registry.subscribe(self._on_change)

    def add(self, name: str, qualifier: str | None, params: dict[str, Any]) -> dict[str, Any]:
        """One more statement; its Sid must be new in this resource's policy."""
        policy, revision = self._load(name, qualifier)
        check_revision_id(revision, params.get("RevisionId"))
        if any(s.get("Sid") == params["StatementId"] for s in policy["Statement"]):
            raise ResourceConflictException("The statement id (sid) provided already exists. Please provide a "
                                            "new statement id, or remove the existing statement.")
        statement = statement_of(function_arn(self.region, name, qualifier), params)
        policy["Statement"].append(statement)
        self._store(name, qualifier, policy)
        return statement

    def remove(self, name: str, qualifier: str | None, sid: str, revision_id: str | None = None) -> None:
        policy, revision = self._load(name, qualifier)
        check_revision_id(revision, revision_id)
        kept = [s for s in policy["Statement"] if s.get("Sid") != sid]
        if len(kept) == len(policy["Statement"]):
            raise ResourceNotFoundException(f"Statement {sid} is not found in resource policy.")
        policy["Statement"] = kept
        self._store(name, qualifier, policy)

    def get(self, name: str, qualifier: str | None) -> tuple[dict[str, Any], str]:
        """The policy and its revision; AWS's not-found when the resource has no statement."""
        policy, revision = self._load(name, qualifier)
        if not policy["Statement"]:
            raise ResourceNotFoundException(NOT_FOUND)
        return policy, revision

    def document(self, name: str, qualifier: str | None) -> dict[str, Any]:
        """The policy as it is, maybe without a statement (for evaluating a signed caller's request)."""
        return self._load(name, qualifier)[0]

    def allows(self, name: str, qualifier: str | None, principal: str, action: str = "lambda:InvokeFunction",
               context: dict[str, str] | None = None) -> bool:
        """May `principal` (a service such as events.amazonaws.com, `*` for anyone) do `action` here?"""
        policy, _ = self._cached(name, qualifier)
        key = (name, qualifier or "", principal, action, *sorted((context or {}).items()))
        decided = self._decisions.get(key)
        if decided is None:
            full = {"aws:sourceaccount": ACCOUNT_ID, **(context or {})}
            request = AccessRequest(principal, action, function_arn(self.region, name, qualifier), context=full)
            if len(self._decisions) > 4096:
                self._decisions.clear()
            decided = self._decisions[key] = evaluate(request, [], policy).allowed
        return decided

    def _load(self, name: str, qualifier: str | None) -> tuple[dict[str, Any], str]:
        """The policy (a copy the caller may change) and its revision."""
        policy, revision = self._cached(name, qualifier)
        return json.loads(json.dumps(policy)), revision

    def _cached(self, name: str, qualifier: str | None) -> tuple[dict[str, Any], str]:
        """The policy as kept: read it, never change it."""
        self.registry.get(name)  # ResourceNotFoundException for a function that does not exist
        key = (name, qualifier or "")
        cached = self._cache.get(key)
        if cached is None:
            row = self.db.execute("SELECT document, revision FROM function_policies WHERE function = ? AND "
                                  "qualifier = ?", key).fetchone()
            empty: dict[str, Any] = {"Version": "2012-10-17", "Id": "default", "Statement": []}
            cached = self._cache[key] = (json.loads(row["document"]), row["revision"]) if row else (empty, "")
        return cached

    def _store(self, name: str, qualifier: str | None, policy: dict[str, Any]) -> None:
        self._cache.pop((name, qualifier or ""), None)
        self._decisions.clear()
        self.db.execute("INSERT OR REPLACE INTO function_policies (function, qualifier, document, revision) "
                        "VALUES (?, ?, ?, ?)", (name, qualifier or "", json.dumps(policy), str(uuid.uuid4())))

    def _on_change(self, name: str, version: str | None) -> None:
        if version is None and not self.registry.exists(name):
            self._cache = {key: value for key, value in self._cache.items() if key[0] != name}
            self._decisions.clear()
            self.db.execute("DELETE FROM function_policies WHERE function = ?", (name,))
