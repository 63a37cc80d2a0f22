"""Per runtime path: cold start and warm latency of the same hello world, so the seed's language choice
has numbers. Paths: Ember's Python runtime (forked from the zygote), AWS's awslambdaric (`python -m
awslambdaric` as a `provided.al2023` bootstrap), AWS's tutorial bash + curl bootstrap, a Go binary
(examples/hello-go, built here with golang-go), Ember's nodejs20.x, AWS's Node.js aws-lambda-ric as a
`provided.al2023` bootstrap (the behaviour suite's zip; `make bench` builds it), and `java21`
(examples/hello-java, on the JDK `jdks.py` picks for it: Temurin 25 where it is installed) with and without
Ember's class-data archive. Functions at 1,769 MB
(one vCPU), so the CPU quota does not decide the result. Cold: CreateFunction response -> first response
(and REPORT's Init Duration), ROUNDS new functions per path; warm: WARM sequential calls on one keep-alive
connection, after 20.
Baseline, same run: the bare uvicorn POST's round trip is not repeated here; compare paths with each other.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import harness

from ember.cli.java_build import java_zip
from ember.runtimes.jvm import java_command

sys.path.append(str(harness.REPO / "tests" / "integration"))  # the ric zip the behaviour suite deploys
from aws_lambda_ric import ric_files  # noqa: E402

NODE_HELLO = b"exports.handler = async (event) => ({message: `Hello, ${event.name || 'world'}!`});\n"
ROUNDS = 10
WARM = 300
EXAMPLES = harness.REPO / "examples"


def packages(go_binary: bytes) -> dict[str, tuple[str, str, bytes]]:
    hello = (EXAMPLES / "hello" / "index.py").read_bytes()
    python = os.path.normpath(sys.executable)  # the venv's interpreter, where awslambdaric is installed
    ric = f'#!/bin/sh\nexec {python} -m awslambdaric "$_HANDLER"\n'.encode()
    bash = {name: (EXAMPLES / "hello-provided" / name).read_bytes() for name in ("bootstrap", "function.sh")}
    return {
        "python": ("python3.11", "index.handler", harness.zip_files({"index.py": hello})),
        "awslambdaric": ("provided.al2023", "index.handler", harness.zip_files({"bootstrap": ric, "index.py": hello},
                                                                         ("bootstrap",))),
        "bash": ("provided.al2023", "function.handler", harness.zip_files(bash, ("bootstrap",))),
        "go": ("provided.al2023", "bootstrap", harness.zip_files({"bootstrap": go_binary}, ("bootstrap",))),
        "node": ("nodejs20.x", "index.handler", harness.zip_files({"index.js": NODE_HELLO})),
        "aws-lambda-ric": ("provided.al2023", "index.handler",
                           harness.zip_files({**ric_files(), "index.js": NODE_HELLO}, ("bootstrap",))),
        **java_packages(),
    }


def java_packages() -> dict[str, tuple[str, str, bytes]]:
    """examples/hello-java on java21, and the same JVM without Ember's class-data archive (the same-run
    baseline of that optimization: a provided.al2023 bootstrap exec'ing `java` with the other flags)."""
    classes = build_java()
    plain = [arg for arg in java_command("java21", harness.BENCH_MEMORY_MB) if "SharedArchiveFile" not in arg
             and not arg.startswith("-Xlog:cds")]
    bootstrap = ("#!/bin/sh\nexec " + " ".join(plain) + "\n").encode()
    return {"java": ("java21", "example.Hello::handleRequest", harness.zip_files(classes)),
            "java-no-archive": ("provided.al2023", "example.Hello::handleRequest",
                                harness.zip_files({**classes, "bootstrap": bootstrap}, ("bootstrap",)))}


def build_java() -> dict[str, bytes]:
    """examples/hello-java as `ember deploy` compiles and zips it, by zip path."""
    with zipfile.ZipFile(io.BytesIO(java_zip(EXAMPLES / "hello-java"))) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.endswith(".class")}


def build_go() -> bytes:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["go", "build", "-o", f"{out}/bootstrap", "."], cwd=EXAMPLES / "hello-go", check=True,
                       env={"PATH": "/usr/bin:/bin", "CGO_ENABLED": "0", "HOME": out, "GOCACHE": f"{out}/cache"})
        return Path(out, "bootstrap").read_bytes()


def greets(body: bytes) -> bool:
    """Each runtime's hello says hello its own way (`Hello, world!`, `... from Go!`)."""
    return b"Hello" in body


def invoke(connection, path: str, tail: bool = False) -> tuple[float, float | None]:
    elapsed, phases = harness.post(connection, path, tail=tail, expected=greets)
    return elapsed, phases.get("init_duration")


def run() -> list[dict]:
    samples: dict[str, dict[str, list[float]]] = {}
    with harness.EmberServer() as server:
        client = server.client()
        for path, (runtime, handler, code) in packages(build_go()).items():
            found = samples[path] = {"cold": [], "init": [], "warm": []}
            for i in range(ROUNDS + 1):
                name = f"bench-rt-{path}-{i}"
                client.create_function(FunctionName=name, Runtime=runtime, Role=harness.ROLE, Handler=handler,
                                       Code={"ZipFile": code}, MemorySize=harness.BENCH_MEMORY_MB, Timeout=10)
                connection = harness.connect(server.url)
                cold, init = invoke(connection, server.invoke_path(name), tail=True)
                if i < ROUNDS:  # the last function stays for the warm calls
                    found["cold"].append(cold)
                    found["init"].append(init)
                    client.delete_function(FunctionName=name)
                    connection.close()
            for n in range(20 + WARM):
                elapsed, _ = invoke(connection, server.invoke_path(name))
                if n >= 20:
                    found["warm"].append(elapsed)
            connection.close()
    records = []
    for path, found in samples.items():
        common = {"benchmark": "runtimes", "runtime_path": path, "memory_mb": harness.BENCH_MEMORY_MB}
        records += [harness.record(f"runtime_{path}_cold_start_ms", "ms", found["cold"], **common, role="candidate"),
                    harness.record(f"runtime_{path}_init_duration_ms", "ms", found["init"], **common,
                                   role="candidate"),
                    harness.record(f"runtime_{path}_warm_ms", "ms", found["warm"], **common, role="candidate")]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["runtimes"]))
