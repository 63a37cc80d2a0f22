"""The environment variables a Lambda runtime sees (reference §4.1), plus the function's own."""

from __future__ import annotations

import os

from ember.execution.model import EnvironmentSpec

# The AWS SDKs' service-specific endpoints: calls to the services Ember serves go to Ember's API,
# every other service's still go where they would on AWS (so not the global AWS_ENDPOINT_URL).
SERVED_SERVICES = ("LAMBDA", "EVENTS", "SCHEDULER", "IAM", "LOGS", "APIGATEWAYV2")


def lambda_environment(spec: EnvironmentSpec, runtime_api: str, log_stream: str, task_root: str,
                       runtime_dir: str, api_url: str | None = None) -> dict[str, str]:
    """Lambda's reserved variables win over the function's; the function's win over Lambda's defaults.
    The keys are the environment's own (spec.credentials), never the server's."""
    defaults = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    reserved = {
        "_HANDLER": spec.handler,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": spec.initialization_type,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
    }
    endpoints = {f"AWS_ENDPOINT_URL_{service}": api_url for service in SERVED_SERVICES} if api_url else {}
    return {**defaults, **endpoints, **spec.variables, **reserved, **spec.credentials}
