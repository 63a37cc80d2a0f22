"""AWS's query protocol as IAM speaks it, driven by botocore's iam model so the shapes are AWS's.

Requests are form-encoded (`Action=GetRole&Version=2010-05-08&RoleName=…`, lists as
`Tags.member.1.Key`); responses are `<{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata>…`
XML; errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import parse_qsl, quote
from xml.etree import ElementTree

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape
from starlette.responses import Response

from ember.errors import AwsError

XML = "text/xml"
# The codes IAM answers with for errors raised before or outside the IAM API itself.
IAM_CODES = {"UnrecognizedClientException": "InvalidClientTokenId",
             "InvalidSignatureException": "SignatureDoesNotMatch",
             "AccessDeniedException": "AccessDenied", "ServiceException": "ServiceFailure",
             "UnknownOperationException": "InvalidAction"}
POLICY_SHAPE = "policyDocumentType"  # botocore url-decodes and parses members of this shape


@functools.lru_cache(maxsize=1)
def iam_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("iam")


def parse_form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def read_params(operation: OperationModel, form: dict[str, str]) -> dict[str, Any]:
    """The operation's input members from the flat form, nested as botocore built them."""
    shape = operation.input_shape
    return _read(shape, "", form) if shape is not None else {}


def _read(shape: Shape, prefix: str, form: dict[str, str]) -> Any:
    if shape.type_name == "structure":
        found = {name: _read(member, f"{prefix}{name}", form) for name, member in shape.members.items()}
        return {name: value for name, value in found.items() if value is not None}
    if shape.type_name == "list":
        items, n = [], 1
        while any(key.startswith(f"{prefix}.member.{n}") for key in form):
            items.append(_read(shape.member, f"{prefix}.member.{n}" + ("." if _nested(shape.member) else ""), form))
            n += 1
        return items or (None if f"{prefix}" not in form else [])
    key = prefix.rstrip(".")
    if key not in form:
        return None
    return _scalar(shape, form[key])


def _nested(shape: Shape) -> bool:
    return shape.type_name in ("structure", "list")


def _scalar(shape: Shape, raw: str) -> Any:
    if shape.type_name in ("integer", "long"):
        return int(raw)
    if shape.type_name == "boolean":
        return raw.lower() == "true"
    return raw


def render(operation: OperationModel, result: dict[str, Any] | None, request_id: str) -> Response:
    """`<{Op}Response>` with the result under the model's resultWrapper, members in the model's order."""
    namespace = iam_model().metadata["xmlNamespace"]
    root = ElementTree.Element(f"{operation.name}Response", xmlns=namespace)
    shape = operation.output_shape
    if shape is not None:
        wrapper = ElementTree.SubElement(root, shape.serialization.get("resultWrapper", f"{operation.name}Result"))
        _write_members(wrapper, shape, result or {})
    metadata = ElementTree.SubElement(root, "ResponseMetadata")
    ElementTree.SubElement(metadata, "RequestId").text = request_id
    return Response(ElementTree.tostring(root, xml_declaration=False), media_type=XML,
                    headers={"x-amzn-RequestId": request_id})


def _write_members(parent: ElementTree.Element, shape: Shape, value: dict[str, Any]) -> None:
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            _write(parent, name, member, value[name])


def _write(parent: ElementTree.Element, name: str, shape: Shape, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    if shape.type_name == "structure":
        _write_members(element, shape, value)
    elif shape.type_name == "list":
        for item in value:
            _write(element, "member", shape.member, item)
    elif shape.type_name == "boolean":
        element.text = "true" if value else "false"
    elif shape.name == POLICY_SHAPE:
        element.text = quote(value, safe="")
    else:
        element.text = str(value)


def error_response(error: AwsError, request_id: str) -> Response:
    """IAM's `<ErrorResponse>`; botocore raises the modelled class for the code."""
    namespace = iam_model().metadata["xmlNamespace"]
    root = ElementTree.Element("ErrorResponse", xmlns=namespace)
    detail = ElementTree.SubElement(root, "Error")
    ElementTree.SubElement(detail, "Type").text = "Sender" if error.sender_fault else "Receiver"
    ElementTree.SubElement(detail, "Code").text = IAM_CODES.get(error.code, error.code)
    ElementTree.SubElement(detail, "Message").text = error.message
    ElementTree.SubElement(root, "RequestId").text = request_id
    return Response(ElementTree.tostring(root), status_code=error.status_code, media_type=XML,
                    headers={"x-amzn-RequestId": request_id})
