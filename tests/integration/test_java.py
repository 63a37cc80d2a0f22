"""Java handlers as Lambda's Java runtime loads them: interface and plain methods, POJO and Map mapping,
the Context, Java's error shape, classes too new for the JDK, and OutOfMemoryError before the cgroup."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import BIN, make_zip, wait_for

from ember.runtimes import runtime_version
from ember.runtimes.jdks import jdk_for

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="session")
def java_files(java_classes: Path) -> dict[str, bytes]:
    """Every compiled test handler, at the zip's root as Lambda's Java layout puts classes."""
    return {str(c.relative_to(java_classes)): c.read_bytes() for c in java_classes.rglob("*.class")}


def invoke(client, name: str, event: object = None, **kwargs) -> tuple[dict, object]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return response, json.loads(response["Payload"].read())


@pytest.mark.parametrize(("handler", "event", "expected"), [
    ("example.Plain::shout", "ember", "EMBER"),
    ("example.Plain::greet", {"name": "ada", "numbers": [1, 2]},
     {"message": "hello ada from {name}", "numbers": [1, 2]}),
    ("example.Plain::nothing", {}, None),
])
def test_plain_methods_map_json_to_their_parameter_and_back(client, deploy, java_files, handler, event, expected):
    name = deploy(java_files, runtime="java17", handler=handler, memory=512)
    response, body = invoke(client, name, event, LogType="Tail")
    assert body == (json.loads(json.dumps(expected).replace("{name}", name)) if expected else None)
    if handler.endswith("shout"):  # LambdaRuntime's logger, with a level, as newer handlers call it
        assert "shouting ember\n" in base64.b64decode(response["LogResult"]).decode()


def test_the_context(client, deploy, java_files):
    name = deploy(java_files, runtime="java17", handler="example.Plain::context", memory=512, timeout=7)
    client_context = {"client": {"app_title": "tests"}, "custom": {"k": "v"}, "env": {}}
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    _, seen = invoke(client, name, {}, ClientContext=encoded)
    assert seen["requestId"] and seen["arn"].endswith(f":function:{name}")
    assert (seen["function"], seen["version"], seen["memory"]) == (name, "$LATEST", 512)
    assert 5000 < seen["remaining"] <= 7000
    assert seen["logGroup"] == f"/aws/lambda/{name}" and seen["logStream"]
    assert (seen["custom"], seen["app"]) == ({"k": "v"}, "tests")


def test_an_exception_is_javas_error_shape_with_its_cause(client, deploy, java_files):
    name = deploy(java_files, runtime="java17", handler="example.Plain::chained", memory=512)
    response, error = invoke(client, name, {}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("java.lang.IllegalStateException", "wrapped")
    assert error["stackTrace"][0].startswith("example.Plain.chained(Plain.java:")
    assert not any("ember.runtime" in frame for frame in error["stackTrace"]), "the runtime's own frames are cut"
    assert error["cause"]["errorType"] == "java.lang.NumberFormatException"
    assert "IllegalStateException: wrapped" in base64.b64decode(response["LogResult"]).decode()


def test_an_exception_without_a_message_is_named_by_its_class(client, deploy, java_files):
    """As AWS's Java runtime writes it (its LambdaErrorConverter), never `"errorMessage": null`."""
    _, error = invoke(client, deploy(java_files, runtime="java17", handler="example.Plain::silent", memory=512), {})
    assert (error["errorType"], error["errorMessage"]) == ("java.lang.IllegalStateException",) * 2


@pytest.mark.parametrize(("handler", "error_type", "message"), [
    ("example.Missing", "java.lang.ClassNotFoundException", "Class not found: example.Missing"),
    ("example.Plain::absent", "java.lang.NoSuchMethodException",
     "No public method named absent with appropriate method signature found on class example.Plain"),
])
def test_a_handler_that_cannot_be_found_fails_init(client, deploy, java_files, handler, error_type, message):
    _, error = invoke(client, deploy(java_files, runtime="java17", handler=handler, memory=512), {})
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


def built_for(files: dict[str, bytes], path: str, feature: int) -> dict[str, bytes]:
    """The package with one class's file version set to what javac `feature` writes (61 for 17, 65 for 21)."""
    changed = dict(files)
    built = bytearray(changed[path])
    built[6:8] = (44 + feature).to_bytes(2, "big")
    changed[path] = bytes(built)
    return changed


@pytest.mark.parametrize("built_for_21", ["example/PojoHandler.class", "example/Uid.class"])
def test_java21_classes_are_refused_by_java17s_jdk(client, deploy, java_files, built_for_21):
    """The handler's class fails Init; a class it loads later fails the call that loads it."""
    files = built_for(java_files, built_for_21, 21)
    _, error = invoke(client, deploy(files, runtime="java17", handler="example.PojoHandler", memory=512),
                      {"op": "whoami"})
    assert error["errorType"] == "java.lang.UnsupportedClassVersionError"
    assert "class file version 65.0" in error["errorMessage"], error
    assert "java17 on this machine's JDK 17" in error["errorMessage"] and "--release 17" in error["errorMessage"]


