"""REST APIs (API Gateway v1) as AWS keeps them: the API itself, its definition imported whole, its tags.

The API's resources and methods live in `rest_resources`, its deployments and stages (what the data
plane serves) in `rest_stages`; all of it in the ApiStore beside the HTTP APIs, so a restart keeps
every API. Records are botocore's `apigateway` output shapes under their wire names (`id`,
`rootResourceId`, `createdDate` in epoch seconds). A REST API is invoked at
`http://<api-id>.execute-api.<region>.localhost:<port>/<stage>/…`, like AWS's
`https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/…`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ember.config import ACCOUNT_ID
from ember.errors import BadRequestException, NotFoundException
from ember.triggers.api_store import ApiStore, Record, new_id
from ember.triggers.patch_ops import Patchable, apply
from ember.triggers.rest_definitions import Definition, parse_definition
from ember.triggers.rest_resources import RestResources
from ember.triggers.rest_responses import RestResponses
from ember.triggers.rest_stages import RestStages

KIND = "restapi"
CREATE_FIELDS = ("description", "version", "binaryMediaTypes", "minimumCompressionSize", "apiKeySource",
                 "endpointConfiguration", "policy", "disableExecuteApiEndpoint")
API_PATCH = Patchable(scalars={"name": str, "description": str, "version": str, "apiKeySource": str, "policy": str,
                               "disableExecuteApiEndpoint": bool, "minimumCompressionSize": int},
                      sets=("binaryMediaTypes",))
TAGGED_RE = re.compile(r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]*::/restapis/(?P<api>[a-z0-9]+)"
                       r"(?:/stages/(?P<stage>[^/]+))?$")


class RestApis:
    def __init__(self, store: ApiStore, region: str, endpoint: Callable[[str], str]) -> None:
        self.store = store
        self.region = region
        self.endpoint = endpoint  # the API's invoke URL, without the stage
        self.resources = RestResources(store, self.get)
        self.responses = RestResponses(self.resources)
        self.stages = RestStages(store, self.get)

    def create(self, body: Mapping[str, Any]) -> Record:
        """CreateRestApi: the API and its root resource `/`."""
        if body.get("cloneFrom"):
            raise BadRequestException("cloneFrom is not supported by Ember")
        api_id = new_id()
        while self.store.ids_in_use(api_id):
            api_id = new_id()
        record: Record = {"id": api_id, "name": body["name"], "createdDate": int(time.time()),
                          "apiKeySource": "HEADER", "disableExecuteApiEndpoint": False, "binaryMediaTypes": [],
                          "endpointConfiguration": {"types": ["EDGE"], "ipAddressType": "ipv4"},
                          **{key: body[key] for key in CREATE_FIELDS if key in body},
                          "tags": dict(body.get("tags") or {})}
        root = self.resources.create_root(api_id)
        return self.store.put(api_id, KIND, api_id, {**record, "rootResourceId": root["id"]})

    def import_definition(self, raw: bytes, parameters: Mapping[str, str], fail_on_warnings: bool) -> Record:
        """ImportRestApi: a new API named by the definition's `info.title`."""
        definition = _definition(raw, parameters, fail_on_warnings)
        if not definition.title:
            raise BadRequestException("Invalid OpenAPI input: info.title is required to name the imported API")
        api_id = self.create({"name": definition.title})["id"]
        try:
            return self._apply(api_id, definition, overwrite=True)
        except BadRequestException:
            self.store.delete_api(api_id)  # an import that fails leaves nothing behind
            raise

    def put_definition(self, api_id: str, raw: bytes, mode: str, parameters: Mapping[str, str],
                       fail_on_warnings: bool) -> Record:
        """PutRestApi: `merge` (the default: the definition's methods replace theirs, the rest stays) or
        `overwrite` (only the definition's resources remain). Stages and deployments are untouched."""
        self.get(api_id)
        if mode not in ("merge", "overwrite"):
            raise BadRequestException(f"Invalid mode {mode}: merge or overwrite")
        return self._apply(api_id, _definition(raw, parameters, fail_on_warnings), overwrite=mode == "overwrite")

    def _apply(self, api_id: str, definition: Definition, overwrite: bool) -> Record:
        self.resources.apply(api_id, definition, overwrite)
        record = dict(self.get(api_id))
        types = definition.binary_media_types
        if overwrite:
            record.update({key: value for key, value in (("name", definition.title), ("version", definition.version),
                                                         ("description", definition.description),
                                                         ("binaryMediaTypes", types)) if value is not None})
        elif types:
            record["binaryMediaTypes"] = [*record["binaryMediaTypes"],
                                          *(kind for kind in types if kind not in record["binaryMediaTypes"])]
        self.store.put(api_id, KIND, api_id, record)
        return {**record, **({"warnings": definition.warnings} if definition.warnings else {})}

    def get(self, api_id: str) -> Record:
        record = self.find(api_id)
        if record is None:
            raise NotFoundException(f"Invalid API identifier specified {ACCOUNT_ID}:{api_id}")
        return record

    def find(self, api_id: str) -> Record | None:
        """The API, or None: the data plane's lookup."""
        return self.store.get(api_id, KIND, api_id)

    def list(self) -> list[Record]:
        return [record for api_id in self.store.ids(KIND) if (record := self.find(api_id)) is not None]

    def update(self, api_id: str, operations: Iterable[Mapping[str, Any]]) -> Record:
        return self.store.put(api_id, KIND, api_id, apply(self.get(api_id), operations, API_PATCH))

    def delete(self, api_id: str) -> None:
        self.get(api_id)
        self.store.delete_api(api_id)

    def url(self, api_id: str, stage: str) -> str:
        """Where a stage is invoked (the `…/Prod/` SAM prints for its hello world)."""
        return f"{self.endpoint(api_id)}/{stage}/"

    # Tags, by ARN: an API's (arn:aws:apigateway:<region>::/restapis/<id>) or a stage's (…/stages/<name>)

    def tags(self, arn: str) -> dict[str, str]:
        api_id, stage = self._tagged(arn)
        record = self.stages.stage(api_id, stage) if stage else self.get(api_id)
        return dict(record.get("tags") or {})

    def tag(self, arn: str, tags: Mapping[str, str], remove: Iterable[str] = ()) -> None:
        api_id, stage = self._tagged(arn)
        if stage:
            self.stages.tag_stage(api_id, stage, tags, remove)
            return
        record = self.get(api_id)
        kept = {key: value for key, value in {**record["tags"], **tags}.items() if key not in set(remove)}
        self.store.put(api_id, KIND, api_id, {**record, "tags": kept})

    def _tagged(self, arn: str) -> tuple[str, str | None]:
        match = TAGGED_RE.match(arn)
        if match is None:
            raise BadRequestException(f"Invalid resource ARN for tags: {arn}. Ember tags REST APIs "
                                      "(arn:aws:apigateway:<region>::/restapis/<id>) and their stages")
        return match["api"], match["stage"]


def _definition(raw: bytes, parameters: Mapping[str, str], fail_on_warnings: bool) -> Definition:
    definition = parse_definition(raw, parameters.get("basepath", "ignore"))
    if fail_on_warnings and definition.warnings:
        raise BadRequestException("Warnings found during import:\n\t" + "\n\t".join(definition.warnings))
    return definition
