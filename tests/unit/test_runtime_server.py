"""ember.api.runtime_server over a real loopback socket, with an endpoint that records what reaches it:
keep-alive, pipelining in order, streamed bodies and their trailers, bodies over the limit, the
Runtime API's refusals, 100-continue, a runtime that goes away while waiting, and read deadlines."""

from __future__ import annotations

import asyncio
import json

import uvloop

from ember.api import deadlines, runtime_listener, runtime_server
from ember.api.runtime_api import BODY_LIMIT
from ember.execution.model import Invocation
from ember.execution.violations import InvalidRequestID, InvalidStateTransition, PayloadTooLarge

NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path: str, body: bytes = b"{}", *headers: str) -> bytes:
    head = [f"POST /2018-06-01/runtime{path} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Endpoint:
    """A RuntimeEndpoint that hands out queued events and records every call; request id "r1" only."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Invocation] = asyncio.Queue()
        self.calls: list[tuple] = []
        self.withdrawn = False

    async def runtime_next(self) -> Invocation:
        if self.calls and self.calls[-1] == ("next",):
            raise InvalidStateTransition()
        self.calls.append(("next",))
        try:
            return await self.events.get()
        except asyncio.CancelledError:
            self.withdrawn = True
            raise

    def _check(self, request_id: str) -> None:
        if request_id != "r1":
            raise InvalidRequestID()

    def runtime_response(self, request_id: str, body: bytes) -> None:
        self._check(request_id)
        if len(body) > BODY_LIMIT:
            raise PayloadTooLarge(BODY_LIMIT)
        self.calls.append(("response", request_id, body))

    def runtime_stream_chunk(self, request_id: str, chunk: bytes) -> None:
        self._check(request_id)
        self.calls.append(("chunk", chunk))

    def runtime_stream_end(self, request_id: str, error_type: str | None = None, error_body: bytes = b"") -> None:
        self.calls.append(("end", error_type, error_body))

    def runtime_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        self._check(request_id)
        self.calls.append(("error", error_type, body))

    def runtime_init_error(self, body: bytes, error_type: str | None) -> None:
        raise InvalidStateTransition()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(head[0].split()[1]), headers, body


def run(scenario, loop_factory=asyncio.new_event_loop):
    """Run `scenario(endpoint, reader, writer)` against a listener serving one Endpoint."""
    async def main():
        endpoint = Endpoint()
        listener = await runtime_listener.RuntimeApiServer().open(endpoint)
        host, port = listener.address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            return await asyncio.wait_for(scenario(endpoint, reader, writer), 10)
        finally:
            writer.close()
            listener.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


def test_next_waits_for_its_event_and_the_response_follows_on_the_same_connection():
    async def scenario(endpoint, reader, writer):
        writer.write(NEXT)
        await asyncio.sleep(0.05)
        endpoint.events.put_nowait(Invocation("r1", b'{"n": 1}', 123, "arn:x", "Root=1", client_context="{}"))
        status, headers, body = await read_response(reader)
        writer.write(post("/invocation/r1/response", b'"done"'))
        return (status, headers, body), await read_response(reader), endpoint.calls

    (status, headers, body), accepted, calls = run(scenario)
    assert (status, body) == (200, b'{"n": 1}')
    assert headers["lambda-runtime-aws-request-id"] == "r1" and headers["lambda-runtime-deadline-ms"] == "123"
    assert headers["lambda-runtime-invoked-function-arn"] == "arn:x"
    assert headers["lambda-runtime-client-context"] == "{}"
    assert "date" in headers and "connection" not in headers
    assert accepted[0] == 202 and json.loads(accepted[2]) == {"status": "OK"}
    assert calls == [("next",), ("response", "r1", b'"done"')]


def test_the_runtime_api_runs_on_uvloop_as_on_asyncio():
    """A Ray worker runs the node agent's loop on uvloop where it is installed (uvicorn[standard] brings it),
    and uvloop's transports are not asyncio.Transport instances: the agent's runtimes all exited at once."""
    async def scenario(endpoint, reader, writer):
        writer.write(NEXT)
        await asyncio.sleep(0.05)
        endpoint.events.put_nowait(Invocation("r1", b"{}", 123, "arn:x", "Root=1"))
        first = await read_response(reader)
        writer.write(post("/invocation/r1/response", b'"done"'))
        return first[0], (await read_response(reader))[0]

    assert run(scenario, loop_factory=uvloop.new_event_loop) == (200, 202)


def test_a_calls_end_is_accepted_only_after_the_task_waiting_for_it_ran(monkeypatch):
    """The invoker's task resumes (and answers its caller) before the 202 goes out, so neither that write nor
    the runtime's next `next` sits between the function's answer and the caller's."""
    order = []
    write = runtime_server.RuntimeConnection._write
    monkeypatch.setattr(runtime_server.RuntimeConnection, "_write",
                        lambda self, answer, close: (order.append(answer[0]), write(self, answer, close)))

    async def scenario(endpoint, reader, writer):
        answered = asyncio.get_running_loop().create_future()
        record = endpoint.runtime_response
        endpoint.runtime_response = lambda request_id, body: (record(request_id, body), answered.set_result(body))

        async def caller():
            order.append(await answered)

        waiting = asyncio.create_task(caller())
        writer.write(NEXT)
        await asyncio.sleep(0.05)
        endpoint.events.put_nowait(Invocation("r1", b"{}", 123, "arn:x", "Root=1"))
        await read_response(reader)
        writer.write(post("/invocation/r1/response", b'"done"') + NEXT)
        accepted = await read_response(reader)
        await waiting
        return accepted[0]

    assert run(scenario) == 202
    assert order == [200, b'"done"', 202]


def test_pipelined_requests_are_answered_in_order():
    async def scenario(endpoint, reader, writer):
        writer.write(NEXT + post("/invocation/r1/response", b"1") + post("/invocation/other/response"))
        await asyncio.sleep(0.05)  # the two posts wait behind `next`, which waits for its event
        calls_meanwhile = list(endpoint.calls)
        endpoint.events.put_nowait(Invocation("r1", b"{}", 1, "arn:x", "t"))
        return calls_meanwhile, [(await read_response(reader))[0] for _ in range(3)], endpoint.calls

    calls_meanwhile, statuses, calls = run(scenario)
    assert calls_meanwhile == [("next",)]
    assert statuses == [200, 202, 400]
    assert calls == [("next",), ("response", "r1", b"1")]


def test_a_streamed_body_reaches_the_environment_as_it_arrives_and_its_trailers_end_it():
    async def scenario(endpoint, reader, writer):
        writer.write(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\n"
                     b"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
                     b"Trailer: Lambda-Runtime-Function-Error-Type\r\n\r\n4\r\none \r\n")
        while ("chunk", b"one ") not in endpoint.calls:
            await asyncio.sleep(0.01)
        writer.write(b"3\r\ntwo\r\n0\r\nLambda-Runtime-Function-Error-Type: Broke\r\n"
                     b"Lambda-Runtime-Function-Error-Body: eyJhIjogMX0=\r\n\r\n")
        return await read_response(reader), endpoint.calls

    (status, _, _), calls = run(scenario)
    assert status == 202
    assert calls == [("chunk", b"one "), ("chunk", b"two"), ("end", "Broke", b'{"a": 1}')]


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_sent():
    async def scenario(endpoint, reader, writer):
        writer.write(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: %d\r\n\r\n" % (BODY_LIMIT + 1000))
        status, _, body = await read_response(reader)
        writer.write(b"x" * (BODY_LIMIT + 1000) + post("/invocation/r1/response", b"2"))
        return status, json.loads(body), await read_response(reader)

    status, body, after = run(scenario)
    assert status == 413 and body["errorType"] == "RequestEntityTooLarge"
    assert after[0] == 202, "the dropped body is read past and the connection kept"


def test_refusals_are_the_runtime_apis():
    async def scenario(endpoint, reader, writer):
        writer.write(post("/invocation/zzz/response") + post("/init/error") + post("/nowhere")
                     + b"PUT /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        return [await read_response(reader) for _ in range(4)]

    answers = run(scenario)
    assert [status for status, _, _ in answers] == [400, 403, 404, 405]
    assert json.loads(answers[0][2]) == {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"}
    assert json.loads(answers[1][2])["errorType"] == "InvalidStateTransition"


def test_expect_100_continue_is_answered_before_the_body():
    async def scenario(endpoint, reader, writer):
        writer.write(b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        interim = await reader.readuntil(b"\r\n\r\n")
        writer.write(b"ok")
        return interim, await read_response(reader)

    interim, (status, _, _) = run(scenario)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n" and status == 202


def test_a_runtime_that_goes_away_while_waiting_withdraws_its_next():
    async def scenario(endpoint, reader, writer):
        writer.write(NEXT)
        while not endpoint.calls:
            await asyncio.sleep(0.01)
        writer.close()
        while not endpoint.withdrawn:
            await asyncio.sleep(0.01)
        return endpoint.withdrawn

    assert run(scenario)


def test_an_unparseable_request_is_400_and_the_connection_closes():
    async def scenario(endpoint, reader, writer):
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        status, headers, _ = await read_response(reader)
        return status, headers, await reader.read()

    status, headers, rest = run(scenario)
    assert status == 400 and headers["connection"] == "close" and rest == b""


def test_a_head_that_stops_arriving_is_closed_but_a_waiting_next_is_not(monkeypatch):
    monkeypatch.setattr(runtime_server, "HEAD_TIMEOUT_S", 0.2)
    monkeypatch.setattr(deadlines, "SWEEP_S", 0.05)

    async def scenario(endpoint, reader, writer):
        host, port = writer.get_extra_info("peername")[:2]
        slow_reader, slow_writer = await asyncio.open_connection(host, port)
        slow_writer.write(b"GET /2018-06-01/runtime/inv")
        writer.write(NEXT)
        closed = await asyncio.wait_for(slow_reader.read(), 2)
        slow_writer.close()
        await asyncio.sleep(0.3)
        endpoint.events.put_nowait(Invocation("r1", b"{}", 1, "arn:x", "t"))
        return closed, await read_response(reader)

    closed, (status, _, _) = run(scenario)
    assert closed == b"" and status == 200


def test_a_connection_accepted_as_its_listener_closes_is_still_served():
    async def main():
        endpoint = Endpoint()
        listener = await runtime_listener.RuntimeApiServer().open(endpoint)
        host, port = listener.address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        listener._accept()  # the listener takes the connection (as its reader would) ...
        listener.close()  # ... and its environment is destroyed before the connection is set up
        writer.write(post("/invocation/r1/response", b"1"))
        try:
            return (await asyncio.wait_for(read_response(reader), 5))[0]
        finally:
            writer.close()

    assert asyncio.run(main()) == 202
