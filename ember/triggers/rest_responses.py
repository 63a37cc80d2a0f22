"""A REST API method's responses, step by step: PutMethodResponse and PutIntegrationResponse and their Get and Delete.

A method response declares a status code and the headers it may carry (`method.response.header.<Name>`:
required or not); an integration response maps to one of them (a MOCK's answer, ember.triggers.rest_mock).
Both live in the method's record, `methodResponses` and `methodIntegration.integrationResponses` keyed by
status code, as GetMethod and GetIntegration return them, so a deployment's snapshot carries them.
"""

from __future__ import annotations

import re
from typing import Any

from ember.errors import BadRequestException, NotFoundException
from ember.triggers.api_store import Record
from ember.triggers.rest_mock import HEADER_TARGET
from ember.triggers.rest_resources import RestResources

STATUS_RE = re.compile(r"^[1-5]\d\d$")
MISSING = "Invalid Response status code specified"


class RestResponses:
    def __init__(self, resources: RestResources) -> None:
        self.resources = resources

    # Method responses

    def put_method_response(self, api_id: str, resource_id: str, http_method: str, status: str,
                            body: dict[str, Any]) -> Record:
        method = self.resources.method(api_id, resource_id, http_method)
        response: Record = {"statusCode": _status(status),
                            **{key: body[key] for key in ("responseParameters", "responseModels") if key in body}}
        bad = [key for key in response.get("responseParameters", {}) if not key.startswith(HEADER_TARGET)]
        if bad:
            raise BadRequestException(f"Invalid mapping expression specified: {', '.join(bad)}")
        responses = {**method.get("methodResponses", {}), status: response}
        self.resources.replace_method(api_id, resource_id, {**method, "methodResponses": responses})
        return response

    def method_response(self, api_id: str, resource_id: str, http_method: str, status: str) -> Record:
        response: Record | None = self.resources.method(api_id, resource_id, http_method).get(
            "methodResponses", {}).get(status)
        if response is None:
            raise NotFoundException(MISSING)
        return response

    def delete_method_response(self, api_id: str, resource_id: str, http_method: str, status: str) -> None:
        self.method_response(api_id, resource_id, http_method, status)
        method = self.resources.method(api_id, resource_id, http_method)
        kept = {code: value for code, value in method["methodResponses"].items() if code != status}
        self.resources.replace_method(api_id, resource_id, {**method, "methodResponses": kept})

    # Integration responses

    def put_integration_response(self, api_id: str, resource_id: str, http_method: str, status: str,
                                 body: dict[str, Any]) -> Record:
        """An integration response mapped to the method response of its status, its headers declared there."""
        declared = self.method_response(api_id, resource_id, http_method, _status(status))
        integration = self.resources.integration(api_id, resource_id, http_method)
        fields = ("selectionPattern", "responseParameters", "responseTemplates", "contentHandling")
        response: Record = {"statusCode": status, **{key: body[key] for key in fields if key in body}}
        _check_pattern(response.get("selectionPattern"))
        undeclared = [key for key in response.get("responseParameters", {})
                      if key not in declared.get("responseParameters", {})]
        if undeclared:
            raise BadRequestException("Invalid mapping expression specified: Validation Result: warnings : [], "
                                      f"errors : [Invalid mapping expression specified: {', '.join(undeclared)}]")
        self._put_integration(api_id, resource_id, http_method,
                              {**integration, "integrationResponses": {
                                  **integration.get("integrationResponses", {}), status: response}})
        return response

    def integration_response(self, api_id: str, resource_id: str, http_method: str, status: str) -> Record:
        response: Record | None = self.resources.integration(api_id, resource_id, http_method).get(
            "integrationResponses", {}).get(status)
        if response is None:
            raise NotFoundException(MISSING)
        return response

    def delete_integration_response(self, api_id: str, resource_id: str, http_method: str, status: str) -> None:
        self.integration_response(api_id, resource_id, http_method, status)
        integration = self.resources.integration(api_id, resource_id, http_method)
        kept = {code: value for code, value in integration["integrationResponses"].items() if code != status}
        self._put_integration(api_id, resource_id, http_method, {**integration, "integrationResponses": kept})

    def _put_integration(self, api_id: str, resource_id: str, http_method: str, integration: Record) -> None:
        method = self.resources.method(api_id, resource_id, http_method)
        self.resources.replace_method(api_id, resource_id, {**method, "methodIntegration": integration})


def _status(status: str) -> str:
    if not STATUS_RE.match(status):
        raise BadRequestException(f"Invalid status code {status}: a number from 100 to 599")
    return status


def _check_pattern(pattern: str | None) -> None:
    try:
        re.compile(pattern or "")
    except re.error as exc:
        raise BadRequestException(f"Invalid selection pattern specified: {pattern} ({exc})") from None
