"""The async queue's handling of each outcome, on a real database and a scripted invoker (no sandbox):
which outcomes are retried, which count as attempts, and where a finished event's record goes."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest

from ember.core.database import open_database
from ember.core.invoker import InvokeRequest, InvokeResult
from ember.errors import ResourceNotFoundException, ServiceException, TooManyRequestsException
from ember.events.async_queue import EventQueue
from ember.events.failed_events import FailedEvents
from ember.events.invoke_configs import EventConfig

SCALE = 1e-4  # a 1-minute retry waits 6 ms
ERROR = json.dumps({"errorType": "ValueError", "errorMessage": "no"}).encode()


class ScriptedInvoker:
    """Answers each call with the next scripted outcome (a result, or an exception to raise); then succeeds."""

    region = "us-east-1"

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.calls: list[InvokeRequest] = []
        self.limiter = SimpleNamespace(on_release=lambda listener: None)
        self.registry = SimpleNamespace(subscribe=lambda listener: None, exists=lambda name: True)

    def resolve(self, name: str, qualifier: str | None) -> SimpleNamespace:
        return SimpleNamespace(config={})

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        self.calls.append(request)
        step = self.script.pop(0) if self.script else ok()
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, InvokeResult)
        return step


def ok(payload: bytes = b'"done"') -> InvokeResult:
    return InvokeResult("", payload, "$LATEST")


def failed() -> InvokeResult:
    return InvokeResult("", ERROR, "$LATEST", function_error="Unhandled")


class Configs:
    def __init__(self, config: EventConfig) -> None:
        self.config = config

    def lookup(self, name: str, qualifier: str | None) -> EventConfig:
        return self.config if name == "fn" else EventConfig()


DEFAULTS = EventConfig()


def drain(tmp_path, invoker: ScriptedInvoker, config: EventConfig = DEFAULTS,
          accepted_at: float | None = None) -> tuple[EventQueue, FailedEvents]:
    """Enqueue one event for `fn` and run the queue until nothing is left in it."""
    db = open_database(tmp_path / "ember.db")
    failed_store = FailedEvents(db)
    queue = EventQueue(db, invoker, Configs(config), failed_store, retry_scale=SCALE)  # type: ignore[arg-type]

    async def run() -> None:
        queue.enqueue("req-1", "fn", None, b'{"n": 1}', accepted_at=accepted_at)
        worker = asyncio.create_task(queue.run())
        deadline = time.monotonic() + 10
        while db.execute("SELECT count(*) FROM event_queue").fetchone()[0] and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        worker.cancel()
        await queue.stop()

    asyncio.run(run())
    return queue, failed_store


def test_system_errors_and_throttles_are_retried_without_using_up_attempts(tmp_path):
    invoker = ScriptedInvoker(RuntimeError("no environment"), ServiceException("boom"),
                              TooManyRequestsException("Rate Exceeded."), ok())
    _, failed_store = drain(tmp_path, invoker, EventConfig(max_retries=0))
    assert [call.request_id for call in invoker.calls] == ["req-1"] * 4, "the same request id each time"
    assert failed_store.of("fn") == []


def test_a_function_error_with_no_retries_left_is_kept_in_the_failed_events_store(tmp_path):
    invoker = ScriptedInvoker(failed(), failed())
    _, failed_store = drain(tmp_path, invoker, EventConfig(max_retries=1))
    assert len(invoker.calls) == 2
    [event] = failed_store.of("fn")
    assert (event.request_id, event.condition, event.attempts, event.error, event.targets) == \
        ("req-1", "RetriesExhausted", 2, "ValueError", ())
    assert event.payload == b'{"n": 1}'


def test_an_event_whose_version_is_gone_is_rejected_at_once(tmp_path):
    invoker = ScriptedInvoker(ResourceNotFoundException("Function not found: x"))
    _, failed_store = drain(tmp_path, invoker)
    [event] = failed_store.of("fn")
    assert (event.condition, event.attempts) == ("Rejected", 0)
    assert event.error == "ResourceNotFoundException: Function not found: x"


def test_an_expired_event_never_runs(tmp_path):
    invoker = ScriptedInvoker()
    _, failed_store = drain(tmp_path, invoker, EventConfig(max_age_s=60), accepted_at=time.time() - 1)
    assert invoker.calls == []
    assert [event.condition for event in failed_store.of("fn")] == ["EventAgeExceeded"]


def test_a_non_function_destination_is_named_in_the_failed_event(tmp_path):
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:q"
    _, failed_store = drain(tmp_path, ScriptedInvoker(failed()), EventConfig(max_retries=0, on_failure=queue_arn))
    assert [event.targets for event in failed_store.of("fn")] == [(queue_arn,)]


@pytest.mark.parametrize("outcome, condition", [(ok, "Success"), (failed, "RetriesExhausted")])
def test_a_function_destination_gets_the_record_as_an_event_of_its_own(tmp_path, outcome, condition):
    dest = "arn:aws:lambda:us-east-1:000000000000:function:dest:live"
    config = EventConfig(max_retries=0, on_success=dest, on_failure=dest)
    invoker = ScriptedInvoker(outcome())
    _, failed_store = drain(tmp_path, invoker, config)
    delivered = invoker.calls[1]
    assert (delivered.function, delivered.qualifier, delivered.source) == ("dest", "live", "event")
    assert delivered.request_id != "req-1"
    record = json.loads(delivered.payload)
    assert record["requestContext"]["condition"] == condition
    assert record["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST"
    assert failed_store.of("fn") == [], "a function destination received it"
