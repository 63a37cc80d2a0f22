"""AWS's own Lambda libraries as functions: aws-lambda-go, Rust's lambda_runtime, AWS's Java runtime interface
client with aws-lambda-java-core and -events, and the AWS SDKs for Java and Go. Each comes from its registry and
is built by its runtimes/<name>/install.sh, which `make test` runs (cached); this reads what they built."""

from __future__ import annotations

from functools import cache
from pathlib import Path

RUNTIMES = Path(__file__).parent / "runtimes"
# AWS's Java RIC as a provided.al2023 bootstrap, started as AWS's docs start it for a custom Java runtime.
JAVA_RIC_BOOTSTRAP = (b'#!/bin/sh\nexec java -XX:+TieredCompilation -XX:TieredStopAtLevel=1 -cp "$LAMBDA_TASK_ROOT:'
                      b'$LAMBDA_TASK_ROOT/lib/*" '
                      b'com.amazonaws.services.lambda.runtime.api.client.AWSLambda "$_HANDLER"\n')


def built(name: str, path: str) -> Path:
    """A file or folder runtimes/<name>/install.sh built; missing, the assertion says how to build it."""
    found = RUNTIMES / name / "build" / path
    assert found.exists(), f"{found} is missing: `make test` builds it (sh {RUNTIMES / name / 'install.sh'})"
    return found


@cache
def go_binary(name: str) -> bytes:
    """`behaviour` (aws-lambda-go) or `caller` (aws-sdk-go-v2), a provided.al2023 bootstrap."""
    return built("go-aws", name).read_bytes()


@cache
def rust_bootstrap() -> bytes:
    return built("rust", "bootstrap").read_bytes()


@cache
def java_ric_files() -> dict[str, bytes]:
    """The bootstrap, the handlers' classes at the root and AWS's jars in lib/, by zip path."""
    classes, lib = built("java-aws", "classes"), built("java-aws", "lib")
    files = {"bootstrap": JAVA_RIC_BOOTSTRAP}
    files.update({str(c.relative_to(classes)): c.read_bytes() for c in classes.rglob("*.class")})
    files.update({f"lib/{jar.name}": jar.read_bytes() for jar in lib.glob("*.jar")})
    return files


def java_sdk_folder() -> Path:
    """A Java function folder (sources + the SDK's jars in lib/), as `ember deploy` builds one."""
    return built("java-sdk", "function")
