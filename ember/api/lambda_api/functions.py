"""Function lifecycle: CreateFunction, GetFunction(Configuration), ListFunctions, Update*, DeleteFunction."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ember.api.authorization import Authorizer
from ember.api.code_links import code_location
from ember.api.lambda_api.body import function_ref, json_body, page_of
from ember.api.middleware import request_id_of
from ember.api.responses import WARNING_HEADER, aws_json
from ember.api.services import Services
from ember.core.functions import FunctionRecord, FunctionRegistry
from ember.core.validation import check_role, runtime_warning
from ember.errors import InvalidParameterValueException, ResourceNotFoundException
from ember.runtimes.python_abi import abi_warning

log = logging.getLogger("ember.api.functions")


class FunctionsApi:
    def __init__(self, services: Services, authorizer: Authorizer | None = None) -> None:
        self.services = services
        self.authorizer = authorizer  # a session adding layers needs lambda:GetLayerVersion on each, as on AWS

    @property
    def registry(self) -> FunctionRegistry:
        return self.services.registry

    def _record(self, request: Request) -> FunctionRecord:
        ref = function_ref(request, self.services.region)
        return self.services.invoker.resolve(ref.name, ref.qualifier)

    def _published(self, record: FunctionRecord, body: dict[str, Any]) -> FunctionRecord:
        """`Publish: true` on Create/Update*: answer with the new version instead of `$LATEST`."""
        return self.services.versions.publish(record.name, {}) if body.get("Publish") else record

    async def create(self, request: Request) -> Response:
        body = await json_body(request, "CreateFunction")
        self._check_role(body)
        self._check_layer_access(request, body)
        record = self._published(await self.registry.create(body), body)
        return aws_json(record.config, 201, request_id_of(request), await self._warnings(record))

    async def _warnings(self, record: FunctionRecord, code: bool = True) -> dict[str, str]:
        """What `ember deploy` should tell its user, in one X-Ember-Warning header (no AWS field fits): a
        deprecated runtime, (when code was given) extensions built for another Python, and layers carrying
        Lambda extensions. The layers' /opt tree is built here, ahead of the first cold start."""
        warnings = [warning for warning in (runtime_warning(record.config.get("Runtime", "")),
                                            await self._code_warning(record) if code else None,
                                            await self._layers_warning(record)) if warning]
        for warning in warnings:
            log.warning("%s", warning)
        if not warnings:
            return {}
        return {WARNING_HEADER: "; ".join(warnings).encode("ascii", "backslashreplace").decode()}

    async def _code_warning(self, record: FunctionRecord) -> str | None:
        """Extensions built for another Python than the one that will run them."""
        tree = self.registry.code.tree(record.code_sha_hex)
        return await asyncio.to_thread(abi_warning, record.name, record.config.get("Runtime", ""), tree)

    async def _layers_warning(self, record: FunctionRecord) -> str | None:
        if self.registry.layers is None or not record.config.get("Layers"):
            return None
        warning = await asyncio.to_thread(self.registry.layers.prepare, record.config)
        return f"{record.name}: {warning}" if warning else None

    def _check_layer_access(self, request: Request, body: dict[str, Any]) -> None:
        if self.authorizer is not None:
            for arn in body.get("Layers") or []:
                self.authorizer.check(request, "lambda:GetLayerVersion", arn)

    def _check_role(self, body: dict[str, Any]) -> None:
        """`--strict-roles`: a role Ember does not know cannot be assumed, as on AWS."""
        role = body.get("Role")
        if not self.services.strict_roles or role is None:
            return
        check_role(role)  # a malformed ARN is still a ValidationException first
        if not self.services.roles.knows(role):
            raise InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")

    async def get(self, request: Request) -> Response:
        record = self._record(request)
        body = {
            "Configuration": record.config,
            "Code": {"RepositoryType": "S3", "Location": code_location(request, self.services.code_links,
                                                                       record.code_sha_hex)},
            "Tags": record.tags,
        }
        latest = self.registry.get(record.name)
        if latest.reserved is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": latest.reserved}
        return aws_json(body, 200, request_id_of(request))

    async def get_configuration(self, request: Request) -> Response:
        return aws_json(self._record(request).config, 200, request_id_of(request))

    async def list(self, request: Request) -> Response:
        page, next_marker = page_of(self.registry.list(), request, key=lambda record: record.name)
        body: dict[str, object] = {"Functions": [record.config for record in page]}
        if next_marker:
            body["NextMarker"] = next_marker
        return aws_json(body, 200, request_id_of(request))

    async def update_code(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        body = await json_body(request, "UpdateFunctionCode")
        record = self._published(await self.registry.update_code(ref.name, body), body)
        return aws_json(record.config, 200, request_id_of(request), await self._warnings(record))

    async def update_configuration(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        body = await json_body(request, "UpdateFunctionConfiguration")
        self._check_role(body)
        self._check_layer_access(request, body)
        record = self._published(self.registry.update_configuration(ref.name, body), body)
        return aws_json(record.config, 200, request_id_of(request), await self._warnings(record, code=False))

    async def delete(self, request: Request) -> Response:
        ref = function_ref(request, self.services.region)
        self.services.invoker.resolve(ref.name, ref.qualifier)
        if ref.qualifier:
            self.services.versions.delete(ref.name, ref.qualifier)
        else:
            self.registry.delete(ref.name)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def download_code(self, request: Request) -> Response:
        """The `Code.Location` of GetFunction (presigned, or SigV4-signed: the middleware checked which)."""
        path = self.registry.code.zip_path(request.path_params["digest"])  # a digest, or 404
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise ResourceNotFoundException("Code not found") from exc
        return StreamingResponse(_chunks(fd), media_type="application/zip",
                                 headers={"Content-Length": str(os.fstat(fd).st_size)})


async def _chunks(fd: int) -> AsyncIterator[bytes]:
    """The opened zip in 1 MiB pieces: the fd, not the path, so no symlink is followed after the check."""
    with os.fdopen(fd, "rb") as stream:
        while chunk := await asyncio.to_thread(stream.read, 1 << 20):
            yield chunk
