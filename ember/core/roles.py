"""IAM roles in SQLite: each role, its inline policies and the AWS managed policies attached to it."""

from __future__ import annotations

import builtins
import json
import re
import secrets
import sqlite3
import string
from datetime import UTC, datetime
from typing import Any

from ember.config import ACCOUNT_ID
from ember.core.managed_policies import managed_policies
from ember.errors import DeleteConflict, EntityAlreadyExists, IamValidationError, MalformedPolicyDocument, NoSuchEntity

NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
PATH_RE = re.compile(r"^/(?:[\x21-\x7e]*/)?$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")


def role_name_of(role_arn: str) -> str | None:
    """The role's name if the ARN is a role of this account, else None."""
    match = ROLE_ARN_RE.match(role_arn)
    return match["name"] if match and match["account"] == ACCOUNT_ID else None


def parse_document(text: str) -> dict[str, Any]:
    """A policy document as IAM accepts it: a JSON object with a Statement."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise MalformedPolicyDocument("Syntax errors in policy.") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), (list, dict)):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    return document


def _check_name(value: str, member: str, pattern: re.Pattern[str] = NAME_RE) -> None:
    if not pattern.match(value or ""):
        raise IamValidationError(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                                 f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}")


class RoleStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name, path = request.get("RoleName", ""), request.get("Path") or "/"
        _check_name(name, "roleName")
        _check_name(path, "path", PATH_RE)
        document = request.get("AssumeRolePolicyDocument", "")
        parse_document(document)
        role = {"Path": path, "RoleName": name, "RoleId": "AROA" + _random_id(17),
                "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}",
                "CreateDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "AssumeRolePolicyDocument": document, "Description": request.get("Description", ""),
                "MaxSessionDuration": int(request.get("MaxSessionDuration") or 3600)}
        if request.get("Tags"):
            role["Tags"] = request["Tags"]
        try:
            self.db.execute("INSERT INTO roles (name, config) VALUES (?, ?)", (name, json.dumps(role)))
        except sqlite3.IntegrityError as exc:
            raise EntityAlreadyExists(f"Role with name {name} already exists.") from exc
        return role

    def get(self, name: str) -> dict[str, Any]:
        role = self.find(name)
        if role is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return role

    def find(self, name: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT config FROM roles WHERE name = ?", (name,)).fetchone()
        return json.loads(row["config"]) if row else None

    def knows(self, role_arn: str) -> bool:
        """Whether the ARN is a role Ember has (its name and path both match)."""
        name = role_name_of(role_arn)
        role = self.find(name) if name else None
        return role is not None and role["Arn"] == role_arn

    def list(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        roles = [json.loads(row["config"]) for row in self.db.execute("SELECT config FROM roles ORDER BY name")]
        return [role for role in roles if role["Path"].startswith(path_prefix or "/")]

    def delete(self, name: str) -> None:
        self.get(name)
        if self.policy_names(name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.attached(name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        self.db.execute("DELETE FROM roles WHERE name = ?", (name,))

    def put_policy(self, role: str, name: str, document: str) -> None:
        self.get(role)
        _check_name(name, "policyName", POLICY_NAME_RE)
        parse_document(document)
        self.db.execute("INSERT OR REPLACE INTO role_policies (role, name, document) VALUES (?, ?, ?)",
                        (role, name, document))

    def get_policy(self, role: str, name: str) -> str:
        self.get(role)
        row = self.db.execute("SELECT document FROM role_policies WHERE role = ? AND name = ?", (role, name)).fetchone()
        if row is None:
            raise NoSuchEntity(f"The role policy with name {name} cannot be found.")
        document: str = row["document"]
        return document

    def policy_names(self, role: str) -> builtins.list[str]:  # `list` is a method here
        self.get(role)
        rows = self.db.execute("SELECT name FROM role_policies WHERE role = ? ORDER BY name", (role,))
        return [row["name"] for row in rows]

    def delete_policy(self, role: str, name: str) -> None:
        self.get_policy(role, name)
        self.db.execute("DELETE FROM role_policies WHERE role = ? AND name = ?", (role, name))

    def attach(self, role: str, arn: str) -> None:
        self.get(role)
        if arn not in managed_policies():
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        self.db.execute("INSERT OR IGNORE INTO role_attached_policies (role, arn) VALUES (?, ?)", (role, arn))

    def detach(self, role: str, arn: str) -> None:
        self.get(role)
        deleted = self.db.execute("DELETE FROM role_attached_policies WHERE role = ? AND arn = ?", (role, arn))
        if deleted.rowcount == 0:
            raise NoSuchEntity(f"Policy {arn} was not found.")

    def attached(self, role: str) -> builtins.list[dict[str, str]]:
        self.get(role)
        rows = self.db.execute("SELECT arn FROM role_attached_policies WHERE role = ? ORDER BY arn", (role,))
        known = managed_policies()
        return [{"PolicyName": known[row["arn"]].name, "PolicyArn": row["arn"]} for row in rows if row["arn"] in known]

    def policies_of(self, role_arn: str) -> builtins.list[dict[str, Any]] | None:
        """Every policy document the role holds (inline and attached); None for a role Ember does not know."""
        name = role_name_of(role_arn)
        if name is None or not self.knows(role_arn):
            return None
        inline = self.db.execute("SELECT document FROM role_policies WHERE role = ?", (name,))
        documents = [json.loads(r["document"]) for r in inline]
        known = managed_policies()
        return documents + [known[item["PolicyArn"]].document for item in self.attached(name)]


def _random_id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))
