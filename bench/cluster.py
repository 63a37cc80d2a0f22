"""Cluster mode against one machine: what the Ray backend adds to a warm call, per data path, and more nodes.

1. Data path (issue 17, item 4). A local `ember serve` and a `--cluster ray` one (a one-node Ray cluster
   it starts itself) side by side, one warm 1,769 MB hello function each; 200 unrecorded warm-up calls,
   then CALLS sequential raw-HTTP invokes in alternating pairs (local first on even calls). Done twice:
   with calls on Ember's own data channel (`--cluster-data-path socket`, the default) and as Ray actor
   calls (`ray`). Server CPU per call: the front door's process, and the node agent's (its pid from
   /ember/info), read with psutil around the timed calls.
2. Cold start: COLD new functions per server, each invoked once (client ms), local and cluster.
3. Agent memory: the node agent's RSS idle and with the warm environment.
4. Throughput with 1, 2, 3 nodes: a ray.cluster_utils cluster (lean nodes of 1 CPU slot), `ember serve
   --ray-address` on it; for each node count a new function, wrk -c8 for 5 s after a warm-up (8
   environments, placed across the nodes there are). Every node is on this 2-core machine, so more
   nodes add agents and raylets competing for the same cores: the numbers show cost, not scaling.

Skipped unless `ray` is installed (pip install '.[cluster]').
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request

import harness
import psutil
import throughput

CALLS = 1000
WARM_UP = 200
COLD = 10
FUNCTION = "bench-cluster"
MB = 1024 * 1024


def available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def agent_pid(url: str) -> int:
    with urllib.request.urlopen(f"{url}/ember/info", timeout=10) as response:
        return int(json.loads(response.read())["agent_pid"])


def paired_warm(local: harness.EmberServer, cluster: harness.EmberServer) -> dict[str, list[float]]:
    """Alternating pairs of warm calls; CPU of each server process (and the agent) over the timed calls."""
    for server in (local, cluster):
        harness.create_function(server.client(), FUNCTION)
    path = local.invoke_path(FUNCTION)
    conns = {"local": harness.connect(local.url), "cluster": harness.connect(cluster.url)}
    samples: dict[str, list[float]] = {"local": [], "cluster": []}
    agent = agent_pid(cluster.url)
    try:
        for _ in range(WARM_UP):
            for conn in conns.values():
                harness.post(conn, path)
        before = {"local": cpu_s(local.proc.pid), "cluster": cpu_s(cluster.proc.pid), "agent": cpu_s(agent)}
        for i in range(CALLS):
            for side in ("local", "cluster") if i % 2 == 0 else ("cluster", "local"):
                samples[side].append(harness.post(conns[side], path)[0])  # one environment each: always warm
        after = {"local": cpu_s(local.proc.pid), "cluster": cpu_s(cluster.proc.pid), "agent": cpu_s(agent)}
    finally:
        for conn in conns.values():
            conn.close()
    samples.update({f"{k}_cpu_ms": [(after[k] - before[k]) / CALLS * 1000] for k in after})
    samples["agent_rss_mb"] = [psutil.Process(agent).memory_info().rss / MB]
    return samples


def cold_starts(server: harness.EmberServer) -> list[float]:
    client, times = server.client(), []
    for i in range(COLD):
        name = f"cold-{i}"
        harness.create_function(client, name)
        conn = harness.connect(server.url)
        try:
            times.append(harness.post(conn, server.invoke_path(name))[0])
        finally:
            conn.close()
    return times


def cluster_flags(data_path: str) -> tuple[str, ...]:
    return ("--cluster", "ray", "--cluster-data-path", data_path, "--spares", "1")


def data_paths() -> list[dict]:
    records, common = [], {"benchmark": "cluster", "calls": CALLS, "warm_up_calls": WARM_UP, "nodes": 1}
    for data_path in ("socket", "ray"):
        with harness.EmberServer() as local, harness.EmberServer(*cluster_flags(data_path)) as cluster:
            agent_idle = psutil.Process(agent_pid(cluster.url)).memory_info().rss / MB
            warm = paired_warm(local, cluster)
            records += [
                harness.record(f"cluster_{data_path}_warm_invoke_ms", "ms", warm["cluster"], **common, role="candidate",
                               baseline=f"local_warm_invoke_paired_{data_path}_ms", data_path=data_path),
                harness.record(f"local_warm_invoke_paired_{data_path}_ms", "ms", warm["local"], **common,
                               role="baseline"),
                harness.record(f"cluster_{data_path}_front_door_cpu_per_call_ms", "ms", warm["cluster_cpu_ms"],
                               **common, role="candidate", baseline=f"local_server_cpu_per_call_{data_path}_ms"),
                harness.record(f"cluster_{data_path}_agent_cpu_per_call_ms", "ms", warm["agent_cpu_ms"], **common,
                               role="candidate"),
                harness.record(f"local_server_cpu_per_call_{data_path}_ms", "ms", warm["local_cpu_ms"], **common,
                               role="baseline"),
            ]
            if data_path == "socket":
                records += [
                    harness.record("cluster_agent_rss_idle_mb", "MB", [agent_idle], **common, role="candidate"),
                    harness.record("cluster_agent_rss_one_env_mb", "MB", warm["agent_rss_mb"], **common,
                                   role="candidate"),
                    harness.record("cluster_cold_start_ms", "ms", cold_starts(cluster), **common, role="candidate",
                                   baseline="local_cold_start_ms"),
                    harness.record("local_cold_start_ms", "ms", cold_starts(local), **common, role="baseline"),
                ]
    return records


def node_rss_mb() -> list[float]:
    """Per node of this process's cluster: what its raylet and everything under it hold (RSS)."""
    sizes = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "raylet/raylet" not in " ".join(process.cmdline()):
                continue
            tree = [process, *process.children(recursive=True)]
            sizes.append(sum(p.memory_info().rss for p in tree if p.is_running()) / MB)
        except psutil.Error:
            pass
    return sizes


