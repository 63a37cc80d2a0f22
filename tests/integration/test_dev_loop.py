"""`ember dev` run as a user runs it, on a two-function SAM project against a real server: the URLs printed, an
edit of one function served within seconds while the other stays warm, both functions' log lines in one stream
under their names, a syntax error reported while the old code keeps answering, a template edit applied, and
Ctrl-C leaving the stack deployed. The tests share one `ember dev` and run in file order."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import BIN, EmberProcess, lambda_client, wait_for, wait_for_records

DATA = Path(__file__).parent / "data" / "apps"
RELOAD_BOUND_S = 5.0  # generous: CI machines are loaded; bench/dev_reload.py is where 300 ms is judged
GREET = ('import json\n\n\ndef handler(event, context):\n'
         '    return {{"statusCode": 200, "body": json.dumps({{"greeting": "{}"}})}}\n')


class DevProcess:
    """`ember dev` in a project folder; every line it prints collected as it comes."""

    def __init__(self, folder: Path, server: EmberProcess) -> None:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_DEFAULT_REGION": "us-east-1", "EMBER_ENDPOINT_URL": server.url, "PYTHONUNBUFFERED": "1",
               "COLUMNS": "200"}
        self.proc = subprocess.Popen([str(BIN / "ember"), "dev"], cwd=folder, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, after: int = 0, timeout: float = 30.0) -> str:
        """The first line from index `after` on matching `pattern` (a regex)."""
        found: list[str] = []

        def seen() -> bool:
            found[:] = [line for line in self.lines[after:] if re.search(pattern, line)]
            return bool(found) or self.proc.poll() is not None
        wait_for(seen, timeout)
        assert found, f"no line matching {pattern!r} in:\n" + "\n".join(self.lines)
        return found[0]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=20)
        self._reader.join(timeout=5)
        return code


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = EmberProcess(tmp_path_factory.mktemp("dev")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dev-project") / "pair"
    shutil.copytree(DATA / "pair", folder)
    return folder


@pytest.fixture(scope="module")
def dev(server, project):
    started = DevProcess(project, server)
    started.wait_line(r"\| watching template\.yaml")
    yield started
    if started.proc.poll() is None:
        started.proc.kill()
        started.proc.wait()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.url)


def function_name(dev: DevProcess, logical_id: str) -> str:
    line = dev.wait_line(rf"\b(pair-{logical_id}-[A-Z0-9]+)\b")
    found = re.search(rf"\b(pair-{logical_id}-[A-Z0-9]+)\b", line)
    assert found
    return found[1]


def call(lam, name: str) -> tuple[dict, str]:
    """The function's answer body and the call's request id."""
    response = lam.invoke(FunctionName=name)
    assert "FunctionError" not in response
    return json.loads(json.loads(response["Payload"].read())["body"]), response["ResponseMetadata"]["RequestId"]


def test_dev_deploys_and_prints_every_url(dev):
    text = "\n".join(dev.lines)
    assert "Outputs:" in text and "PairApi: http://" in text
    urls = text.split("URLs:", 1)[1]
    assert re.search(r"URL +http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+/", urls)
    for path in ("/greet", "/count"):
        assert re.search(rf"GET +http://[a-z0-9]{{10}}\.execute-api\.us-east-1\.localhost:\d+{path}\b", urls)
    route = re.search(r"GET +(http://\S+/greet)\b", urls)
    assert route
    answer = subprocess.run(["curl", "-s", route[1]], capture_output=True, text=True, timeout=30).stdout
    assert json.loads(answer) == {"greeting": "hello v1"}


def test_an_edit_is_served_at_once_and_the_other_function_stays_warm(dev, project, lam, server):
    greet, count = function_name(dev, "GreetFunction"), function_name(dev, "CountFunction")
    before = call(lam, count)[0]["calls"]
    mark = len(dev.lines)
    (project / "greet" / "app.py").write_text(GREET.format("hello v2"))
    started = time.monotonic()
    answers: list[tuple[dict, str]] = []
    assert wait_for(lambda: answers.append(call(lam, greet)) or answers[-1][0]["greeting"] == "hello v2",
                    RELOAD_BOUND_S, interval=0.01), f"still {answers[-1][0]} after {RELOAD_BOUND_S} s"
    assert time.monotonic() - started < RELOAD_BOUND_S
    first_new = answers[-1][1]
    assert wait_for_records(server.data_dir, 1, "request_id = ?", (first_new,))[0]["cold"] == 1
    answer, request_id = call(lam, count)
    assert answer["calls"] == before + 1  # module state kept: the same environment
    assert wait_for_records(server.data_dir, 1, "request_id = ?", (request_id,))[0]["cold"] == 0
    line = dev.wait_line(r"\| GreetFunction: update code in \d+ ms", after=mark)
    assert "CountFunction" not in line


def test_the_stream_shows_both_functions_lines_under_their_names(dev, lam):
    greet, count = function_name(dev, "GreetFunction"), function_name(dev, "CountFunction")
    call(lam, greet)
    call(lam, count)
    for name in (greet, count):
        dev.wait_line(rf"^{name} +\| START RequestId: ")
        dev.wait_line(rf"^{name} +\| REPORT RequestId: ")


def test_a_syntax_error_is_reported_and_the_old_code_keeps_answering(dev, project, lam):
    greet = function_name(dev, "GreetFunction")
    mark = len(dev.lines)
    (project / "greet" / "app.py").write_text(GREET.format("hello v3").replace("def handler(", "def handler(("))
    line = dev.wait_line(r"SyntaxError", after=mark)
    assert re.search(r"\| greet/app\.py:4:\d+: SyntaxError: .*GreetFunction not deployed", line), line
    assert call(lam, greet)[0] == {"greeting": "hello v2"}
    (project / "greet" / "app.py").write_text(GREET.format("hello v3"))
    assert wait_for(lambda: call(lam, greet)[0]["greeting"] == "hello v3", RELOAD_BOUND_S, interval=0.02)


def test_a_template_edit_applies(dev, project, lam):
    count = function_name(dev, "CountFunction")
    mark = len(dev.lines)
    template = project / "template.yaml"
    variables = "      Environment:\n        Variables:\n          MODE: dev\n"
    template.write_text(template.read_text().replace("      CodeUri: count/\n", f"      CodeUri: count/\n{variables}"))
    dev.wait_line(r"\| template\.yaml: CountFunction: update configuration \(Environment\)", after=mark)
    assert lam.get_function_configuration(FunctionName=count)["Environment"]["Variables"] == {"MODE": "dev"}
    mark = len(dev.lines)
    template.write_text(template.read_text() + "Resources: [\n")
    dev.wait_line(r"\| template\.yaml:\d+:\d+: .*\(the previous version keeps serving\)", after=mark)
    assert call(lam, count)[0]["calls"] >= 1


def test_ctrl_c_exits_zero_and_leaves_the_stack_deployed(dev, lam):
    greet = function_name(dev, "GreetFunction")
    assert dev.stop() == 0
    assert re.search(r"\| stopped; pair stays deployed", dev.lines[-1]), dev.lines[-3:]
    assert call(lam, greet)[0] == {"greeting": "hello v3"}
