"""A REST API's deployments and stages: what each stage serves.

A deployment is a snapshot of every method of the API (its path, authorization and integration)
and of the binary media types, taken when it is created and never changed; a stage serves the
deployment it points at, with its own variables. So, as on AWS, a change to resources, methods,
integrations or binary media types reaches callers only once a new deployment is made for the stage.
`CreateDeployment` with a `stageName` creates that stage, or moves it to the new deployment; its
answer carries `warnings` (sent as X-Ember-Warning) for each method served but not as AWS would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ember.errors import BadRequestException, ConflictException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id
from ember.triggers.patch_ops import Patchable, apply
from ember.triggers.rest_definitions import integration_warnings, method_warning
from ember.triggers.rest_resources import KIND as RESOURCE

DEPLOYMENT, STAGE = "rest-deployment", "rest-stage"
SNAPSHOT = "snapshot"  # a deployment's methods and binary media types: kept, never in its output shape
STAGE_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
VARIABLE_NAME_RE = re.compile(r"^[a-zA-Z0-9_]{1,64}$")
VARIABLE_VALUE_RE = re.compile(r"^[a-zA-Z0-9-._~:/?#&=,]{0,512}$")
STAGE_PATCH = Patchable(scalars={"description": str, "deploymentId": str, "tracingEnabled": bool,
                                 "cacheClusterEnabled": bool}, maps=("variables",))


class RestStages:
    def __init__(self, store: ApiStore, require_api: Callable[[str], Record]) -> None:
        self.store = store
        self.require_api = require_api

    # Deployments

    def create_deployment(self, api_id: str, body: dict[str, Any]) -> Record:
        api = self.require_api(api_id)
        name = body.get("stageName")
        if name is not None:
            _check_stage(name, body.get("variables") or {})
        record: Record = {"id": new_id(6), "createdDate": int(time.time()),
                          SNAPSHOT: {"methods": self._methods(api_id),
                                     "binaryMediaTypes": list(api.get("binaryMediaTypes") or [])},
                          **({"description": body["description"]} if "description" in body else {})}
        self.store.put(api_id, DEPLOYMENT, record["id"], record)
        if name is not None:
            stage = self.store.get(api_id, STAGE, name)
            if stage is None:
                self._put_stage(api_id, _new_stage(name, record["id"], body.get("stageDescription"),
                                                   body.get("variables"), {}))
            else:
                variables = {**stage["variables"], **(body.get("variables") or {})}
                self._put_stage(api_id, {**stage, "deploymentId": record["id"], "variables": variables,
                                         "lastUpdatedDate": int(time.time())})
        warnings = [f"{method['httpMethod']} {method['path']}: {warning}" for method in record[SNAPSHOT]["methods"]
                    for warning in [method_warning(method), *integration_warnings(method["methodIntegration"])]
                    if warning]
        return {**_shown(record), **({"warnings": warnings} if warnings else {})}

    def _methods(self, api_id: str) -> list[Record]:
        """Every method with its integration, refused as AWS refuses to deploy an API without them."""
        methods = sorted(({"resourceId": resource["id"], "path": resource["path"], **method}
                          for resource in self.store.all(api_id, RESOURCE)
                          for method in resource["resourceMethods"].values()),
                         key=lambda method: (method["path"], method["httpMethod"]))
        if not methods:
            raise BadRequestException("The REST API doesn't contain any methods")
        missing = [f"{method['httpMethod']} {method['path']}" for method in methods
                   if "methodIntegration" not in method]
        if missing:
            raise BadRequestException(f"No integration defined for method: {', '.join(missing)}")
        return methods

    def deployment(self, api_id: str, deployment_id: str) -> Record:
        return _shown(self._deployment(api_id, deployment_id))

    def _deployment(self, api_id: str, deployment_id: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, DEPLOYMENT, deployment_id)
        if record is None:
            raise NotFoundException("Invalid Deployment identifier specified")
        return record

    def deployments(self, api_id: str) -> list[Record]:
        self.require_api(api_id)
        return [_shown(record) for record in self.store.all(api_id, DEPLOYMENT)]

    def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        self._deployment(api_id, deployment_id)
        if any(stage["deploymentId"] == deployment_id for stage in self.store.all(api_id, STAGE)):
            raise BadRequestException("Active stages pointing to this deployment must be moved or deleted")
        self.store.delete(api_id, DEPLOYMENT, deployment_id)

    def snapshot(self, api_id: str, deployment_id: str) -> Record | None:
        """What a deployment serves: `methods` and `binaryMediaTypes`."""
        record = self.store.get(api_id, DEPLOYMENT, deployment_id)
        return record[SNAPSHOT] if record else None

    # Stages

    def create_stage(self, api_id: str, body: dict[str, Any]) -> Record:
        self._deployment(api_id, body["deploymentId"])
        name = body["stageName"]
        _check_stage(name, body.get("variables") or {})
        if self.store.get(api_id, STAGE, name) is not None:
            raise ConflictException("Stage already exists")
        stage = _new_stage(name, body["deploymentId"], body.get("description"), body.get("variables"),
                           body.get("tags"))
        stage.update({key: body[key] for key in ("tracingEnabled", "cacheClusterEnabled") if key in body})
        return self._put_stage(api_id, stage)

    def stage(self, api_id: str, name: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, STAGE, name)
        if record is None:
            raise NotFoundException("Invalid stage identifier specified")
        return record

    def stages(self, api_id: str, deployment_id: str | None = None) -> list[Record]:
        self.require_api(api_id)
        return [stage for stage in self.store.all(api_id, STAGE)
                if deployment_id is None or stage["deploymentId"] == deployment_id]

    def update_stage(self, api_id: str, name: str, operations: Iterable[Mapping[str, Any]]) -> Record:
        record = {**apply(self.stage(api_id, name), operations, STAGE_PATCH), "lastUpdatedDate": int(time.time())}
        _check_stage(name, record["variables"])
        self._deployment(api_id, record["deploymentId"])
        return self._put_stage(api_id, record)

    def delete_stage(self, api_id: str, name: str) -> None:
        self.stage(api_id, name)
        self.store.delete(api_id, STAGE, name)

    def tag_stage(self, api_id: str, name: str, tags: Mapping[str, str], remove: Iterable[str] = ()) -> None:
        record = self.stage(api_id, name)
        kept = {key: value for key, value in {**record["tags"], **tags}.items() if key not in set(remove)}
        self._put_stage(api_id, {**record, "tags": kept})

    def _put_stage(self, api_id: str, record: Record) -> Record:
        return self.store.put(api_id, STAGE, record["stageName"], record)


def _new_stage(name: str, deployment_id: str, description: str | None, variables: Mapping[str, str] | None,
               tags: Mapping[str, str] | None) -> Record:
    now = int(time.time())
    return {"stageName": name, "deploymentId": deployment_id, "cacheClusterEnabled": False,
            "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": {}, "tracingEnabled": False,
            "variables": dict(variables or {}), "tags": dict(tags or {}), "createdDate": now, "lastUpdatedDate": now,
            **({"description": description} if description is not None else {})}


def _check_stage(name: str, variables: Mapping[str, str]) -> None:
    if not STAGE_RE.match(name):
        raise BadRequestException(f"Stage name only allows a-zA-Z0-9_- and 1 to 128 characters: {name}")
    bad = [key for key, value in variables.items()
           if not VARIABLE_NAME_RE.match(key) or not VARIABLE_VALUE_RE.match(str(value))]
    if bad:
        raise BadRequestException(f"Invalid stage variable(s) {', '.join(bad)}: names allow a-zA-Z0-9_, values "
                                  "a-zA-Z0-9-._~:/?#&=, and up to 512 characters")


def _shown(record: Record) -> Record:
    """A deployment as AWS answers it, with its `apiSummary` (path → method → authorization)."""
    summary: dict[str, dict[str, Record]] = {}
    for method in record[SNAPSHOT]["methods"]:
        summary.setdefault(method["path"], {})[method["httpMethod"]] = {
            "authorizationType": method["authorizationType"], "apiKeyRequired": method["apiKeyRequired"]}
    return {**{key: value for key, value in record.items() if key != SNAPSHOT}, "apiSummary": summary}
