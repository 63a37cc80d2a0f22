"""ember.observe.metrics: one call observed once, by its labels; each server's registry its own."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.parser import text_string_to_metric_families

from ember.observe.metered_call import MeteredCall
from ember.observe.metrics import MIB, Metrics, trigger_of

WARM_OK = MeteredCall(request_id="r", function="f", version="3", source="url", started_at=0.0, duration_ms=12.5,
                      billed_ms=13, memory_mb=128, max_memory_mb=40, init_ms=None, cold=False, status="success",
                      error_type=None, cpu_ms=None, cost_usd=0.0000002, price_model="2025", arch="x86_64",
                      gb_seconds=0.125 * 0.013)


def samples(metrics: Metrics) -> dict[tuple[str, frozenset], float]:
    text = metrics.exposition().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def at(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_sources_map_to_opentelemetry_triggers():
    """faas.trigger: `http` is a request to the function's own HTTP endpoint; an SDK's Invoke is `other`."""
    assert trigger_of("url") == trigger_of("apigateway") == "http"
    assert trigger_of("schedule") == trigger_of("scheduler") == "timer"
    assert trigger_of("invoke") == trigger_of("event") == trigger_of("tune") == "other"
    assert trigger_of("anything-new") == "other"


def test_a_call_moves_each_metric_once_and_only_what_it_measured():
    metrics = Metrics()
    metrics.observe_call(WARM_OK)
    metrics.observe_call(replace(WARM_OK, source="event", status="timeout", error_type="Sandbox.Timedout",
                                 cold=True, init_ms=250.0, cpu_ms=4.0))
    found = samples(metrics)
    http = {"faas_name": "f", "faas_version": "3", "faas_trigger": "http"}
    other = {**http, "faas_trigger": "other"}
    assert at(found, "faas_invocations_total", **http) == at(found, "faas_invocations_total", **other) == 1
    assert at(found, "faas_errors_total", **http) == 0 and at(found, "faas_errors_total", **other) == 1
    assert at(found, "faas_timeouts_total", **http) == 0 and at(found, "faas_timeouts_total", **other) == 1
    assert at(found, "faas_coldstarts_total", **http) == 0 and at(found, "faas_coldstarts_total", **other) == 1
    assert at(found, "faas_init_duration_seconds_count", **http) == 0
    assert at(found, "faas_init_duration_seconds_sum", **other) == 0.25
    assert at(found, "faas_cpu_usage_seconds_count", **http) == 0, "no CPU time known, none observed"
    assert at(found, "faas_cpu_usage_seconds_sum", **other) == 0.004
    assert at(found, "faas_invoke_duration_seconds_sum", **http) == 0.0125
    assert at(found, "faas_invoke_duration_seconds_bucket", le="0.025", **http) == 1
    assert at(found, "faas_invoke_duration_seconds_bucket", le="0.01", **http) == 0
    assert at(found, "faas_mem_usage_bytes_sum", **http) == 40 * MIB
    billing = {**http, "price_model": "2025"}
    assert at(found, "ember_billed_duration_seconds_sum", **billing) == 0.013
    assert at(found, "ember_gb_seconds_total", **billing) == 0.125 * 0.013
    assert at(found, "ember_cost_usd_total", **billing) == 0.0000002


def test_throttles_are_counted_by_function_and_reason():
    metrics = Metrics()
    for reason in ("ReservedFunctionConcurrentInvocationLimitExceeded",) * 2 + ("ConcurrentInvocationLimitExceeded",):
        metrics.observe_throttle("f", reason)
    found = samples(metrics)
    assert at(found, "ember_throttles_total", faas_name="f",
              reason="ReservedFunctionConcurrentInvocationLimitExceeded") == 2
    assert at(found, "ember_throttles_total", faas_name="f", reason="ConcurrentInvocationLimitExceeded") == 1


def test_each_server_has_its_own_registry():
    """Several servers in one process (as in tests) neither clash on names nor share counts."""
    first, second = Metrics(), Metrics()
    first.observe_call(WARM_OK)
    labels = {"faas_name": "f", "faas_version": "3", "faas_trigger": "http"}
    assert at(samples(first), "faas_invocations_total", **labels) == 1
    assert at(samples(second), "faas_invocations_total", **labels) == 0
