"""ember.api.query_protocol: IAM's form-encoded requests in, botocore-parsable XML out."""

from __future__ import annotations

from urllib.parse import urlencode

from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from ember.api.query_protocol import error_response, iam_model, parse_form, read_params, render
from ember.errors import AccessDeniedException, NoSuchEntity


def serialized(operation: str, params: dict) -> dict[str, str]:
    """The form botocore itself sends for `params`."""
    model = iam_model().operation_model(operation)
    body = create_serializer("query").serialize_to_request(params, model)["body"]
    return parse_form(urlencode(body).encode())


def parsed(operation: str, response) -> dict:
    model = iam_model().operation_model(operation)
    http = {"status_code": response.status_code, "headers": dict(response.headers), "body": response.body}
    return create_parser("query").parse(http, model.output_shape)


def test_scalars_and_a_list_of_structures_are_read_back_as_sent():
    params = {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 7200,
              "Tags": [{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "b"}]}
    form = serialized("CreateRole", params)
    assert form["Action"] == "CreateRole" and form["Version"] == "2010-05-08"
    assert read_params(iam_model().operation_model("CreateRole"), form) == params


def test_absent_members_stay_absent():
    form = serialized("ListRoles", {})
    assert read_params(iam_model().operation_model("ListRoles"), form) == {}


def test_a_result_renders_as_botocore_parses_it():
    role = {"Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLE", "Arn": "arn:aws:iam::000000000000:role/r",
            "CreateDate": "2025-01-02T03:04:05Z", "AssumeRolePolicyDocument": '{"a": "b c"}',
            "MaxSessionDuration": 3600}
    response = render(iam_model().operation_model("ListRoles"), {"Roles": [role], "IsTruncated": True,
                                                                   "Marker": "r"}, "req-1")
    body = parsed("ListRoles", response)
    assert body["IsTruncated"] is True and body["Marker"] == "r"
    assert body["Roles"][0]["RoleName"] == "r" and body["Roles"][0]["CreateDate"].year == 2025
    assert body["Roles"][0]["AssumeRolePolicyDocument"] == "%7B%22a%22%3A%20%22b%20c%22%7D"  # url-encoded, as AWS
    assert body["ResponseMetadata"]["RequestId"] == "req-1"
    assert response.body.startswith(b'<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
                                    b"<ListRolesResult>")


def test_an_operation_without_output_has_only_response_metadata():
    response = render(iam_model().operation_model("DeleteRole"), None, "req-2")
    assert response.body == (b'<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
                             b"<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></DeleteRoleResponse>")


def test_errors_are_iams_error_response():
    response = error_response(NoSuchEntity("The role with name x cannot be found."), "req-3")
    assert response.status_code == 404
    assert response.body == (b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
                             b"<Type>Sender</Type><Code>NoSuchEntity</Code>"
                             b"<Message>The role with name x cannot be found.</Message></Error>"
                             b"<RequestId>req-3</RequestId></ErrorResponse>")


def test_a_lambda_style_error_takes_iams_code():
    response = error_response(AccessDeniedException("no"), "req-4")
    assert response.status_code == 403 and b"<Code>AccessDenied</Code>" in response.body
