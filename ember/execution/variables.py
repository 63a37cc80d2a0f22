"""The environment variables a Lambda runtime sees (reference §4.1), plus the function's own."""

from __future__ import annotations

import os
import sys

from ember.execution.model import EnvironmentSpec
from ember.runtimes import NODE, NODE_RUNTIMES, PROVIDED_RUNTIMES, is_python
from ember.runtimes.jdks import jdk_for

# The AWS SDKs' service-specific endpoints: calls to the services Ember serves go to Ember's API,
# every other service's still go where they would on AWS (so not the global AWS_ENDPOINT_URL).
SERVED_SERVICES = ("LAMBDA", "EVENTS", "SCHEDULER", "IAM", "LOGS", "APIGATEWAYV2")
# AWS's values (its runtimes' /var/lang/bin is, here, the directory of the interpreter that runs).
SYSTEM_PATH = "/usr/local/bin:/usr/bin/:/bin:{opt}/bin"
LIBRARY_PATH = "/lib64:/usr/lib64:{runtime}:{runtime}/lib:{task}:{task}/lib:{opt}/lib"
OPT = "/opt"
# Where layers are when the sandbox has no /opt of its own (no mount namespace): read by Ember's runtimes only.
OPT_VARIABLE = "_EMBER_OPT_DIR"


def lambda_environment(spec: EnvironmentSpec, runtime_api: str, log_stream: str, task_root: str,
                       runtime_dir: str, api_url: str | None = None, opt_dir: str = OPT) -> dict[str, str]:
    """Lambda's reserved variables win over the function's; the function's win over Lambda's defaults.
    The keys are the environment's own (spec.credentials), never the server's."""
    defaults = {
        **search_paths(spec.runtime, task_root, runtime_dir, opt_dir),
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
    opt = {OPT_VARIABLE: opt_dir} if opt_dir != OPT else {}
    return {**defaults, **endpoints, **spec.variables, **reserved, **spec.credentials, **opt}


def search_paths(runtime: str, task_root: str, runtime_dir: str, opt_dir: str = OPT) -> dict[str, str]:
    """PATH, LD_LIBRARY_PATH and the language's module path as AWS's runtimes set them, so a subprocess
    calling `python3`, `node` or `java` gets the runtime's interpreter, and none of the host's PATH. Layers'
    folders are AWS's: bin, lib, nodejs/node_modules (Python's are added by the runtime, as AWS's does)."""
    system = SYSTEM_PATH.format(opt=opt_dir)
    library = LIBRARY_PATH.format(runtime=runtime_dir, task=task_root, opt=opt_dir)
    if runtime in PROVIDED_RUNTIMES:
        return {"PATH": system, "LD_LIBRARY_PATH": library}
    paths = {"PATH": f"{interpreter_dir(runtime)}:{system}", "LD_LIBRARY_PATH": f"/var/lang/lib:{library}"}
    if is_python(runtime):
        paths["PYTHONPATH"] = runtime_dir
    if runtime in NODE_RUNTIMES:
        major = runtime.removeprefix("nodejs").split(".")[0]
        paths["NODE_PATH"] = (f"{opt_dir}/nodejs/node{major}/node_modules:{opt_dir}/nodejs/node_modules:"
                              f"{runtime_dir}/node_modules:{runtime_dir}:{task_root}")
    return paths


def interpreter_dir(runtime: str) -> str:
    """Where the runtime's interpreter lives: the environment's own Python (with boto3), Node's, the JDK's bin."""
    if is_python(runtime):
        return os.path.dirname(sys.executable)
    return os.path.dirname(os.path.realpath(NODE if runtime in NODE_RUNTIMES else jdk_for(runtime).java))
