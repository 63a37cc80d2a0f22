"""ember.errors: each AwsError's wire facts match botocore's Lambda model, and the JSON body shape."""

from __future__ import annotations

import botocore.session
import pytest

from ember import errors
from ember.errors import AwsError


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _model_error_shapes() -> dict:
    model = botocore.session.get_session().get_service_model("lambda")
    return {shape.name: shape for shape in model.error_shapes}


MODEL = _model_error_shapes()
AWS_ERRORS = [cls for cls in _all_subclasses(AwsError) if cls.__module__ == errors.__name__]
MODELLED = [cls for cls in AWS_ERRORS if cls.service == "lambda" and cls.code in MODEL]


def test_the_modelled_errors_include_the_common_lambda_ones():
    # Guards the parametrised tests below against silently checking nothing.
    codes = {cls.code for cls in MODELLED}
    assert {"ResourceNotFoundException", "ResourceConflictException", "InvalidParameterValueException",
            "InvalidRequestContentException", "TooManyRequestsException", "ServiceException"} <= codes


@pytest.mark.parametrize("cls", MODELLED, ids=lambda cls: cls.__name__)
def test_status_code_matches_the_botocore_model(cls):
    assert cls.status_code == MODEL[cls.code].metadata["error"]["httpStatusCode"]


@pytest.mark.parametrize("cls", MODELLED, ids=lambda cls: cls.__name__)
def test_message_key_uses_the_model_casing(cls):
    members = MODEL[cls.code].members
    model_key = "Message" if "Message" in members else "message"
    assert model_key in members
    assert cls.message_key == model_key


@pytest.mark.parametrize("cls", MODELLED, ids=lambda cls: cls.__name__)
def test_sender_fault_matches_the_botocore_model(cls):
    assert cls.sender_fault == bool(MODEL[cls.code].metadata["error"].get("senderFault", False))


def test_body_has_user_type_message_under_message_key_and_extra_members():
    error = errors.TooManyRequestsException("Rate exceeded", Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
                                            retryAfterSeconds="1")
    assert error.body() == {
        "Type": "User",
        "message": "Rate exceeded",
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "retryAfterSeconds": "1",
    }


def test_body_uses_capitalised_message_key_for_resource_not_found():
    error = errors.ResourceNotFoundException("Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn")
    assert error.body() == {
        "Type": "User",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn",
    }


def test_body_type_is_service_for_a_server_fault():
    assert errors.ServiceException("boom").body() == {"Type": "Service", "Message": "boom"}


def test_message_is_kept_as_the_exception_text():
    error = errors.InvalidParameterValueException("bad value")
    assert str(error) == "bad value"
    assert error.message == "bad value"


IAM_MODEL = {shape.metadata.get("error", {}).get("code", shape.name): shape
             for shape in botocore.session.get_session().get_service_model("iam").error_shapes}
IAM_ERRORS = [cls for cls in _all_subclasses(errors.IamError) if cls.code in IAM_MODEL]


def test_the_iam_errors_ember_raises_are_in_the_iam_model():
    assert {"NoSuchEntity", "EntityAlreadyExists", "DeleteConflict", "MalformedPolicyDocument",
            "InvalidInput", "ServiceFailure"} <= {cls.code for cls in IAM_ERRORS + [errors.IamError]}


@pytest.mark.parametrize("cls", IAM_ERRORS, ids=lambda cls: cls.__name__)
def test_iam_error_status_and_fault_match_the_iam_model(cls):
    error = IAM_MODEL[cls.code].metadata["error"]
    assert cls.status_code == error["httpStatusCode"]
    assert cls.sender_fault == bool(error.get("senderFault", False))


def _service_errors(service: str) -> dict:
    model = botocore.session.get_session().get_service_model(service)
    return {shape.name: shape for shape in model.error_shapes}


EVENTS_MODEL = _service_errors("events")
SCHEDULER_MODEL = _service_errors("scheduler")


@pytest.mark.parametrize("cls", [errors.EventsResourceNotFound, errors.EventsLimitExceeded],
                         ids=lambda cls: cls.__name__)
def test_eventbridge_errors_are_modelled_and_answered_as_json_1_1_client_errors(cls):
    assert cls.code in EVENTS_MODEL and cls.status_code == 400 and cls.sender_fault


@pytest.mark.parametrize("cls", [errors.ConflictException, errors.ResourceNotFoundException,
                                 errors.ValidationException], ids=lambda cls: cls.__name__)
def test_the_scheduler_errors_ember_raises_match_the_scheduler_model(cls):
    error = SCHEDULER_MODEL[cls.code].metadata["error"]
    assert cls.status_code == error["httpStatusCode"]
    assert cls.sender_fault == bool(error.get("senderFault", False))


APIGW_MODEL = {shape.name: shape for shape in
               botocore.session.get_session().get_service_model("apigatewayv2").error_shapes}
APIGW_ERRORS = [errors.NotFoundException, errors.BadRequestException, errors.ConflictException]


@pytest.mark.parametrize("cls", APIGW_ERRORS, ids=lambda cls: cls.__name__)
def test_api_gateway_errors_match_the_apigatewayv2_model(cls):
    shape = APIGW_MODEL[cls.code]
    assert cls.status_code == shape.metadata["error"]["httpStatusCode"]
    assert shape.members["Message"].serialization["name"] == cls.message_key


APIGW_V1_MODEL = {shape.name: shape for shape in
                  botocore.session.get_session().get_service_model("apigateway").error_shapes}


@pytest.mark.parametrize("cls", APIGW_ERRORS, ids=lambda cls: cls.__name__)
def test_api_gateway_errors_match_the_apigateway_v1_model_too(cls):
    shape = APIGW_V1_MODEL[cls.code]
    assert cls.status_code == shape.metadata["error"]["httpStatusCode"]
    assert cls.message_key in shape.members
