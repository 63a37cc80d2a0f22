"""A real `ember serve` on a free loopback port, driven by boto3, the AWS CLI and `ember` itself."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from outside import OutsideHost

from ember.runtimes.jvm import JAVAC, built_runtime

BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::000000000000:role/test"
# EMBER_TEST_CLUSTER=ray: every server runs its environments on a one-node Ray cluster it starts itself
# (`ember serve --cluster ray`); README "Running on several machines" names the subset run that way.
CLUSTER = ("--cluster", "ray") if os.environ.get("EMBER_TEST_CLUSTER") == "ray" else ()
STARTUP_TIMEOUT_S = 90 if CLUSTER else 30


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll until `predicate()` is true or `timeout` passes; its last answer, for an `assert`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def invocation_records(data_dir: Path, where: str = "1", params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    """The server's invocation records matching `where` (its connection closed again)."""
    with closing(sqlite3.connect(data_dir / "ember.db")) as db:
        db.row_factory = sqlite3.Row
        return db.execute(f"SELECT * FROM invocations WHERE {where}", params).fetchall()


def wait_for_records(data_dir: Path, count: int, where: str = "1", params: tuple[object, ...] = (),
                     timeout: float = 10.0) -> list[sqlite3.Row]:
    """Records are written in batches: wait until `count` match `where`, then return them."""
    assert wait_for(lambda: len(invocation_records(data_dir, where, params)) >= count, timeout), \
        f"fewer than {count} invocation records where {where} {params}"
    return invocation_records(data_dir, where, params)


class EmberProcess:
    """One `ember serve` child; `url` once it printed its endpoint line. What it prints after that
    line is drained into `output` as it comes (a full pipe would stall the server)."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.url = ""
        self.preamble: list[str] = []  # what it printed before the endpoint line
        self.output: list[str] = []  # every line after it
        self.proc: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None

    def start(self) -> EmberProcess:
        # ResourceWarning shown (Python hides it by default): stop() fails on any the server printed
        env = {**os.environ, "EMBER_HOME": "", "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "always::ResourceWarning"}
        self.proc = subprocess.Popen(
            [str(BIN / "ember"), "serve", "--port", "0", "--data-dir", str(self.data_dir), *CLUSTER, *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
        try:
            self.url = self._wait_for_endpoint()
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            raise
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        return self

    def _read_output(self) -> None:
        """Until EOF (every process holding the pipe is gone), then the pipe is closed here, by its reader."""
        assert self.proc is not None and self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.output.append(line)

    def _wait_for_endpoint(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("Ember endpoint: "):
                self.preamble = seen
                return line.split(": ", 1)[1].strip()
            seen.append(line)
        raise RuntimeError(f"ember serve did not start: {''.join(seen)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the server, wait for it, and close its output pipe once drained (all its output is in
        `output` then)."""
        assert self.proc is not None and self.proc.stdout is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        if self._drain is not None:
            self._drain.join(timeout=timeout)  # EOF once every process holding the pipe is gone
        leaks = [line for line in self.output if "ResourceWarning" in line]
        assert not leaks, "the server leaked (an unclosed socket, file or process):\n" + "".join(leaks)
        return code

    def environment_pids(self) -> set[int]:
        """Live environments: descendants running as a function's uid (the zygote and its spares are root)."""
        import psutil

        found = set()
        for pid in self.child_pids():
            try:
                if psutil.Process(pid).uids().real >= 100_000:
                    found.add(pid)
            except psutil.NoSuchProcess:
                pass
        return found

    def child_pids(self) -> set[int]:
        """Every live process whose ancestor chain includes the server."""
        import psutil

        assert self.proc is not None
        try:
            return {p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()


class Collector:
    """An HTTP endpoint functions report to, on the outside host: sandboxed, they can neither write the
    test's files nor reach the host's loopback.

    POST / appends a JSON line; GET /hold answers 1 while `hold` is set (a function waits on it)."""

    SEND = ("import json, os, urllib.request\n"
            "def send(value):\n"
            "    urllib.request.urlopen(os.environ['OUT'], json.dumps(value).encode(), timeout=10).read()\n"
            "def held():\n"
            "    return urllib.request.urlopen(os.environ['OUT'] + 'hold', timeout=10).read() == b'1'\n")

    def __init__(self, outside: OutsideHost) -> None:
        self.lines: list[object] = []
        self.hold = False
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                collector.lines.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self._answer(b"ok")

            def do_GET(self) -> None:
                self._answer(b"1" if collector.hold else b"0")

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.socket.close()
        self.server.socket = outside.listen()
        self.url = f"http://{outside.address}:{self.server.socket.getsockname()[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def outside() -> Iterator[OutsideHost]:
    """A host of the tests' own, reached by functions only through their egress NAT."""
    host = OutsideHost()
    yield host
    host.close()


@pytest.fixture
def collector(outside: OutsideHost) -> Iterator[Collector]:
    started = Collector(outside)
    yield started
    started.close()


def lambda_client(url: str, secret: str = "test", **config: object) -> object:
    """No client-side retries: a test sees exactly what the server answered (429s included)."""
    settings = {"retries": {"total_max_attempts": 1}, "read_timeout": 120, **config}
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key=secret, config=Config(**settings))


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """Text is dedented, bytes (a binary `bootstrap`) kept; mode 0644 unless `modes` says otherwise."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            archive.writestr(info, textwrap.dedent(source) if isinstance(source, str) else source)
    return buffer.getvalue()


@pytest.fixture(scope="session", params=["zygote", "exec"])
def ember(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    """The shared server, once with environments forked from the zygote and once exec'ing a fresh
    interpreter each: every behaviour test that uses it runs both ways (but those marked `one_mode`)."""
    zygote = "on" if request.param == "zygote" else "off"
    server = EmberProcess(tmp_path_factory.mktemp("ember-data"), "--zygote", zygote).start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `one_mode` runs on the zygote server only: its functions aren't Python, and every other
    runtime execs its interpreter or `bootstrap` whatever `--zygote` says (local.sandbox's `_exec_argv`)."""
    if CLUSTER:
        local = pytest.mark.skip(reason="inspects the local backend itself; in cluster mode that is the node agent's")
        for item in items:
            if item.get_closest_marker("local_backend") is not None:
                item.add_marker(local)
    twice = [item for item in items if item.get_closest_marker("one_mode") is not None
             and getattr(item, "callspec", None) is not None and item.callspec.params.get("ember") == "exec"]
    if twice:
        config.hook.pytest_deselected(items=twice)
        items[:] = [item for item in items if item not in set(twice)]


