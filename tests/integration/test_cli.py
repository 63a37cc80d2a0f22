"""The AWS CLI and `ember`'s own commands against a real server: exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, EmberProcess, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": "us-east-1", **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout)


def ember_cli(server: EmberProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    return run(str(BIN / "ember"), *argv, env={"EMBER_ENDPOINT_URL": server.url})


def test_aws_cli_invokes_a_function(ember, tmp_path):
    deployed = ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "cli-hello")
    assert deployed.returncode == 0, deployed.stderr
    out = tmp_path / "out.json"
    result = run(str(BIN / "aws"), "lambda", "invoke", "--endpoint-url", ember.url, "--function-name", "cli-hello",
                 "--payload", '{"name": "CLI"}', str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(out.read_text()) == {"message": "Hello, CLI!"}


def test_aws_cli_lists_and_reads_logs(ember):
    assert ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "cli-logs").returncode == 0
    assert ember_cli(ember, "invoke", "cli-logs").returncode == 0
    listed = run(str(BIN / "aws"), "lambda", "list-functions", "--endpoint-url", ember.url)
    assert "cli-logs" in [fn["FunctionName"] for fn in json.loads(listed.stdout)["Functions"]]
    events = run(str(BIN / "aws"), "logs", "filter-log-events", "--endpoint-url", ember.url,
                 "--log-group-name", "/aws/lambda/cli-logs")
    assert events.returncode == 0, events.stderr
    messages = [event["message"] for event in json.loads(events.stdout)["events"]]
    assert any(m.startswith("REPORT RequestId: ") for m in messages)


def test_ember_deploy_invoke_ls_logs_rm(ember):
    deployed = ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "flow", "--memory", "256", "--env", "AB=1")
    assert deployed.returncode == 0 and "deployed flow" in deployed.stdout
    invoked = ember_cli(ember, "invoke", "flow", "--payload", '{"name": "Ada"}', "--tail")
    assert invoked.returncode == 0
    assert json.loads(invoked.stdout) == {"message": "Hello, Ada!"}
    assert "REPORT RequestId:" in invoked.stderr and "StatusCode 200" in invoked.stderr
    assert "flow" in ember_cli(ember, "ls").stdout
    logs = ember_cli(ember, "logs", "flow", "--since", "10m")
    kinds = [line.split(" ", 1)[0] for line in logs.stdout.splitlines()]
    assert kinds[:4] == ["INIT_START", "START", "END", "REPORT"], logs.stdout
    redeployed = ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "flow")
    assert redeployed.returncode == 0 and "256 MB" in redeployed.stdout, "an update keeps settings not given"
    assert ember_cli(ember, "rm", "flow").returncode == 0


def test_ember_logs_follow_prints_new_calls(ember):
    assert ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "follow-me").returncode == 0
    with subprocess.Popen([str(BIN / "ember"), "logs", "follow-me", "--follow", "--endpoint-url", ember.url],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as follower:  # pipes closed after
        try:
            assert ember_cli(ember, "invoke", "follow-me").returncode == 0
            seen = []
            while not any(line.startswith("REPORT") for line in seen):
                seen.append(follower.stdout.readline())
                assert seen[-1], f"follower ended early: {follower.stderr.read()}"
            assert [line.split(" ", 1)[0] for line in seen] == ["INIT_START", "START", "END", "REPORT"]
        finally:
            follower.kill()


def test_ember_invoke_payload_file_and_async(ember, tmp_path):
    assert ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "payload-file").returncode == 0
    payload = tmp_path / "event.json"
    payload.write_text('{"name": "File"}')
    assert json.loads(ember_cli(ember, "invoke", "payload-file", "--payload", f"@{payload}").stdout) == {
        "message": "Hello, File!"}
    queued = ember_cli(ember, "invoke", "payload-file", "--async")
    assert queued.returncode == 0 and "StatusCode 202" in queued.stderr


def test_function_error_exits_1_and_api_error_exits_2(ember, tmp_path):
    folder = tmp_path / "boom"
    folder.mkdir()
    (folder / "index.py").write_text("def handler(e, c):\n    raise KeyError('action')\n")
    assert ember_cli(ember, "deploy", str(folder)).returncode == 0
    failed = ember_cli(ember, "invoke", "boom")
    assert failed.returncode == 1 and json.loads(failed.stdout)["errorType"] == "KeyError"
    missing = ember_cli(ember, "invoke", "no-such-function")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "ember: ResourceNotFoundException: Function not found: "
        "arn:aws:lambda:us-east-1:000000000000:function:no-such-function:$LATEST"]


@pytest.mark.parametrize("argv", [
    ["invoke", "x", "--payload", "@/no/such/file.json"],
    ["deploy", "/no/such/folder"],
    ["logs", "x", "--since", "yesterday"],
])
def test_cli_errors_are_one_line(ember, argv):
    result = ember_cli(ember, *argv)
    assert result.returncode == 4, "a local mistake, not the API error's 2"
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["invoke"], ["ls", "--bogus"], ["deploy", ".", "--memory", "lots"],
                                  ["deploy", str(EXAMPLES / "hello"), "--env", "A"], ["pricing", "--model", "1999"]])
def test_usage_mistakes_have_their_own_exit_code(ember, argv):
    result = ember_cli(ember, *argv)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr


def test_ls_piped_prints_whole_names(ember):
    name = "a-function-whose-name-is-far-too-long-for-eighty-columns-" + "x" * 7
    assert ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", name).returncode == 0
    listed = ember_cli(ember, "ls")
    assert listed.returncode == 0 and "…" not in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if line.startswith(name))
    assert row.split()[1:4] == ["python3.11", "128", "MB"], row
    assert ember_cli(ember, "rm", name).returncode == 0


def test_a_server_off_the_default_port_prints_the_export_line_the_cli_needs(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    try:
        assert wait_for(lambda: len(server.output) >= 2, timeout=10), server.output
        following = server.output[:2]
        assert following[1:] == [f"  export EMBER_ENDPOINT_URL={server.url}\n"], following
    finally:
        server.stop()


def test_unreachable_endpoint_is_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(str(BIN / "ember"), "ls", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 2
    assert result.stderr.startswith(f"ember: cannot reach Ember at http://127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_busy_port_is_a_one_line_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run(str(BIN / "ember"), "serve", "--port", str(port), "--data-dir", str(tmp_path), timeout=30)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [f"ember: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_non_loopback_with_default_credentials_is_refused(tmp_path):
    result = run(str(BIN / "ember"), "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1 and "refusing to listen on 0.0.0.0" in result.stderr


def test_make_run_style_deploy_prints_endpoint_first(tmp_path):
    server = EmberProcess(tmp_path / "data", "--deploy", str(EXAMPLES / "hello"))
    server.start()
    try:
        assert not any("http://127.0.0.1:" in line for line in server.preamble), server.preamble
        from conftest import lambda_client

        client = lambda_client(server.url)
        response = client.invoke(FunctionName="hello", Payload=b'{"name": "Run"}')
        assert json.loads(response["Payload"].read()) == {"message": "Hello, Run!"}
    finally:
        server.stop()


def test_aws_cli_versions_aliases_and_concurrency(ember, tmp_path):
    assert ember_cli(ember, "deploy", str(EXAMPLES / "hello"), "--name", "cli-versions").returncode == 0
    aws = [str(BIN / "aws"), "lambda", "--endpoint-url", ember.url]
    published = run(*aws, "publish-version", "--function-name", "cli-versions")
    assert json.loads(published.stdout)["Version"] == "1", published.stderr
    alias = run(*aws, "create-alias", "--function-name", "cli-versions", "--name", "live", "--function-version", "1")
    assert json.loads(alias.stdout)["AliasArn"].endswith(":cli-versions:live"), alias.stderr
    out = tmp_path / "out.json"
    invoked = run(*aws, "invoke", "--function-name", "cli-versions", "--qualifier", "live", str(out))
    assert json.loads(invoked.stdout)["ExecutedVersion"] == "1" and json.loads(out.read_text())["message"]
    put = run(*aws, "put-function-concurrency", "--function-name", "cli-versions",
              "--reserved-concurrent-executions", "0")
    assert put.returncode == 0, put.stderr
    throttled = run(*aws, "invoke", "--function-name", "cli-versions", "--cli-read-timeout", "5", str(out),
                    env={"AWS_MAX_ATTEMPTS": "1"})
    assert throttled.returncode != 0 and "TooManyRequestsException" in throttled.stderr


def test_deploy_warns_of_extensions_built_for_another_python(ember_with, tmp_path):
    server = ember_with()
    folder = tmp_path / "compiled"
    (folder / "fastlib").mkdir(parents=True)
    (folder / "index.py").write_text("def handler(e, c):\n    return 1\n")
    other = f"cpython-3{sys.version_info.minor + 1}-x86_64-linux-gnu"
    (folder / "fastlib" / f"_speedups.{other}.so").write_bytes(b"\x7fELF")
    for _ in range(2):  # CreateFunction, then UpdateFunctionCode
        deployed = ember_cli(server, "deploy", str(folder), "--runtime", "python3.12")
        assert deployed.returncode == 0, deployed.stderr
        warning = [line for line in deployed.stderr.splitlines() if line.startswith("ember: warning: ")]
        assert len(warning) == 1 and f"fastlib/_speedups.{other}.so" in warning[0], deployed.stderr
        assert f"Python {sys.version.split()[0]}" in warning[0]
    server.stop()
    logged = [line.rstrip("\n") for line in server.output if f"_speedups.{other}.so" in line]
    assert len(logged) == 2 and all(line.startswith("ember: WARNING") for line in logged), logged
