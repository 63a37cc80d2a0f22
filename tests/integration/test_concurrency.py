"""Reserved concurrency, the account limit, throttling with AWS's 429, and throttled events."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROLE, Collector, lambda_client, make_zip

SLOW = "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'ok'\n"


def throttle_reason(client, **invoke_args) -> tuple[str, dict]:
    with pytest.raises(client.exceptions.TooManyRequestsException) as info:
        client.invoke(**invoke_args)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    return response["Reason"], response["ResponseMetadata"]["HTTPHeaders"]


def test_reserved_concurrency_one_throttles_the_second_call(client, deploy):
    name = deploy(SLOW, timeout=10)
    assert client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)[
        "ReservedConcurrentExecutions"] == 1
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.invoke, FunctionName=name, Payload=b'{"s": 1.5}')
        time.sleep(0.5)
        reason, headers = throttle_reason(client, FunctionName=name)
        assert reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert headers["retry-after"] == "1"
        assert slow.result()["Payload"].read() == b'"ok"'
    assert client.invoke(FunctionName=name)["StatusCode"] == 200, "the slot was given back"


def test_reserved_concurrency_zero_throttles_everything_and_events_wait(client, deploy, collector):
    name = deploy(Collector.SEND + "def handler(e, c):\n    send('x')\n    return 1\n", env={"OUT": collector.url})
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    reason, _ = throttle_reason(client, FunctionName=name)
    assert reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert client.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202
    time.sleep(1.5)
    assert collector.lines == [], "a throttled event must wait"
    client.delete_function_concurrency(FunctionName=name)
    deadline = time.monotonic() + 10
    while not collector.lines and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.2)
    assert collector.lines == ["x"], "the throttled event ran once concurrency allowed it"


def test_concurrency_settings_round_trip(client, deploy):
    name = deploy(SLOW)
    assert client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert "Concurrency" not in client.get_function(FunctionName=name)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 7
    assert client.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 7}
    settings = client.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 993
    client.delete_function_concurrency(FunctionName=name)
    assert client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None


def test_reservations_must_leave_100_unreserved(client, deploy):
    name = deploy(SLOW)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=r"minimum value of \[100\]"):
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=900)
    other = deploy(SLOW)
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=1)
    client.delete_function_concurrency(FunctionName=name)


@pytest.fixture
def small_account(ember_with):
    return ember_with("--account-concurrency", "2")


def test_account_limit_throttles_unreserved_functions(small_account):
    client = lambda_client(small_account.url)
    for name in ("a", "b"):
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": SLOW})}, Timeout=10)
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(client.invoke, FunctionName=n, Payload=b'{"s": 1.5}') for n in ("a", "b")]
        time.sleep(0.7)
        reason, _ = throttle_reason(client, FunctionName="a")
        assert reason == "ConcurrentInvocationLimitExceeded"
        assert [json.loads(f.result()["Payload"].read()) for f in running] == ["ok", "ok"]
    assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2


def test_throttled_events_drain_as_fast_as_the_reservation_allows(ember, client, deploy):
    """The audit's case: 100 events against reserved concurrency 2, 50 ms each, took 24 minutes with
    AWS's back-off alone. A freed slot releases the next throttled event (Ember's improvement)."""
    name = deploy("import time\ndef handler(event, context):\n    time.sleep(0.05)\n    return event\n")
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    started = time.monotonic()
    for number in range(100):
        client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": number}))

    def ran() -> int:
        with sqlite3.connect(ember.data_dir / "ember.db") as db:
            return db.execute("SELECT count(*) FROM invocations WHERE function = ? AND source = 'event'",
                              (name,)).fetchone()[0]

    while ran() < 100 and time.monotonic() - started < 60:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    assert ran() == 100, f"{ran()} of 100 events ran in {elapsed:.0f} s"
    assert elapsed < 20, f"100 events took {elapsed:.1f} s behind a reservation of 2"
