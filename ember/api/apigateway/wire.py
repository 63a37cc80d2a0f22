"""API Gateway's rest-json wire (apigatewayv2's and apigateway's), read and written through botocore's models.

On the wire every member has its serialized name: apigatewayv2's are camelCase (`apiId`, `routeKey`)
while its records use the model's member names (`ApiId`, `RouteKey`); apigateway (v1) names members
as they travel, but for a few (`PutIntegration`'s `httpMethod` is the member `integrationHttpMethod`,
a list's `items` travels as `item`). A body is renamed, then typed and range-checked against the
operation's input shape (BadRequestException, as API Gateway answers); an answer keeps only the
members its output shape has.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from ember.api.lambda_api.body import parse_object
from ember.core.shapes import Checker
from ember.errors import BadRequestException

V2 = "apigatewayv2"
V1 = "apigateway"


@lru_cache(maxsize=2)
def model(service: str = V2) -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@lru_cache(maxsize=1)
def _checker() -> Checker:
    return Checker(type_error=BadRequestException, constraint_error=BadRequestException)


def operation(name: str, service: str = V2) -> OperationModel:
    return model(service).operation_model(name)


def read_body(name: str, raw: bytes, service: str = V2) -> dict[str, Any]:
    """A request's JSON body under its member names, checked against the operation's input shape."""
    shape = operation(name, service).input_shape
    body = _renamed(shape, parse_object(raw, BadRequestException))
    return _checker().check(shape, body) if shape is not None else body


def write(shape: Shape | None, value: Any) -> Any:
    """A record on the wire: members under their wire names, those the shape lacks left out."""
    if shape is None:
        return None
    if shape.type_name == "structure":
        return {member.serialization.get("name", name): write(member, value[name])
                for name, member in shape.members.items()
                if name in value and not member.serialization.get("location")}
    if shape.type_name == "list":
        return [write(shape.member, item) for item in value]
    if shape.type_name == "map":
        return {key: write(shape.value, item) for key, item in value.items()}
    return value


def _renamed(shape: Shape | None, value: Any) -> Any:
    """Wire names to member names, all the way down; keys the shape does not have are dropped."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        names = {member.serialization.get("name", name): name for name, member in shape.members.items()}
        return {names.get(key, key): _renamed(shape.members.get(names.get(key, key)), item)
                for key, item in value.items() if names.get(key, key) in shape.members}
    if shape.type_name == "list" and isinstance(value, list):
        return [_renamed(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _renamed(shape.value, item) for key, item in value.items()}
    return value