@pytest.mark.parametrize("runtime", ["java21", "java25"])
def test_java21_and_java25_run_on_the_newest_jdk_and_say_which(ember, client, deploy, java_files, runtime):
    """Where a JDK at least as new as the runtime is installed (Temurin 25 beside Debian's 17), the runtime's
    classes run on it; INIT_START names that JDK, and the log says when it is not the runtime's own Java."""
    jdk = jdk_for(runtime)
    if jdk.feature < int(runtime[4:]):
        pytest.skip(f"no JDK {runtime[4:]} or newer on this machine")
    files = built_for(built_for(java_files, "example/PojoHandler.class", int(runtime[4:])), "example/Uid.class", 21)
    name = deploy(files, runtime=runtime, handler="example.PojoHandler", memory=512, timeout=10)
    response, body = invoke(client, name, {"op": "whoami"})
    assert body["uid"] > 0 and "FunctionError" not in response, body
    log = ember_log(ember, name)
    assert f"INIT_START Runtime Version: {runtime_version(runtime)}\t" in log, log
    assert runtime_version(runtime).startswith(f"java:{jdk.feature}.v")
    said = f"{runtime} runs on this machine's Java {jdk.feature}"
    assert (said in log) == (jdk.feature != int(runtime[4:])), log


def ember_log(ember, name: str) -> str:
    """The function's log as Ember wrote it, INIT_START included."""
    def logged() -> str:
        return "".join(json.loads(line)["m"] for path in (ember.data_dir / "logs" / name).rglob("*")
                       if path.is_file() for line in path.read_text().splitlines())
    assert wait_for(lambda: "REPORT RequestId" in logged(), timeout=10)
    return logged()


def test_a_handler_packaged_as_a_jar_in_lib(client, deploy, java_files):
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        for path, data in java_files.items():
            archive.writestr(path, data)
    name = deploy({"lib/handler.jar": jar.getvalue()}, runtime="java17", handler="example.Plain::shout", memory=512)
    assert invoke(client, name, "jar")[1] == "JAR"


def test_a_handler_in_a_layers_java_lib(client, deploy, java_files):
    """AWS puts a layer's java/lib/*.jar on the classpath: here the whole handler comes from the layer."""
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        for path, data in java_files.items():
            archive.writestr(path, data)
    layer = client.publish_layer_version(LayerName="java-handlers",
                                         Content={"ZipFile": make_zip({"java/lib/handler.jar": jar.getvalue()})})
    try:
        name = deploy({"README": "the handler is in the layer"}, runtime="java17", handler="example.Plain::shout",
                      memory=512)
        client.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
        assert invoke(client, name, "layer")[1] == "LAYER"
    finally:
        client.delete_layer_version(LayerName="java-handlers", VersionNumber=layer["Version"])


def test_the_heap_runs_out_before_the_cgroup_kills_the_jvm(client, deploy, java_files):
    name = deploy(java_files, runtime="java17", handler="example.Hungry", memory=128, timeout=30)
    response, error = invoke(client, name, {}, LogType="Tail")
    assert (error["errorType"], error["errorMessage"]) == ("java.lang.OutOfMemoryError", "Java heap space")
    report = next(line for line in base64.b64decode(response["LogResult"]).decode().splitlines()
                  if line.startswith("REPORT"))
    assert "Memory Size: 128 MB" in report
    used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
    assert used < 128, "the JVM stayed inside MemorySize"
    again, error = invoke(client, name, {}, LogType="Tail")
    assert error["errorType"] == "java.lang.OutOfMemoryError", "the same JVM, still holding its heap, fails alike"
    assert "Init Duration" not in base64.b64decode(again["LogResult"]).decode()


def deploy_example(ember, example: str) -> str:
    """`ember deploy` of the example's folder as it is in the repo: the CLI compiles its sources."""
    deployed = subprocess.run([str(BIN / "ember"), "deploy", str(EXAMPLES / example)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "EMBER_ENDPOINT_URL": ember.url})
    assert deployed.returncode == 0, deployed.stderr
    return example


def test_the_hello_java_example(ember, client):
    name = deploy_example(ember, "hello-java")
    try:
        assert client.get_function_configuration(FunctionName=name)["Runtime"] == "java21"
        assert invoke(client, name, {"name": "Ada"})[1] == {"message": "Hello, Ada from Java!"}
    finally:
        client.delete_function(FunctionName=name)


def test_the_state_reuse_java_example_pays_for_its_client_once(ember, client):
    name = deploy_example(ember, "state-reuse-java")
    try:
        cold, first = invoke(client, name, {}, LogType="Tail")
        init_ms = float(base64.b64decode(cold["LogResult"]).decode().split("Init Duration: ")[1].split(" ms")[0])
        assert init_ms >= 400, "the client is made during Init"
        warm, second = invoke(client, name, {}, LogType="Tail")
        assert "Init Duration" not in base64.b64decode(warm["LogResult"]).decode()
        assert (first["calls_in_this_environment"], second["calls_in_this_environment"]) == (1, 2)
        assert second["client_created_at"] == first["client_created_at"] and len(second["brokers"]) == 2
    finally:
        client.delete_function(FunctionName=name)


def test_a_class_missing_from_the_package_is_javas_own_error(client, deploy, java_files):
    files = {path: data for path, data in java_files.items() if path != "example/Uid.class"}
    name = deploy(files, runtime="java17", handler="example.PojoHandler", memory=512)
    assert invoke(client, name, {"op": "count"})[1] == {"count": 1}, "Init didn't need it"
    _, error = invoke(client, name, {"op": "whoami"})
    assert (error["errorType"], error["errorMessage"]) == ("java.lang.NoClassDefFoundError", "example/Uid")
