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
    │   ├── UnknownOperation                    404 (a path no Lambda operation has)
    │   └── ServiceException                    500
    └── RuntimeApiError                   a runtime broke the Runtime API's rules (403/400/413 to it)

`code`, `status_code` and `message_key` match botocore's Lambda service model
(tests/unit/test_errors.py checks them against it), so boto3 raises the modelled class.
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


class ServiceException(AwsError):
    code, status_code = "ServiceException", 500


class UnknownOperation(AwsError):
    code, status_code, sender_fault, message_key = "UnknownOperationException", 404, True, "message"


class RuntimeApiError(EmberError):
    """A runtime broke the Runtime API's rules; answered as AWS's emulator answers (403/400/413)."""

    def __init__(self, status_code: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message