CLOCK_SPEED = 120  # the scheduler of the `clocked` server: 1 s of wall time is 2 minutes


@pytest.fixture(scope="session")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    """A server whose rules and schedules run on a clock 120 times the wall clock (`rate(1 minute)` every
    0.5 s), with a 4 s keep-alive: a `rate(5 minutes)` ping every 2.5 s keeps an environment warm."""
    server = EmberProcess(tmp_path_factory.mktemp("ember-clocked"), "--clock-speed", str(CLOCK_SPEED),
                          "--keep-alive", "4").start()
    yield server
    server.stop()


def aws_client(url: str, service: str) -> Any:
    """Any of the AWS clients Ember serves on its one endpoint, without client-side retries."""
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def ember_with(tmp_path):
    """A private server started with extra `ember serve` flags; stopped after the test."""
    started: list[EmberProcess] = []

    def _start(*flags: str) -> EmberProcess:
        server = EmberProcess(tmp_path / f"data-{len(started)}", *flags).start()
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def client(ember: EmberProcess):
    return lambda_client(ember.url)


@pytest.fixture
def deploy(client):
    """Create a function from source files; deleted after the test."""
    created = []

    def _deploy(source: str | dict[str, str | bytes], *, handler: str = "index.handler", timeout: int = 3,
                memory: int = 128, env: dict[str, str] | None = None, name: str | None = None,
                runtime: str = "python3.11", modes: dict[str, int] | None = None) -> str:
        files = {"index.py": source} if isinstance(source, str) else source
        fn = name or f"t-{uuid.uuid4().hex[:10]}"
        client.create_function(FunctionName=fn, Runtime=runtime, Role=ROLE, Handler=handler,
                               Code={"ZipFile": make_zip(files, modes)}, Timeout=timeout, MemorySize=memory,
                               Environment={"Variables": env or {}})
        created.append(fn)
        return fn

    yield _deploy
    for fn in created:
        try:
            client.delete_function(FunctionName=fn)
        except client.exceptions.ResourceNotFoundException:
            pass


@pytest.fixture(scope="session")
def go_bootstrap(tmp_path_factory) -> bytes:
    """The Go runtime, built with Debian's golang-go (`make test` installs it; missing, this fails)."""
    assert shutil.which("go"), "go is not installed: `make test` installs golang-go"
    out = tmp_path_factory.mktemp("go") / "bootstrap"
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}  # Go's own build cache: the next run links
    subprocess.run(["go", "build", "-o", str(out), "."], cwd=Path(__file__).parent / "runtimes" / "go", env=env,
                   check=True, timeout=300)
    return out.read_bytes()


@pytest.fixture(scope="session")
def java_classes(tmp_path_factory) -> Path:
    """The Java behaviour handlers, compiled against Ember's clean-room AWS interfaces."""
    out = tmp_path_factory.mktemp("java")
    sources = sorted(str(p) for p in (Path(__file__).parent / "runtimes" / "java").rglob("*.java"))
    subprocess.run([JAVAC, "--release", "17", "-cp", str(built_runtime()), "-d", str(out), *sources],
                   check=True, timeout=300)
    return out