def node_scaling() -> list[dict]:
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 80 * MB, "resources": {"ember_memory_mb": 16384}}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    records = []
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, harness.EmberServer(
                "--cluster", "ray", "--ray-address", cluster.address, "--cluster-host", "127.0.0.1",
                "--spares", "1") as server:
            script.write(throughput.LUA)
            script.flush()
            for nodes in (1, 2, 3):
                if nodes > 1:
                    cluster.add_node(**node)
                    cluster.wait_for_nodes()
                    time.sleep(3)  # the front door's membership poll (1 s) starts the new node's agent
                name = f"scale-{nodes}"
                harness.create_function(server.client(), name)
                url = server.url + server.invoke_path(name)
                throughput.wrk(url, script.name, throughput.WARM_UP_S)
                samples = [throughput.wrk(url, script.name, throughput.DURATION_S) for _ in range(3)]
                records.append(harness.record(f"cluster_throughput_{nodes}_nodes_rps", "requests/s", samples,
                                              benchmark="cluster", nodes=nodes, role="candidate",
                                              load_generator=f"wrk -t1 -c{throughput.CONNECTIONS} "
                                                             f"-d{throughput.DURATION_S}s"))
            records.append(harness.record("cluster_node_rss_mb", "MB", node_rss_mb(), benchmark="cluster",
                                          role="candidate", nodes=3,
                                          source="a raylet and its descendants (Ray's agents, the node agent, "
                                                 "its zygote, spares and the node's warm environments)"))
    finally:
        cluster.shutdown()
    return records


def run() -> list[dict]:
    if not available():
        print("cluster: skipped (ray is not installed: pip install '.[cluster]')", file=sys.stderr)
        return []
    harness.STARTUP_TIMEOUT_S = 120  # a Ray cluster takes 10-20 s to come up on this machine
    return data_paths() + node_scaling()


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["cluster"]))
