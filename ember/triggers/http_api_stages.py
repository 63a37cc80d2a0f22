"""An HTTP API's stages and deployments: what each stage serves.

A deployment is a snapshot of the API's routes and integrations; a stage serves the deployment it
points at, so a change reaches callers only once deployed. A stage with `AutoDeploy` is redeployed
after every change to the API (quick create's `$default` stage is one), as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ember.errors import BadRequestException, ConflictException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id, now

STAGE_RE = re.compile(r"^(\$default|[a-zA-Z0-9_-]{1,128})$")
VARIABLE_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
STAGE_FIELDS = ("AutoDeploy", "DeploymentId", "Description", "StageVariables", "DefaultRouteSettings",
                "RouteSettings", "AccessLogSettings")
SNAPSHOT = "Snapshot"  # a deployment's routes and integrations: kept, never in its output shape


class ApiStages:
    def __init__(self, store: ApiStore, require_api: Callable[[str], Record]) -> None:
        self.store = store
        self.require_api = require_api

    def create_stage(self, api_id: str, body: dict[str, Any], managed: bool = False) -> Record:
        self.require_api(api_id)
        name = body["StageName"]
        if not STAGE_RE.match(name):
            raise BadRequestException(f"Stage name only allows a-zA-Z0-9_- (or $default): {name}")
        if self.store.get(api_id, "stage", name) is not None:
            raise ConflictException(f"Stage {name} already exists")
        created = now()
        record: Record = {"StageName": name, "AutoDeploy": False, "CreatedDate": created, "LastUpdatedDate": created,
                          "DefaultRouteSettings": {"DetailedMetricsEnabled": False}, "RouteSettings": {},
                          "StageVariables": {}, "Tags": dict(body.get("Tags") or {}),
                          **({"ApiGatewayManaged": True} if managed else {})}
        self._apply(api_id, record, body)
        self.store.put(api_id, "stage", name, record)
        if record["AutoDeploy"]:
            self.redeploy(api_id)
        return self.stage(api_id, name)

    def stage(self, api_id: str, name: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, "stage", name)
        if record is None:
            raise NotFoundException(f"Invalid stage identifier specified {name}", resourceType="Stage")
        return record

    def stages(self, api_id: str) -> list[Record]:
        self.require_api(api_id)
        return self.store.all(api_id, "stage")

    def update_stage(self, api_id: str, name: str, body: dict[str, Any]) -> Record:
        record = {**self.stage(api_id, name), "LastUpdatedDate": now()}
        self._apply(api_id, record, body)
        self.store.put(api_id, "stage", name, record)
        if body.get("AutoDeploy"):
            self.redeploy(api_id)
        return self.stage(api_id, name)

    def delete_stage(self, api_id: str, name: str) -> None:
        self.stage(api_id, name)
        self.store.delete(api_id, "stage", name)

    def _apply(self, api_id: str, record: Record, body: dict[str, Any]) -> None:
        record.update({key: body[key] for key in STAGE_FIELDS if key in body})
        bad = [key for key in record["StageVariables"] if not VARIABLE_RE.match(key)]
        if bad:
            raise BadRequestException(f"Stage variable names only allow a-zA-Z0-9_: {', '.join(bad)}")
        if "DeploymentId" in body:
            self.deployment(api_id, body["DeploymentId"])

    # Deployments

    def create_deployment(self, api_id: str, body: dict[str, Any], auto: bool = False) -> Record:
        self.require_api(api_id)
        stage = self.stage(api_id, body["StageName"]) if body.get("StageName") else None
        routes = self.store.all(api_id, "route")
        if not routes:
            raise BadRequestException("Unable to deploy API because no routes exist in this API")
        snapshot = {"routes": routes, "integrations": {item["IntegrationId"]: item
                                                       for item in self.store.all(api_id, "integration")}}
        record: Record = {"DeploymentId": new_id(6), "DeploymentStatus": "DEPLOYED", "CreatedDate": now(),
                          "AutoDeployed": auto, SNAPSHOT: snapshot,
                          **({"Description": body["Description"]} if "Description" in body else {})}
        self.store.put(api_id, "deployment", record["DeploymentId"], record)
        if stage is not None:
            message = f"Successfully deployed stage with deployment ID '{record['DeploymentId']}'"
            self.store.put(api_id, "stage", stage["StageName"], {**stage, "DeploymentId": record["DeploymentId"],
                                                                 "LastDeploymentStatusMessage": message})
        return record

    def deployment(self, api_id: str, deployment_id: str) -> Record:
        self.require_api(api_id)
        record = self.store.get(api_id, "deployment", deployment_id)
        if record is None:
            raise NotFoundException(f"Invalid Deployment identifier specified {deployment_id}",
                                    resourceType="Deployment")
        return record

    def deployments(self, api_id: str) -> list[Record]:
        self.require_api(api_id)
        return self.store.all(api_id, "deployment")

    def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        self.deployment(api_id, deployment_id)
        if any(stage.get("DeploymentId") == deployment_id for stage in self.store.all(api_id, "stage")):
            raise BadRequestException("Active stages pointing to this deployment must be moved or deleted")
        self.store.delete(api_id, "deployment", deployment_id)

    def redeploy(self, api_id: str) -> None:
        """A new deployment for each auto-deployed stage; the auto deployments they leave behind are dropped."""
        if not self.store.all(api_id, "route"):
            return
        for stage in self.store.all(api_id, "stage"):
            if stage["AutoDeploy"]:
                self.create_deployment(api_id, {"StageName": stage["StageName"]}, auto=True)
        used = {stage.get("DeploymentId") for stage in self.store.all(api_id, "stage")}
        for deployment in self.store.all(api_id, "deployment"):
            if deployment["AutoDeployed"] and deployment["DeploymentId"] not in used:
                self.store.delete(api_id, "deployment", deployment["DeploymentId"])

    def snapshot(self, api_id: str, stage: str) -> dict[str, Any] | None:
        """The routes and integrations `stage` serves; None before its first deployment."""
        record = self.store.get(api_id, "stage", stage)
        deployment_id = record.get("DeploymentId") if record else None
        deployment = self.store.get(api_id, "deployment", deployment_id) if deployment_id else None
        return deployment[SNAPSHOT] if deployment else None
