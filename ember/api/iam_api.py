"""The IAM subset Ember serves (query protocol, `POST /`): roles, their inline policies, and the AWS
managed policies Ember knows attached to them. What a role may do is decided in ember.core.policy."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ember.api.authorization import Authorizer
from ember.api.middleware import request_id_of
from ember.api.query_protocol import iam_model, parse_form, read_params, render
from ember.config import ACCOUNT_ID
from ember.core.roles import RoleStore
from ember.errors import InvalidInput, UnknownOperation

PAGE = 100
Handler = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class IamApi:
    def __init__(self, roles: RoleStore, authorizer: Authorizer) -> None:
        self.roles = roles
        self.authorizer = authorizer
        self.handlers: dict[str, Handler] = {
            "CreateRole": lambda p: {"Role": roles.create(p)},
            "GetRole": lambda p: {"Role": roles.get(p.get("RoleName", ""))},
            "ListRoles": lambda p: _page(roles.list(p.get("PathPrefix", "/")), p, "Roles", lambda r: r["RoleName"]),
            "DeleteRole": lambda p: roles.delete(p.get("RoleName", "")),
            "PutRolePolicy": lambda p: roles.put_policy(p.get("RoleName", ""), p.get("PolicyName", ""),
                                                        p.get("PolicyDocument", "")),
            "GetRolePolicy": self._get_role_policy,
            "ListRolePolicies": lambda p: _page(roles.policy_names(p.get("RoleName", "")), p, "PolicyNames", str),
            "DeleteRolePolicy": lambda p: roles.delete_policy(p.get("RoleName", ""), p.get("PolicyName", "")),
            "AttachRolePolicy": lambda p: roles.attach(p.get("RoleName", ""), p.get("PolicyArn", "")),
            "DetachRolePolicy": lambda p: roles.detach(p.get("RoleName", ""), p.get("PolicyArn", "")),
            "ListAttachedRolePolicies": lambda p: _page(roles.attached(p.get("RoleName", "")), p, "AttachedPolicies",
                                                        lambda a: a["PolicyArn"]),
        }

    async def dispatch(self, request: Request) -> Response:
        form = parse_form(await request.body())
        action = form.get("Action", "")
        handler = self.handlers.get(action)
        if handler is None:
            raise UnknownOperation(f"Could not find operation {action or '(no Action)'} for version "
                                   f"{form.get('Version', '')}")
        operation = iam_model().operation_model(action)
        params = read_params(operation, form)
        self.authorizer.check(request, f"iam:{action}", self._resource(params))
        return render(operation, handler(params), request_id_of(request))

    def _get_role_policy(self, params: dict[str, Any]) -> dict[str, Any]:
        role, name = params.get("RoleName", ""), params.get("PolicyName", "")
        return {"RoleName": role, "PolicyName": name, "PolicyDocument": self.roles.get_policy(role, name)}


    def _resource(self, params: dict[str, Any]) -> str:
        """The ARN of the role an IAM action is about (with its path, if it exists); `*` for ListRoles."""
        name = params.get("RoleName")
        if not name:
            return "*"
        known = self.roles.find(name)
        return known["Arn"] if known else f"arn:aws:iam::{ACCOUNT_ID}:role{params.get('Path') or '/'}{name}"


def _page(items: list[Any], params: dict[str, Any], member: str, key: Callable[[Any], str]) -> dict[str, Any]:
    """IAM's paging: MaxItems (1-1000, default 100), Marker = the last key returned, IsTruncated."""
    limit = int(params.get("MaxItems") or PAGE)
    if not 1 <= limit <= 1000:
        raise InvalidInput("MaxItems must be between 1 and 1000.")
    marker = params.get("Marker")
    start = bisect.bisect_right([key(item) for item in items], marker) if marker else 0  # items are sorted by key
    page = items[start:start + limit]
    result: dict[str, Any] = {member: page, "IsTruncated": start + limit < len(items)}
    if result["IsTruncated"]:
        result["Marker"] = key(page[-1])
    return result
