"""Ember's benchmarks, each next to a baseline measured in the same run: cold start, warm invoke latency, throughput.

`make bench` (installs wrk if missing) or `.venv/bin/python bench/run.py [cold_start|warm_latency|throughput|fibonacci ...]`.
Writes bench/results/latest.json (a partial run writes bench/results/<names>.json instead), prints a markdown table
(stdout; progress on stderr). Shared, noisy machine: read medians and same-run ratios, not absolute values from
different runs. See bench/README.md for what each metric is.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from pathlib import Path

import async_events
import cluster
import cold_start
import density
import dev_reload
import fibonacci
import freezer
import harness
import http_triggers
import init_burst
import many_functions
import runtimes
import server_cpu
import serverless_offline
import sigv4_verify
import throughput
import warm_latency

# density last: its 1,000 environments leave the load average high for a minute
BENCHMARKS = {"cold_start": cold_start, "warm_latency": warm_latency, "freezer": freezer, "throughput": throughput,
              "http_triggers": http_triggers, "fibonacci": fibonacci, "init_burst": init_burst, "runtimes": runtimes,
              "many_functions": many_functions, "server_cpu": server_cpu, "sigv4_verify": sigv4_verify,
              "async_events": async_events, "dev_reload": dev_reload, "cluster": cluster,
              "serverless_offline": serverless_offline,
              "density": density}
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# (metric, candidate, baseline, percentile): ratio = percentile(candidate) / percentile(baseline), same run
RATIOS = [
    ("ratio_cold_start_over_python_spawn_p50", "cold_start_ms", "python_spawn_ms", 50),
    ("ratio_cold_start_boto3_over_python_boto3_p50", "cold_start_boto3_ms", "python_boto3_ms", 50),
    ("ratio_cold_start_exec_over_zygote_p50", "cold_start_exec_ms", "cold_start_ms", 50),
    ("ratio_cold_start_egress_over_host_network_p50", "cold_start_ms", "cold_start_host_network_ms", 50),
    ("ratio_cold_start_network_none_over_host_network_p50", "cold_start_network_none_ms",
     "cold_start_host_network_ms", 50),
    ("ratio_cold_start_no_spares_over_spares_p50", "cold_start_no_spares_ms", "cold_start_ms", 50),
    ("ratio_cold_start_exec_boto3_over_zygote_boto3_p50", "cold_start_exec_boto3_ms", "cold_start_boto3_ms", 50),
    ("ratio_warm_invoke_over_bare_post_p50", "warm_invoke_ms", "bare_uvicorn_post_ms", 50),
    ("ratio_warm_invoke_over_bare_post_p99", "warm_invoke_ms", "bare_uvicorn_post_ms", 99),
    ("ratio_warm_frozen_over_unfrozen_p50", "warm_invoke_frozen_ms", "warm_invoke_unfrozen_ms", 50),
    ("ratio_throughput_over_bare_p50", "throughput_rps", "bare_uvicorn_rps", 50),
    ("ratio_function_url_over_invoke_rps_p50", "http_function_url_rps", "http_direct_invoke_rps", 50),
    ("ratio_function_url_over_bare_rps_p50", "http_function_url_rps", "http_bare_uvicorn_rps", 50),
    ("ratio_function_url_over_invoke_latency_p50", "http_function_url_p50_ms", "http_direct_invoke_p50_ms", 50),
    ("ratio_http_api_over_invoke_rps_p50", "http_api_rps", "http_direct_invoke_rps", 50),
    ("ratio_http_api_over_bare_rps_p50", "http_api_rps", "http_bare_uvicorn_rps", 50),
    ("ratio_http_api_over_invoke_latency_p50", "http_api_p50_ms", "http_direct_invoke_p50_ms", 50),
    ("ratio_async_enqueue_over_sync_invoke_p50", "async_enqueue_rps", "sync_invoke_rps", 50),
    ("ratio_async_drain_over_sync_invoke_p50", "async_drain_rps", "sync_invoke_rps", 50),
    ("ratio_server_cpu_signed_over_unsigned_p50", "server_cpu_per_signed_call_ms", "server_cpu_per_unsigned_call_ms",
     50),
    ("ratio_cluster_socket_warm_over_local_p50", "cluster_socket_warm_invoke_ms", "local_warm_invoke_paired_socket_ms",
     50),
    ("ratio_cluster_ray_warm_over_local_p50", "cluster_ray_warm_invoke_ms", "local_warm_invoke_paired_ray_ms", 50),
    ("ratio_cluster_cold_start_over_local_p50", "cluster_cold_start_ms", "local_cold_start_ms", 50),
    ("ratio_ember_over_serverless_offline_rps_p50", "peer_ember_rps", "peer_serverless_offline_rps", 50),
    ("ratio_serverless_offline_over_bare_rps_p50", "peer_serverless_offline_rps", "peer_bare_rps", 50),
    ("ratio_ember_over_bare_rps_peer_run_p50", "peer_ember_rps", "peer_bare_rps", 50),
    ("ratio_ember_over_serverless_offline_cpu_p50", "peer_ember_cpu_ms_per_request",
     "peer_serverless_offline_cpu_ms_per_request", 50),
    ("ratio_ember_over_serverless_offline_warm_p50", "peer_ember_warm_ms", "peer_serverless_offline_warm_ms", 50),
    ("ratio_ember_over_serverless_offline_warm_p99", "peer_ember_warm_ms", "peer_serverless_offline_warm_ms", 99),
    ("ratio_ember_server_over_serverless_offline_boto3_cpu_p50", "peer_boto3_ember_server_cpu_ms",
     "peer_boto3_serverless_offline_cpu_ms", 50),
    ("ratio_ember_over_serverless_offline_boto3_cpu_p50", "peer_boto3_ember_cpu_ms",
     "peer_boto3_serverless_offline_cpu_ms", 50),
    ("ratio_sigv4_verify_over_botocore_plain_p50", "sigv4_verify_us", "sigv4_botocore_plain_us", 50),
    ("ratio_warm_1000_functions_over_1_p50", "warm_invoke_1000_functions_ms", "warm_invoke_1_function_ms", 50),
    ("ratio_fibonacci_128_over_1769_p50", "fibonacci_128mb_ms", "fibonacci_1769mb_ms", 50),
    ("ratio_idle_env_uss_exec_over_zygote_p50", "idle_env_uss_exec_mb", "idle_env_uss_mb", 50),
    ("ratio_init_quota_over_burst_p50", "init_duration_quota_ms", "init_duration_burst_ms", 50),
    ("ratio_go_over_python_cold_start_p50", "runtime_go_cold_start_ms", "runtime_python_cold_start_ms", 50),
    ("ratio_awslambdaric_over_python_cold_start_p50", "runtime_awslambdaric_cold_start_ms",
     "runtime_python_cold_start_ms", 50),
    ("ratio_java_over_python_cold_start_p50", "runtime_java_cold_start_ms", "runtime_python_cold_start_ms", 50),
    ("ratio_dev_reload_over_deploy_p50", "dev_reload_ms", "dev_reload_deploy_baseline_ms", 50),
    ("ratio_java_archive_over_none_cold_start_p50", "runtime_java_cold_start_ms",
     "runtime_java-no-archive_cold_start_ms", 50),
]
FIB_RATIO = 1769 / 128  # memory buys CPU: 128 MB gets 128/1769 of the vCPU that 1,769 MB gets
# (target, metric or ratio name, statistic, bound, is the bound a maximum)
TARGETS = [
    ("unique memory per idle environment p50 <= 5 MB (1,000 idle)", "idle_env_uss_mb", 50, 5.0, True),
    ("cold start p50 <= 5 ms, hello world (end to end)", "cold_start_ms", 50, 5.0, True),
    ("cold start p50 <= 10 ms, handler importing boto3 (end to end)", "cold_start_boto3_ms", 50, 10.0, True),
    ("Init Duration p50 <= 5 ms, hello world", "init_duration_ms", 50, 5.0, True),
    ("Init Duration p50 <= 10 ms, handler importing boto3", "init_duration_boto3_ms", 50, 10.0, True),
    ("warm p50 <= 1 ms", "warm_invoke_ms", 50, 1.0, True),
    ("warm p50 <= 0.45 ms (issue 14)", "warm_invoke_ms", 50, 0.45, True),
    ("throughput >= 2,000 invocations/s (median)", "throughput_rps", 50, 2000.0, False),
    ("throughput >= 15% of bare uvicorn, 16 connections (median ratio)", "ratio_throughput_over_bare_p50", None,
     0.15, False),
    ("server CPU per warm signed call p50 <= 0.5 ms (issue 14)", "server_cpu_per_signed_call_ms", 50, 0.5, True),
    ("ember dev: file saved -> first call served by the new code, p50 <= 300 ms", "dev_reload_ms", 50, 300.0, True),
    ("ember dev: file saved -> first call served by the new code, p90 <= 300 ms", "dev_reload_ms", 90, 300.0, True),
    ("Fibonacci 128 MB : 1769 MB >= 0.9 x 1769/128 (median paired ratio)", "fibonacci_paired_ratio_128_over_1769", 50,
     0.9 * FIB_RATIO, False),
    ("Fibonacci 128 MB : 1769 MB <= 1.1 x 1769/128 (median paired ratio)", "fibonacci_paired_ratio_128_over_1769", 50,
     1.1 * FIB_RATIO, True),
]


def fmt(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def table(records: list[dict]) -> list[str]:
    lines = ["| metric | unit | n | median | p90 | p99 |", "|---|---|---:|---:|---:|---:|"]
    for r in records:
        s = r["samples"]
        lines.append(f"| `{r['metric']}` | {r['unit']} | {len(s)} | {fmt(harness.percentile(s, 50))} | "
                     f"{fmt(harness.percentile(s, 90))} | {fmt(harness.percentile(s, 99))} |")
    return lines


def main(names: list[str] | None = None) -> int:
    names = names or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    facts = harness.machine_facts()
    started_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    print(f"Ember benchmark: commit {facts['git_commit']}{' (ember/ dirty)' if facts['ember_tree_dirty'] else ''}, "
          f"{facts['cpu_count']} CPUs, {facts['memory_total_gb']} GiB, Python {facts['python']}", file=sys.stderr)
    before = harness.other_activity()
    run_start = time.perf_counter()
    records: list[dict] = []
    durations = {}
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        records += BENCHMARKS[name].run()
        durations[name] = round(time.perf_counter() - start, 1)
        print(f"{name}: {durations[name]} s", file=sys.stderr, flush=True)
    after = harness.other_activity()
    total_s = time.perf_counter() - run_start

    warnings = []
    foreign = before["foreign_ember_or_pytest_processes"], after["foreign_ember_or_pytest_processes"]
    if any(foreign):
        warnings.append(f"other ember/pytest processes were running (before: {foreign[0]}, after: {foreign[1]}): "
                        "numbers are contaminated, rerun on a quiet machine")
    if before["load_1m"] > 0.5 * (os.cpu_count() or 1):
        warnings.append(f"1-minute load average was {before['load_1m']} before the run started: contaminated")

    by_metric = {r["metric"]: r["samples"] for r in records}
    ratios = {}
    for label, candidate, baseline, q in RATIOS:
        if candidate in by_metric and baseline in by_metric:
            value = harness.percentile(by_metric[candidate], q) / harness.percentile(by_metric[baseline], q)
            ratios[label] = value
            records.append(harness.record(label, "x", [value], formula=f"p{q}({candidate}) / p{q}({baseline})"))
    verdicts = []
    by_name = {r["metric"]: r for r in records}
    for label, source, q, bound, is_max in TARGETS:
        if source in by_name:
            value = harness.percentile(by_name[source]["samples"], q or 50)
            met = value <= bound if is_max else value >= bound
            verdicts.append((label, value, met))
            by_name[source]["dimensions"].update(target=label, target_met=met)
    run_dims = {**facts, "started_at": started_at, "load_1m_before": before["load_1m"],
                "load_1m_after": after["load_1m"], "foreign_processes_before": foreign[0],
                "foreign_processes_after": foreign[1], "contaminated": bool(warnings)}
    for r in records:
        r["dimensions"] = {**run_dims, **r["dimensions"]}
    out = RESULTS_DIR / ("latest.json" if names == list(BENCHMARKS) else "-".join(names) + ".json")
    harness.write_results(out, records)

    print(f"\nEmber benchmark, {started_at}, commit `{facts['git_commit']}`"
          f"{' (ember/ has uncommitted changes)' if facts['ember_tree_dirty'] else ', clean ember/'}")
    print(f"Machine: {facts['cpu_count']} CPUs ({facts['cpu_model']}), {facts['memory_total_gb']} GiB, "
          f"{facts['platform']}, Python {facts['python']}. Server auth: none.\n")
    print("\n".join(table([r for r in records if r["dimensions"].get("role") in ("candidate", "baseline")])))
    phases = [r for r in records if r["dimensions"].get("role") == "phase"]
    if phases:
        print("\nPhases (Server-Timing, ms):\n")
        print("\n".join(table(phases)))
    if ratios:
        print("\n| ratio (same run) | formula | value |\n|---|---|---:|")
        for label, candidate, baseline, q in RATIOS:
            if label in ratios:
                print(f"| `{label}` | p{q}(`{candidate}`) / p{q}(`{baseline}`) | **{ratios[label]:.3f}x** |")
    if verdicts:
        print("\n| target | measured | met |\n|---|---:|---|")
        for label, value, met in verdicts:
            print(f"| {label} | {fmt(value)} | {'yes' if met else '**no**'} |")
    tput = next((r["dimensions"] for r in records if r["metric"] == "throughput_rps"), None)
    if tput:
        print(f"\nThroughput: {tput['environments_after_warm_up']} environments after warm-up; CPU cores busy during "
              f"Ember runs: wrk {tput['wrk_cpu_cores_busy']}, server {tput['server_cpu_cores_busy']}, environments "
              f"{tput['environments_cpu_cores_busy']} (of {facts['cpu_count']}).")
    print(f"1-minute load average: {before['load_1m']} before, {after['load_1m']} after (the run's own load included). "
          f"Run took {total_s:.0f} s ({', '.join(f'{k} {v} s' for k, v in durations.items())}); "
          f"raw samples in bench/results/{out.name}")
    for warning in warnings:
        print(f"WARNING: {warning}")
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
