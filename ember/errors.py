"""Ember's errors: one tree, and the AWS wire facts each one carries.

    EmberError
    ├── AwsError                      an API error: HTTP status + AWS's error shape
    │   ├── ResourceNotFoundException           404
    │   ├── ProvisionedConcurrencyConfigNotFoundException  404
    │   ├── ResourceConflictException           409
    │   ├── InvalidParameterValueException      400
    │   ├── InvalidRequestContentException      400
    │   ├── ValidationException                 400 (not modelled by botocore)
    │   ├── RequestEntityTooLargeException      413 (AWS's real code, not the modelled one)
    │   ├── PreconditionFailedException         412
    │   ├── TooManyRequestsException            429
    │   ├── InvalidSignatureException           403
    │   ├── UnrecognizedClientException         403
    │   ├── AccessDeniedException               403 (a session's role may not; not modelled by botocore)
    │   ├── UnknownOperation                    404 (a path no Lambda operation has)
    │   ├── ServiceException                    500
    │   ├── LogsInvalidParameter                400 (CloudWatch Logs' InvalidParameterException)
    │   ├── SerializationException              400 (a JSON 1.1 body that cannot be read: CloudWatch Logs)
    │   ├── EventsResourceNotFound              400 (EventBridge's ResourceNotFoundException: JSON 1.1 says 400)
    │   ├── EventsLimitExceeded                 400 (EventBridge's LimitExceededException)
    │   ├── NotFoundException                   404 (API Gateway's: an API, route, resource, integration, stage…)
    │   ├── BadRequestException                 400 (API Gateway's)
    │   ├── ConflictException                   409 (API Gateway's and the Scheduler's)
    │   └── IamError                      IAM's query-protocol errors, rendered as XML (ember.api.iam_api)
    │       ├── NoSuchEntity                    404
    │       ├── EntityAlreadyExists             409
    │       ├── DeleteConflict                  409
    │       ├── MalformedPolicyDocument         400
    │       ├── InvalidInput                    400
    │       └── IamValidationError              400 (IAM's ValidationError: a name or value out of bounds)
    ├── RuntimeApiError                   a runtime broke the Runtime API's rules (403/400/413 to it)
    └── TemplateError                     a project (SAM template, serverless.yml) that can't be deployed:
                                          one line naming the file, and the line and column when known

`code`, `status_code` and `message_key` match botocore's model of the error's `service` (Lambda's
unless it says otherwise; API Gateway's errors its apigatewayv2 and apigateway models;
tests/unit/test_errors.py checks them), so boto3 raises the modelled class.
"""

from __future__ import annotations


class EmberError(Exception):
    """Base of every error Ember raises on purpose."""


class AwsError(EmberError):
    """An error the API answers with AWS's status code and JSON shape; do not raise directly."""

    code: str = "ServiceException"
    status_code: int = 500
    sender_fault: bool = False
    message_key: str = "Message"
    service: str = "lambda"  # whose botocore model states these facts

    def __init__(self, message: str, **members: object) -> None:
        super().__init__(message)
        self.message = message
        self.members = members

    def body(self) -> dict[str, object]:
        """AWS's JSON error body: Type, the message under the model's casing, extra members."""
        return {"Type": "User" if self.sender_fault else "Service", self.message_key: self.message, **self.members}


class ResourceNotFoundException(AwsError):
    code, status_code, sender_fault = "ResourceNotFoundException", 404, True


class ProvisionedConcurrencyConfigNotFoundException(AwsError):
    code, status_code, sender_fault, message_key = "ProvisionedConcurrencyConfigNotFoundException", 404, True, "message"


class ResourceConflictException(AwsError):
    code, status_code, sender_fault, message_key = "ResourceConflictException", 409, True, "message"


class InvalidParameterValueException(AwsError):
    code, status_code, sender_fault, message_key = "InvalidParameterValueException", 400, True, "message"


class InvalidRequestContentException(AwsError):
    code, status_code, sender_fault, message_key = "InvalidRequestContentException", 400, True, "message"


class ValidationException(AwsError):
    code, status_code, sender_fault, message_key = "ValidationException", 400, True, "message"


class RequestEntityTooLargeException(AwsError):
    code, status_code, sender_fault, message_key = "RequestEntityTooLargeException", 413, True, "message"


class PreconditionFailedException(AwsError):
    code, status_code, sender_fault, message_key = "PreconditionFailedException", 412, True, "message"


class TooManyRequestsException(AwsError):
    code, status_code, sender_fault, message_key = "TooManyRequestsException", 429, True, "message"


class InvalidSignatureException(AwsError):
    code, status_code, sender_fault, message_key = "InvalidSignatureException", 403, True, "message"


class UnrecognizedClientException(AwsError):
    code, status_code, sender_fault, message_key = "UnrecognizedClientException", 403, True, "message"


class AccessDeniedException(AwsError):
    code, status_code, sender_fault = "AccessDeniedException", 403, True


class ServiceException(AwsError):
    code, status_code = "ServiceException", 500


class UnknownOperation(AwsError):
    code, status_code, sender_fault, message_key = "UnknownOperationException", 404, True, "message"


class LogsInvalidParameter(AwsError):
    code, status_code, sender_fault, message_key = "InvalidParameterException", 400, True, "message"


class SerializationException(AwsError):
    code, status_code, sender_fault, message_key = "SerializationException", 400, True, "message"


class EventsResourceNotFound(AwsError):
    """EventBridge's: a JSON 1.1 service answers every client error with 400."""

    code, status_code, sender_fault, message_key, service = "ResourceNotFoundException", 400, True, "message", "events"


class EventsLimitExceeded(AwsError):
    code, status_code, sender_fault, message_key, service = "LimitExceededException", 400, True, "message", "events"


class NotFoundException(AwsError):
    code, status_code, sender_fault, message_key = "NotFoundException", 404, True, "message"


class BadRequestException(AwsError):
    code, status_code, sender_fault, message_key = "BadRequestException", 400, True, "message"


class ConflictException(AwsError):
    code, status_code, sender_fault, message_key = "ConflictException", 409, True, "message"


class IamError(AwsError):
    """An IAM error: `code` is IAM's own (botocore's iam model), answered as `<ErrorResponse>` XML."""

    code, status_code = "ServiceFailure", 500


class NoSuchEntity(IamError):
    code, status_code, sender_fault = "NoSuchEntity", 404, True


class EntityAlreadyExists(IamError):
    code, status_code, sender_fault = "EntityAlreadyExists", 409, True


class DeleteConflict(IamError):
    code, status_code, sender_fault = "DeleteConflict", 409, True


class MalformedPolicyDocument(IamError):
    code, status_code, sender_fault = "MalformedPolicyDocument", 400, True


class InvalidInput(IamError):
    code, status_code, sender_fault = "InvalidInput", 400, True


class IamValidationError(IamError):
    code, status_code, sender_fault = "ValidationError", 400, True


class RuntimeApiError(EmberError):
    """A runtime broke the Runtime API's rules; answered as AWS's emulator answers (403/400/413)."""

    def __init__(self, status_code: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message


class TemplateError(EmberError):
    """A SAM/CloudFormation template or serverless.yml Ember can't turn into a stack; `str()` is one line."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, column: int | None = None):
        where = ":".join(str(part) for part in (file, line, column) if part is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.line, self.column = file, line, column
