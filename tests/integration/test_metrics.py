"""GET /metrics: every call counted once, by trigger and outcome, and every throttle; scraped unsigned."""

from __future__ import annotations

import json
import math
import time
import urllib.request

import pytest
from conftest import wait_for_records
from prometheus_client.parser import text_string_to_metric_families
from url_helpers import fetch, path_form, public_url

from ember.billing.prices import get_model

HANDLER = ("import time\n"
           "def handler(event, context):\n"
           "    if event.get('raise'):\n"
           "        raise ValueError('boom')\n"
           "    time.sleep(event.get('sleep', 0))\n"
           "    return 'ok'\n")
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
Samples = list[tuple[str, dict[str, str], float]]


def scrape(url: str) -> Samples:
    """Every sample /metrics serves, fetched without a signature."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = response.read().decode()
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 if there are none)."""
    return sum(v for n, ls, v in samples if n == name and labels.items() <= ls.items())


def labels_of(name: str, trigger: str) -> dict[str, str]:
    return {"faas_name": name, "faas_version": "$LATEST", "faas_trigger": trigger}


def wait_for(url: str, name: str, labels: dict[str, str], expected: float) -> Samples:
    """Scrape until `name` reaches `expected` (an async event runs after its 202), at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(url)
        if value(samples, name, **labels) >= expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)


def recorded_cpu_calls(data_dir, function: str, calls: int) -> dict[str, int]:
    """Per source, how many of the function's recorded calls have a CPU time (records land every 200 ms)."""
    rows = wait_for_records(data_dir, calls, "function = ?", (function,), timeout=5)
    assert len(rows) == calls
    return {source: sum(row["cpu_ms"] is not None for row in rows if row["source"] == source)
            for source in ("invoke", "event", "url")}


def test_every_call_is_counted_once_by_trigger_and_outcome(client, deploy, ember):
    """The Invoke API and async events are OpenTelemetry's `other`; a call to the function's URL is `http`."""
    name = deploy(HANDLER, timeout=1)
    assert value(scrape(ember.url), "faas_invocations_total", faas_name=name) == 0
    for payload in ({}, {}, {}, {"raise": True}, {"sleep": 5}, {}):  # the timeout replaces the environment
        client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    assert client.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202
    http, other = labels_of(name, "http"), labels_of(name, "other")
    m = wait_for(ember.url, "faas_invocations_total", other, 7)
    assert fetch(path_form(ember.url, public_url(client, name))).status == 200
    m = scrape(ember.url)

    assert value(m, "faas_invocations_total", **other) == 7
    assert value(m, "faas_errors_total", **other) == 2, "the raise and the timeout"
    assert value(m, "faas_timeouts_total", **other) == 1
    assert value(m, "faas_coldstarts_total", **other) == 2, "the first call and the one after the timeout"
    assert value(m, "faas_invocations_total", **http) == 1
    assert value(m, "faas_errors_total", **http) == value(m, "faas_coldstarts_total", **http) == 0
    for labels, calls in ((other, 7), (http, 1)):
        for histogram in ("faas_invoke_duration_seconds", "faas_mem_usage_bytes", "ember_billed_duration_seconds"):
            assert value(m, f"{histogram}_count", **labels) == calls, histogram
            assert value(m, f"{histogram}_bucket", le="+Inf", **labels) == calls, histogram
    assert value(m, "faas_init_duration_seconds_count", **other) == 2
    assert value(m, "faas_init_duration_seconds_count", **http) == 0
    assert value(m, "faas_invoke_duration_seconds_sum", **other) >= 1.0, "the timeout counts its full second"
    assert value(m, "faas_mem_usage_bytes_sum", **http) > 0
    cpu = recorded_cpu_calls(ember.data_dir, name, 8)
    assert value(m, "faas_cpu_usage_seconds_count", **other) == cpu["invoke"] + cpu["event"]
    assert value(m, "faas_cpu_usage_seconds_count", **http) == cpu["url"]
    assert value(m, "faas_invocations_total", faas_name=name) == 8, "no other series for this function"


def test_two_sequential_calls_are_one_cold_start_and_are_billed_as_the_price_model_says(client, deploy, ember):
    name = deploy(HANDLER)
    for _ in range(2):
        client.invoke(FunctionName=name)
    m = scrape(ember.url)
    model = get_model()
    billing = {**labels_of(name, "other"), "price_model": model.name}
    assert value(m, "faas_invocations_total", faas_name=name) == 2
    assert value(m, "faas_coldstarts_total", faas_name=name) == 1
    assert value(m, "faas_init_duration_seconds_count", faas_name=name) == 1
    billed_s = value(m, "ember_billed_duration_seconds_sum", **billing)
    gb_seconds = value(m, "ember_gb_seconds_total", **billing)
    assert math.isclose(gb_seconds, 128 / 1024 * billed_s, rel_tol=1e-9)
    expected = 2 * float(model.request_price) + gb_seconds * float(model.gb_second_price("x86_64"))
    assert math.isclose(value(m, "ember_cost_usd_total", **billing), expected, rel_tol=1e-9)


def test_a_throttled_call_is_counted_with_its_reason_and_not_as_an_invocation(client, deploy, ember):
    name = deploy(HANDLER)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName=name)
    m = scrape(ember.url)
    assert value(m, "ember_throttles_total", faas_name=name, reason=RESERVED_LIMIT) == 1
    assert value(m, "ember_throttles_total", faas_name=name) == 1
    assert value(m, "faas_invocations_total", faas_name=name) == 0
