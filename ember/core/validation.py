"""Checks that boto3 leaves to the server (patterns, maxima, enums), with AWS's codes and messages."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Any

from botocore.model import ServiceModel

from ember.arns import NAME_RE
from ember.core.shapes import Checker
from ember.errors import (
    InvalidParameterValueException,
    LogsInvalidParameter,
    SerializationException,
    ValidationException,
)
from ember.runtimes import SUPPORTED_RUNTIMES, runtime_problem, runtime_version
from ember.runtimes.deprecations import Change, blocked_message, deprecation_warning

ROLE_RE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
HANDLER_RE = re.compile(r"^[^\s]+$")
RESERVED_ENV_KEYS = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
ENV_LIMIT_BYTES = 4096
# botocore's ranges also cover Lambda Managed Instances (MemorySize up to 32768) and leave Timeout
# open; each member's documentation gives a standard function's: 128-10240 MB, 1-900 s.
STANDARD_RANGES = {"MemorySize": (128, 10240), "Timeout": (1, 900)}
# AWS answers a bad Runtime with InvalidParameterValueException in words of its own (check_runtime).
OWN_CHECKS = frozenset({"Runtime"})


@lru_cache(maxsize=1)
def aws_runtime_enum() -> tuple[str, ...]:
    """Every value of AWS's Runtime enum, from botocore's model rather than from memory."""
    return tuple(lambda_model().shape_for("Runtime").enum)


@lru_cache(maxsize=1)
def lambda_model() -> ServiceModel:
    """botocore's Lambda service model: the shapes, ranges and patterns AWS validates against."""
    import botocore.session

    return botocore.session.get_session().get_service_model("lambda")


@lru_cache(maxsize=1)
def _checker() -> Checker:
    return Checker(STANDARD_RANGES, own_checks=OWN_CHECKS)


def check_request(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Lambda operation's JSON body, typed and in range as its input shape says (nulls dropped)."""
    return _checker().check(lambda_model().operation_model(operation).input_shape, body)


@lru_cache(maxsize=1)
def _logs() -> tuple[ServiceModel, Checker]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("logs")
    return model, Checker(type_error=SerializationException, constraint_error=LogsInvalidParameter)


def check_logs_request(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """A CloudWatch Logs body, as Logs checks it: SerializationException, then InvalidParameterException."""
    model, checker = _logs()
    return checker.check(model.operation_model(operation).input_shape, body)


@lru_cache(maxsize=2)
def _service_checker(service: str) -> tuple[ServiceModel, Checker]:
    """EventBridge (JSON 1.1: a body that cannot be read is a SerializationException) or the Scheduler."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    if service == "events":  # a target's Id is checked per target: a bad one is a failed entry, not the call's
        return model, Checker(type_error=SerializationException, own_checks=frozenset({"TargetId"}))
    return model, Checker(type_error=ValidationException)


def check_service_request(service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge or Scheduler body typed and in range as its input shape says (nulls dropped)."""
    model, checker = _service_checker(service)
    return checker.check(model.operation_model(operation).input_shape, body)


def constraint_error(value: object, field: str, rule: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    )


def check_function_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise constraint_error(name, "functionName", "Member must satisfy regular expression pattern: "
                          "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                          "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")


def check_role(role: str) -> None:
    if not ROLE_RE.match(role or ""):
        raise constraint_error(role, "role", "Member must satisfy regular expression pattern: "
                          "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")


def check_runtime(runtime: str, change: Change = "create", on: datetime.date | None = None) -> None:
    """AWS's calendar first (a runtime past its block date for this change is refused in AWS's words), then
    whether this server runs it."""
    blocked = blocked_message(runtime, change, on)
    if blocked:
        raise InvalidParameterValueException(blocked)
    if runtime in SUPPORTED_RUNTIMES:
        problem = runtime_problem(runtime)
        if problem:
            raise InvalidParameterValueException(f"The runtime {runtime} can't run on this Ember server: {problem}.")
        return
    if runtime in aws_runtime_enum():
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is not supported by this Ember server; "
            f"it runs: {', '.join(SUPPORTED_RUNTIMES)}."
        )
    raise InvalidParameterValueException(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{', '.join(aws_runtime_enum())}] or be a valid ARN"
    )


def runtime_warning(runtime: str, on: datetime.date | None = None) -> str | None:
    """A deprecated runtime that still deploys: one line saying so and naming what really runs it."""
    if runtime not in SUPPORTED_RUNTIMES:
        return None
    return deprecation_warning(runtime, runtime_version(runtime), on)


def check_handler(handler: str) -> None:
    if not handler or len(handler) > 128 or not HANDLER_RE.match(handler):
        raise constraint_error(handler, "handler", "Member must satisfy regular expression pattern: [^\\s]+")
    if "\0" in handler:  # [^\s]+ lets it through; no runtime could load such a module name
        raise InvalidParameterValueException("The handler must not contain a null character.")


def check_limits(memory: int, timeout: int) -> None:
    if not 128 <= memory <= 10240:
        rule = "greater than or equal to 128" if memory < 128 else "less than or equal to 10240"
        raise constraint_error(memory, "memorySize", f"Member must have value {rule}")
    if not 1 <= timeout <= 900:
        rule = "greater than or equal to 1" if timeout < 1 else "less than or equal to 900"
        raise constraint_error(timeout, "timeout", f"Member must have value {rule}")


def check_environment(variables: dict[str, str]) -> None:
    """After the model's checks (string values, keys [a-zA-Z]([a-zA-Z0-9_])+): what AWS adds."""
    if any("\0" in value for value in variables.values()):  # execve(2) would cut the value short
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains a null character.")
    reserved = sorted(RESERVED_ENV_KEYS & variables.keys())
    if reserved:
        raise InvalidParameterValueException(
            f"Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in variables.items())
    if size > ENV_LIMIT_BYTES:
        raise InvalidParameterValueException(
            f"Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided exceeded the 4KB limit. String measured: {size}"
        )


def check_dead_letter_target(target: str) -> None:
    """A dead-letter queue is an SQS queue or an SNS topic (the model's pattern allows any service)."""
    if target.split(":")[2:3] not in (["sqs"], ["sns"]):
        raise InvalidParameterValueException(
            f"Invalid dead letter queue ARN: {target} is neither an SQS queue nor an SNS topic.")


def check_ephemeral_storage(size: int) -> None:
    if not 512 <= size <= 10240:
        rule = "greater than or equal to 512" if size < 512 else "less than or equal to 10240"
        raise constraint_error(size, "ephemeralStorage.size", f"Member must have value {rule}")


def check_architectures(architectures: list[str]) -> None:
    shown = "[" + ", ".join(architectures) + "]"
    if len(architectures) != 1:
        rule = "less than or equal to 1" if architectures else "greater than or equal to 1"
        raise constraint_error(shown, "architectures", f"Member must have length {rule}")
    if architectures[0] not in ("x86_64", "arm64"):
        raise constraint_error(shown, "architectures", "Member must satisfy constraint: "
                               "[Member must satisfy enum value set: [x86_64, arm64]]")
