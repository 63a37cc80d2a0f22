"""The API under fuzzing: requests generated from botocore's Lambda model (valid and mutated), raw
HTTP abuse and hostile zips. Every answer is AWS's status and error shape; no 500, no traceback, no
hang, no file outside the data dir, no unbounded growth of the server's memory.

A fixed-seed slice runs with the suite; `EMBER_FUZZ_SCALE=20 EMBER_FUZZ_RANDOM=1` makes the long run
(SECURITY.md, "Robustness").
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import ROLE, EmberProcess
from fuzz_model import INVOKED, TARGETS, Built, operation, requests, serialize, wrong_type_for
from fuzz_wire import Wire, assert_aws_answer, assert_raw_aws_answer
from fuzz_zips import HANDLER, hostile_zips
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("EMBER_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Fixed seed (derandomize) in the suite, a random one for long runs; `examples` scaled by EMBER_FUZZ_SCALE."""
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=not os.environ.get("EMBER_FUZZ_RANDOM"),
                    deadline=None, database=None, suppress_health_check=list(HealthCheck))
NAMED = "fz-named"  # never touched by the generated requests: a mutation's error is the body's own
MEMORY_BOUND_MB = 200


class Served:
    """The module's server; its output (EmberProcess drains it) is read at the end."""

    def __init__(self, server: EmberProcess) -> None:
        self.server = server
        self.output = server.output
        self.wire = Wire(server.url)
        self.baseline_mb = 0.0

    def rss_mb(self) -> float:
        assert self.server.proc is not None
        return psutil.Process(self.server.proc.pid).memory_info().rss / 2**20


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = Served(EmberProcess(tmp_path_factory.mktemp("fuzz-data")).start())
    for name in (*TARGETS, INVOKED, NAMED):
        create(started.wire, name)
    started.wire.send("POST", f"/2015-03-31/functions/{NAMED}/aliases",
                      json.dumps({"Name": "live", "FunctionVersion": "$LATEST"}).encode())
    started.baseline_mb = started.rss_mb()
    yield started
    started.server.stop()


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the data dir that hostile zips aim at: it must stay empty."""
    return tmp_path_factory.mktemp("outside")


def create(wire: Wire, name: str, code: bytes | None = None) -> object:
    from conftest import make_zip

    zipped = code if code is not None else make_zip({"index.py": HANDLER.decode()})
    body = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "index.handler",
            "Code": {"ZipFile": base64.b64encode(zipped).decode()}}
    return wire.send("POST", "/2015-03-31/functions", json.dumps(body).encode())


def send(wire: Wire, built: Built):
    return wire.send(built.method, built.path, built.body, built.headers)


@fuzz(2400)
@given(built=requests())
def test_model_generated_requests_get_aws_answers(served, built):
    assert_aws_answer(send(served.wire, built))


BODY_OPERATIONS = {"CreateFunction": {}, "UpdateFunctionConfiguration": {"FunctionName": NAMED},
                   "UpdateFunctionCode": {"FunctionName": NAMED}, "PublishVersion": {"FunctionName": NAMED},
                   "CreateAlias": {"FunctionName": NAMED}, "UpdateAlias": {"FunctionName": NAMED, "Name": "live"},
                   "PutFunctionConcurrency": {"FunctionName": NAMED}, "TagResource": {
                       "Resource": f"arn:aws:lambda:us-east-1:000000000000:function:{NAMED}"},
                   "PutProvisionedConcurrencyConfig": {"FunctionName": NAMED, "Qualifier": "live"}}


@st.composite
def one_bad_member(draw: st.DrawFn) -> tuple[Built, str, str]:
    """A body with one member of the wrong type or below its minimum, on a function that exists."""
    name = draw(st.sampled_from(sorted(BODY_OPERATIONS)))
    model = operation(name)
    members = {n: m for n, m in model.input_shape.members.items() if not m.serialization.get("location")}
    member = draw(st.sampled_from(sorted(members)))
    shape = members[member]
    if shape.type_name in ("integer", "long") and "min" in shape.metadata and draw(st.booleans()):
        value, expected = shape.metadata["min"] - draw(st.integers(1, 10**6)), "ValidationException"
    else:
        value, expected = draw(wrong_type_for(shape)), "InvalidRequestContentException"
    body = json.dumps({member: value}).encode()
    return serialize(model, BODY_OPERATIONS[name], body), member[:1].lower() + member[1:], expected


@fuzz(300)
@given(case=one_bad_member())
def test_each_error_names_the_member_and_the_constraint(served, case):
    built, member, expected = case
    answer = send(served.wire, built)
    assert_aws_answer(answer)
    assert (answer.status, answer.headers["x-amzn-errortype"]) == (400, expected), answer.body
    message = answer.error()["message"]
    assert f"at '{member}" in message, message
    assert "failed to satisfy constraint" in message or "Cannot deserialize value of type" in message, message


@fuzz(200)
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                      st.integers(1, 300_000).map(lambda n: b'{"a":' * n),
                      st.sampled_from([b"{", b'{"FunctionName": }', b"[]", b"null", b'"x"', b"1e999999",
                                       b'{"a": NaN}', b'{"FunctionName": "\\ud800"}', b"\xff\xfe{}"])))
def test_malformed_json_is_invalid_request_content(served, body):
    for path in ("/2015-03-31/functions", f"/2015-03-31/functions/{NAMED}/configuration"):
        answer = served.wire.send("PUT" if "configuration" in path else "POST", path, body)
        assert_aws_answer(answer)


@fuzz(150)
@given(method=st.one_of(st.from_regex(r"[A-Z]{1,12}", fullmatch=True),
                        st.sampled_from(["OPTIONS", "TRACE", "CONNECT", "PATCH", "PROPFIND", "M-SEARCH", "get"])),
       path=st.sampled_from(["/", "/2015-03-31/functions", f"/2015-03-31/functions/{NAMED}", "*", "/%", "//..",
                             "example.com:443"]))
def test_any_method_on_any_path_gets_an_aws_error(served, method, path):
    raw = served.wire.raw(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert_raw_aws_answer(raw)


def test_signed_odd_methods_are_unknown_operations(served):
    for method in ("OPTIONS", "TRACE", "PATCH", "PROPFIND"):
        answer = served.wire.send(method, "/2015-03-31/functions")
        assert (answer.status, answer.headers["x-amzn-errortype"]) == (404, "UnknownOperationException")


def test_a_lying_content_length_stalls_nobody(served):
    """A body shorter than its Content-Length holds its own connection only; one longer is cut."""
    import socket

    with socket.create_connection(served.wire.host) as liar:
        liar.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
        started = time.monotonic()
        assert_aws_answer(served.wire.send("GET", "/2015-03-31/functions"))
        assert time.monotonic() - started < 5
    raw = served.wire.raw(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                          b"Connection: close\r\n\r\n{}GARBAGE\r\n\r\n")
    assert_raw_aws_answer(raw)


def test_a_slow_body_is_answered(served):
    import socket

    body = json.dumps({"FunctionName": "x y"}).encode()
    with socket.create_connection(served.wire.host, timeout=30) as slow:
        slow.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        try:
            for byte in body:
                slow.sendall(bytes([byte]))
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass  # unsigned: refused before its body, and the connection closed
        raw = slow.recv(65536)
    assert_raw_aws_answer(raw)


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024, 1024 * 1024])
def test_oversized_headers_get_an_aws_answer(served, size):
    raw = served.wire.raw(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size
                          + b"\r\nConnection: close\r\n\r\n")
    assert_raw_aws_answer(raw)
    answer = served.wire.send("GET", "/2015-03-31/functions", headers={"X-Big": "b" * size})
    assert_aws_answer(answer)


@pytest.mark.parametrize("operation_name", ["CreateFunction", "UpdateFunctionCode"])
def test_hostile_zips_are_refused_or_contained(served, outside, operation_name):
    for index, (case, build) in enumerate(hostile_zips(outside / "escaped").items()):
        zipped = base64.b64encode(build()).decode()
        if operation_name == "CreateFunction":
            answer = create(served.wire, f"fz-zip-{index}", build())
        else:
            answer = served.wire.send("PUT", f"/2015-03-31/functions/{NAMED}/code",
                                      json.dumps({"ZipFile": zipped}).encode())
        assert_aws_answer(answer)
        assert not list(outside.iterdir()), f"{case} wrote {list(outside.iterdir())}"
        assert not Path("/escaped").exists(), case


def test_zips_wrote_only_inside_the_data_dir(served, outside):
    """A zip's symlinks stay symlinks with any target (they resolve inside the sandbox's root, as on
    AWS); what must hold is that nothing was written through one, outside the data dir."""
    assert not outside.exists() or not any(outside.rglob("*")), list(outside.rglob("*"))
    data_dir = served.server.data_dir.resolve()
    for root, dirs, files in os.walk(data_dir):  # tolerant of the code collector removing trash meanwhile
        for path in (Path(root) / name for name in dirs + files):
            if not path.is_symlink():
                assert data_dir in path.resolve().parents, path


def test_the_server_stayed_sound(served):
    """Last: no traceback was logged, memory grew less than the bound, and it still answers."""
    assert_aws_answer(served.wire.send("GET", "/2015-03-31/functions"))
    output = "".join(served.output)
    assert "Traceback" not in output, output[-4000:]
    growth = served.rss_mb() - served.baseline_mb
    assert growth < MEMORY_BOUND_MB, f"server memory grew {growth:.0f} MB"
    print(f"\nfuzz: {served.wire.count} requests, server memory +{growth:.0f} MB\n" + output[-3000:])
