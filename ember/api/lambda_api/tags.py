"""TagResource, ListTags, UntagResource: tags are kept on the function and returned by GetFunction."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from ember.api.lambda_api.body import json_body
from ember.api.middleware import request_id_of
from ember.api.responses import aws_json
from ember.api.services import Services
from ember.arns import parse_function_ref
from ember.errors import InvalidParameterValueException

MAX_TAGS = 50


class TagsApi:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _name(self, request: Request) -> str:
        raw = unquote(request.path_params["arn"])
        ref = parse_function_ref(raw)
        if ref is None or not raw.startswith("arn:") or ref.qualifier:
            raise InvalidParameterValueException(f"Tags can only be set on an unqualified function ARN, not {raw}")
        self.services.registry.get(ref.name)
        return ref.name

    async def tag(self, request: Request) -> Response:
        name = self._name(request)
        tags = dict(self.services.registry.get(name).tags)
        tags.update((await json_body(request, "TagResource")).get("Tags") or {})
        if len(tags) > MAX_TAGS:
            raise InvalidParameterValueException(f"A function can have at most {MAX_TAGS} tags.")
        self.services.registry.set_tags(name, tags)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})

    async def list(self, request: Request) -> Response:
        return aws_json({"Tags": self.services.registry.get(self._name(request)).tags}, 200, request_id_of(request))

    async def untag(self, request: Request) -> Response:
        name = self._name(request)
        removed = set(request.query_params.getlist("tagKeys"))
        tags = {k: v for k, v in self.services.registry.get(name).tags.items() if k not in removed}
        self.services.registry.set_tags(name, tags)
        return Response(status_code=204, headers={"x-amzn-RequestId": request_id_of(request)})
