"""A runtime that breaks the Runtime API's rules, in the execution layer's words (no HTTP here).

The Runtime API server turns each into AWS's emulator answer: 403, 400, 413 or 500.
"""

from __future__ import annotations


class RuntimeApiViolation(Exception):
    """Base: `error_type` is the wire string AWS's emulator puts in `errorType`."""

    error_type = "Runtime.Unknown"


class InvalidStateTransition(RuntimeApiViolation):
    error_type = "InvalidStateTransition"

    def __init__(self, message: str = "State transition is not allowed") -> None:
        super().__init__(message)


class InvalidRequestID(RuntimeApiViolation):
    error_type = "InvalidRequestID"

    def __init__(self, message: str = "Invalid request ID") -> None:
        super().__init__(message)


class PayloadTooLarge(RuntimeApiViolation):
    error_type = "RequestEntityTooLarge"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Exceeded maximum allowed payload size ({limit} bytes).")


class EnvironmentDestroyed(RuntimeApiViolation):
    """The environment was destroyed while its runtime waited in `next`."""

    error_type = "Runtime.Destroyed"
