"""Losing the Ray head: Ray (without GCS fault tolerance) ends each worker node's raylet once it has
failed to reach the head for `gcs_rpc_server_reconnect_timeout_s`, and the raylet's workers with it: the
node agents, their zygotes and every environment. That timeout is the agents' wait for the head, set on
the head in line with --cluster-grace (README, "Running on several machines"); here both are short.
A cluster of its own (two nodes), since this test ends it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from conftest import ROLE, EmberProcess, lambda_client, make_zip, wait_for  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]
MB = 1024 * 1024
WAIT_S = 5  # the head's gcs_rpc_server_reconnect_timeout_s, and the agents' --cluster-grace
BOUND_S = 30  # what Ray and the kernel may add: noticing, the raylet's exit, its workers' and their children's
SLOW = "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'ok'\n"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    node = {"num_cpus": 1, "object_store_memory": 80 * MB, "resources": {"ember_memory_mb": 1024}}
    head = {**node, "include_dashboard": False, "_system_config": {"gcs_rpc_server_reconnect_timeout_s": WAIT_S}}
    started = Cluster(initialize_head=True, head_node_args=head)
    try:
        started.add_node(**node)
        started.wait_for_nodes()
        yield started
    finally:
        started.shutdown()


def descendants() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def environments() -> set[int]:
    """Environment processes run as a function's own uid (at least 100000); everything else here as root."""
    found = set()
    for process in descendants():
        try:
            if process.uids().real >= 100_000:
                found.add(process.pid)
        except psutil.Error:
            pass
    return found


def test_losing_the_ray_head_ends_every_environment_within_the_grace_period_and_a_bound(cluster, tmp_path):
    """The head node's own environment goes with it at once; the worker node's waits for the head for the
    reconnect timeout, then goes with its raylet; the front door, a Ray driver, is ended by Ray as well."""
    server = EmberProcess(tmp_path, "--cluster", "ray", "--ray-address", cluster.address, "--cluster-host",
                          "127.0.0.1", "--cluster-grace", str(WAIT_S)).start()
    try:
        client = lambda_client(server.url)
        client.create_function(FunctionName="slow", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": SLOW})})
        with ThreadPoolExecutor(2) as pool:  # two at once: one environment on each node
            served = list(pool.map(lambda _: client.invoke(FunctionName="slow", Payload=b'{"s": 1}'), range(2)))
        nodes = {response["ResponseMetadata"]["HTTPHeaders"]["x-ember-node-id"] for response in served}
        assert len(nodes) == 2, f"both environments went to {nodes}"
        running = environments()
        assert running, "no environment process found"
        lost_at = time.monotonic()
        cluster.remove_node(cluster.head_node, allow_graceful=False)
        assert not wait_for(lambda: not running & environments(), timeout=WAIT_S / 2), \
            "the worker node's environment did not wait for the head"
        assert wait_for(lambda: not running & environments(), timeout=WAIT_S + BOUND_S), \
            f"environments outlived the Ray head: {running & environments()}"
        print(f"every environment ended {time.monotonic() - lost_at:.1f} s after the head was lost")
        assert wait_for(lambda: server.proc.poll() is not None, timeout=BOUND_S), \
            "the front door outlived the head (Ray ends a driver that cannot reach the GCS)"
    finally:
        server.stop(timeout=30)
