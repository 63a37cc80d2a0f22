"""A layer version's resource-based policy (AddLayerVersionPermission), written as AWS writes it.

On AWS it lets other accounts use the version. Ember serves one account, so the policy is kept and
answered exactly, but nothing else reads it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ember.arns import layer_arn
from ember.core.functions import check_revision_id
from ember.core.layers import LayerStore
from ember.core.resource_policy import principal_of
from ember.errors import PreconditionFailedException, ResourceConflictException, ResourceNotFoundException

NO_POLICY = "No policy is associated with the given resource."
STALE = ("The Revision Id provided does not match the latest Revision Id. "
         "Call the GetLayerPolicy API to retrieve the latest Revision Id")


class LayerPolicies:
    def __init__(self, layers: LayerStore) -> None:
        self.layers = layers

    def add(self, name: str, version: int, params: dict[str, Any],
            revision_id: str | None) -> tuple[dict[str, Any], str]:
        """One more statement (its Sid new to this version's policy); the statement and the policy's new revision."""
        policy, revision = self._load(name, version)
        _check_revision(revision, revision_id)
        sid = params["StatementId"]
        if any(s["Sid"] == sid for s in policy["Statement"]):
            raise ResourceConflictException(f"The statement id ({sid}) provided already exists. Please provide a new "
                                            "statement id, or remove the existing statement.")
        statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal_of(params["Principal"]),
                                     "Action": params["Action"], "Resource": self.layers.get(name, version).arn}
        if params.get("OrganizationId"):
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}}
        policy["Statement"].append(statement)
        return statement, self._store(name, version, policy)

    def remove(self, name: str, version: int, sid: str, revision_id: str | None) -> None:
        policy, revision = self._load(name, version)
        _check_revision(revision, revision_id)
        kept = [s for s in policy["Statement"] if s["Sid"] != sid]
        if len(kept) == len(policy["Statement"]):
            raise ResourceNotFoundException(f"Statement {sid} is not found in resource policy.")
        policy["Statement"] = kept
        self._store(name, version, policy)

    def get(self, name: str, version: int) -> tuple[dict[str, Any], str]:
        policy, revision = self._load(name, version)
        if not policy["Statement"]:
            raise ResourceNotFoundException(NO_POLICY)
        return policy, revision

    def _load(self, name: str, version: int) -> tuple[dict[str, Any], str]:
        found = self.layers.find(name, version)
        if found is None or found.deleted:
            arn = layer_arn(self.layers.region, name, version)
            raise ResourceNotFoundException(f"Layer version {arn} does not exist.")
        row = self.layers.db.execute("SELECT policy, policy_revision FROM layer_versions "
                                     "WHERE name = ? AND version = ?", (name, version)).fetchone()
        if row["policy"] is None:
            return {"Version": "2012-10-17", "Id": "default", "Statement": []}, ""
        return json.loads(row["policy"]), row["policy_revision"]

    def _store(self, name: str, version: int, policy: dict[str, Any]) -> str:
        revision = str(uuid.uuid4())
        self.layers.db.execute("UPDATE layer_versions SET policy = ?, policy_revision = ? "
                               "WHERE name = ? AND version = ?", (json.dumps(policy), revision, name, version))
        return revision


def _check_revision(current: str, revision_id: str | None) -> None:
    try:
        check_revision_id(current, revision_id)
    except PreconditionFailedException as exc:
        raise PreconditionFailedException(STALE) from exc
