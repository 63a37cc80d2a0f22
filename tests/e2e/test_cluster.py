"""Ember on a three-node Ray cluster on this machine (ray.cluster_utils): placement asserted by the
Ray node id that served each call (X-Ember-Node-Id), logs and nested calls from every node, and
losing a node mid-load. One cluster and one front door for the module (they take ~30 s to start);
the node-loss test runs last. `make test` runs this module; see README "Running on several machines".
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psutil
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from conftest import ROLE, EmberProcess, invocation_records, lambda_client, make_zip, wait_for  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]
NODES = 3
NODE_MEMORY_MB = 1024  # each node's `ember_memory_mb`: equal, so placement is by what is committed
MB = 1024 * 1024
GRACE_S = 20  # how long agents keep environments after losing the front door (--cluster-grace)
SLOW = "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'ok'\n"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three Ray nodes, lean: one CPU slot, a small object store, no dashboard."""
    node = {"num_cpus": 1, "object_store_memory": 80 * MB, "resources": {"ember_memory_mb": NODE_MEMORY_MB}}
    started = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        for _ in range(NODES - 1):
            started.add_node(**node)
        started.wait_for_nodes()
        yield started
    finally:
        started.shutdown()


@pytest.fixture(scope="module")
def front(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    server = EmberProcess(tmp_path_factory.mktemp("cluster-data"), "--cluster", "ray", "--ray-address",
                          cluster.address, "--cluster-host", "127.0.0.1", "--spares", "1",
                          "--async-retry-scale", "0.01", "--cluster-grace", str(GRACE_S)).start()
    yield server
    server.stop(timeout=60)


@pytest.fixture(scope="module")
def client(front: EmberProcess):
    return lambda_client(front.url)


@pytest.fixture
def deploy(client):
    def _deploy(source: str, timeout: int = 10, memory: int = 128, env: dict[str, str] | None = None) -> str:
        name = f"c-{uuid.uuid4().hex[:10]}"
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": source})}, Timeout=timeout,
                               MemorySize=memory, Environment={"Variables": env or {}})
        return name

    return _deploy


def call(client, name: str, payload: object = None) -> tuple[dict, str]:
    """The response and the Ray node id that served it."""
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), LogType="Tail")
    return response, response["ResponseMetadata"]["HTTPHeaders"]["x-ember-node-id"]


def alive_nodes() -> set[str]:
    return {node["NodeID"] for node in ray.nodes() if node["Alive"]}


@pytest.fixture(scope="module", autouse=True)
def driver(cluster: Cluster) -> Iterator[None]:
    """This test process joins the cluster too, to read its nodes (and remove one)."""
    ray.init(address=cluster.address, log_to_driver=False)
    yield
    ray.shutdown()


def test_functions_land_on_several_nodes(client, deploy):
    names = [deploy("def handler(e, c):\n    return 1\n") for _ in range(NODES)]
    nodes = [call(client, name)[1] for name in names]
    assert set(nodes) <= alive_nodes()
    assert len(set(nodes)) == NODES, f"three cold starts on equal nodes went to {nodes}"


def test_warm_calls_return_to_the_node_that_holds_the_warm_environment(client, deploy):
    name = deploy("def handler(e, c):\n    return 1\n")
    first, node = call(client, name)
    assert b"Init Duration" in base64.b64decode(first["LogResult"])
    for _ in range(5):
        response, again = call(client, name)
        assert again == node
        assert b"Init Duration" not in base64.b64decode(response["LogResult"])


def test_a_burst_spreads_across_nodes(client, deploy):
    name = deploy(SLOW)
    with ThreadPoolExecutor(NODES) as pool:
        served = list(pool.map(lambda _: call(client, name, {"s": 1.5}), range(NODES)))
    assert all(response["Payload"].read() == b'"ok"' for response, _ in served)
    assert len({node for _, node in served}) >= 2, "a burst of cold starts stayed on one node"


def test_reserved_concurrency_holds_across_nodes(client, deploy):
    name = deploy(SLOW)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    def attempt(_: int) -> str:
        try:
            return call(client, name, {"s": 2})[1]
        except client.exceptions.TooManyRequestsException:
            return "throttled"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    assert outcomes.count("throttled") == 2, outcomes


def test_logs_of_every_node_reach_the_front_doors_logs(front, client, deploy):
    name = deploy("import time\ndef handler(e, c):\n    print('line', e['i'])\n    time.sleep(1)\n    return 1\n")
    with ThreadPoolExecutor(NODES) as pool:
        nodes = set(pool.map(lambda i: call(client, name, {"i": i})[1], range(NODES)))
    assert len(nodes) >= 2
    logs = boto3.client("logs", endpoint_url=front.url, region_name="us-east-1",
                                      aws_access_key_id="test", aws_secret_access_key="test")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [event["message"] for event in events]
    assert {f"line {i}\n" for i in range(NODES)} <= set(messages)
    assert sum(message.startswith("REPORT RequestId") for message in messages) == NODES


def test_nested_calls_reach_the_front_door_from_every_node_with_the_environments_own_keys(client, deploy):
    """The role has no policy: the front door answers AccessDenied to its assumed-role principal, which
    it can only name if it verified this environment's session keys (issued at the front door)."""
    name = deploy("import boto3, os, time\n"
                  "def handler(e, c):\n"
                  "    time.sleep(1)\n"
                  "    try:\n"
                  "        boto3.client('lambda').get_function(FunctionName=os.environ['AWS_LAMBDA_FUNCTION_NAME'])\n"
                  "    except Exception as error:\n"
                  "        return [error.response['Error']['Code'], error.response['Error']['Message']]\n",
                  memory=256)
    with ThreadPoolExecutor(NODES) as pool:
        served = list(pool.map(lambda _: call(client, name), range(NODES)))
    assert len({node for _, node in served}) >= 2
    for response, _ in served:
        assert "FunctionError" not in response, response["Payload"].read()
        code, message = json.loads(response["Payload"].read())
        assert code == "AccessDeniedException"
        assert f"assumed-role/test/{name}" in message


def test_layers_reach_the_node_that_runs_the_function(client, deploy):
    """Two layers: each node gets their code once and merges them into its own /opt."""
    arns = [client.publish_layer_version(LayerName=f"l-{uuid.uuid4().hex[:8]}", Content={"ZipFile": make_zip(
        {f"python/{module}.py": f"VALUE = '{module}'\n"})})["LayerVersionArn"] for module in ("first", "second")]
    name = deploy("import first, second, time\n"
                  "def handler(e, c):\n    time.sleep(e['s'])\n    return [first.VALUE, second.VALUE]\n")
    client.update_function_configuration(FunctionName=name, Layers=arns)
    assert wait_for(lambda: client.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "Successful")
    with ThreadPoolExecutor(NODES) as pool:
        served = list(pool.map(lambda _: call(client, name, {"s": 1}), range(NODES)))
    assert len({node for _, node in served}) >= 2
    for response, _ in served:
        assert json.loads(response["Payload"].read()) == ["first", "second"]


def test_a_node_that_joins_gets_an_agent_and_the_next_cold_start(cluster, client, deploy):
    """Every node so far holds environments of the tests above; the new one holds none, so it has the most
    memory free once its agent is up."""
    before = len(agents())
    joined = cluster.add_node(num_cpus=1, object_store_memory=80 * MB, resources={"ember_memory_mb": NODE_MEMORY_MB})
    cluster.wait_for_nodes()
    assert wait_for(lambda: len(agents()) == before + 1, timeout=60), "no agent started on the new node"
    fresh = lambda: deploy("def handler(e, c):\n    return 1\n")  # noqa: E731  # each a cold start, placed anew
    assert wait_for(lambda: call(client, fresh())[1] == joined.node_id, timeout=20)


def test_losing_a_node_mid_load_loses_no_event_and_the_next_calls_succeed(cluster, front, client, deploy):
    """Sync calls running on the lost node end in AWS's retryable ServiceException (500); async events
    there are system errors, retried until they run; provisioned environments come back elsewhere."""
    name, slow = deploy(SLOW), deploy(SLOW)
    provisioned = deploy(SLOW)
    version = client.publish_version(FunctionName=provisioned)["Version"]
    client.put_provisioned_concurrency_config(FunctionName=provisioned, Qualifier=version,
                                              ProvisionedConcurrentExecutions=NODES)
    assert wait_for(lambda: client.get_provisioned_concurrency_config(
        FunctionName=provisioned, Qualifier=version)["Status"] == "READY", timeout=60)

    def sync_call(_: int) -> tuple[int, str]:
        try:
            response, node = call(client, slow, {"s": 6})
            return response["StatusCode"], node
        except client.exceptions.ServiceException as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"], "ServiceException"

    with ThreadPoolExecutor(NODES) as pool:
        running = [pool.submit(sync_call, i) for i in range(NODES)]
        accepted = [client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"s": 0.5}')
                    ["ResponseMetadata"]["RequestId"] for _ in range(24)]
        assert wait_for(lambda: len(invocation_records(front.data_dir, "function = ?", (name,))) >= 2, timeout=30)
        victim = cluster.worker_nodes and next(iter(cluster.worker_nodes))
        cluster.remove_node(victim, allow_graceful=False)
        outcomes = [future.result() for future in running]
    assert wait_for(lambda: any("lost" in line for line in front.output), timeout=30), "the loss went unnoticed"
    for status, node in outcomes:
        assert (status, node) == (500, "ServiceException") or (status == 200 and node != victim.node_id)
    placeholders = ",".join("?" * len(accepted))
    done = f"function = ? AND status = 'success' AND request_id IN ({placeholders})"
    assert wait_for(lambda: len({row["request_id"] for row in invocation_records(
        front.data_dir, done, (name, *accepted))}) == len(accepted), timeout=90), "an accepted event was lost"
    for _ in range(5):
        response, node = call(client, name)
        assert response["StatusCode"] == 200 and "FunctionError" not in response
        assert node in alive_nodes() and node != victim.node_id
    assert wait_for(lambda: client.get_provisioned_concurrency_config(
        FunctionName=provisioned, Qualifier=version)["AvailableProvisionedConcurrentExecutions"] == NODES,
        timeout=60), "provisioned environments were not re-created on the surviving nodes"


def our_processes(prefix: str = "") -> dict[int, psutil.Process]:
    """This test's descendants (the cluster's raylets, their agents, the agents' zygotes and environments)."""
    found = {}
    for process in psutil.Process().children(recursive=True):
        try:
            if " ".join(process.cmdline()).startswith(prefix):
                found[process.pid] = process
        except psutil.Error:
            pass
    return found


def environments() -> set[int]:
    return {pid for pid, process in our_processes().items() if process.uids().real >= 100_000}


def agents() -> set[int]:
    return set(our_processes("ray::NodeAgent"))


STATEFUL = ("import uuid\nTOKEN = uuid.uuid4().hex\nCALLS = 0\n"
            "def handler(e, c):\n    global CALLS\n    CALLS += 1\n    return [TOKEN, CALLS]\n")


def test_a_lost_front_door_leaves_environments_for_the_grace_period_and_a_restarted_one_adopts_them(
        front, client, deploy):
    """kill -9 of the front door: idle environments stay (frozen) while agents wait; a front door started
    on the same data dir within the grace period attaches to the same agents and adopts the environments
    of unchanged functions: the next call is warm, on the same node, in the same process (its module
    state goes on); one whose function changed meanwhile ends. Once no front door comes back, every
    environment ends and the agents exit."""
    kept, changed = deploy(STATEFUL), deploy(STATEFUL)
    started = environments()
    response, node = call(client, kept)
    token, calls = json.loads(response["Payload"].read())
    kept_pids = environments() - started
    call(client, changed)
    changed_pids = environments() - started - kept_pids
    assert calls == 1 and kept_pids and changed_pids
    agent_pids = agents()
    front.proc.kill()
    front.proc.wait()
    assert not wait_for(lambda: not (kept_pids | changed_pids) & environments(), timeout=2), "environments ended"
    assert agents() == agent_pids, "agents died with the front door"
    second = EmberProcess(front.data_dir, *front.extra).start()
    try:
        assert agents() == agent_pids, "the new front door started new agents instead of attaching"
        second_client = lambda_client(second.url)
        response, again = call(second_client, kept)
        assert b"Init Duration" not in base64.b64decode(response["LogResult"]), "not adopted: a cold start"
        assert (again, json.loads(response["Payload"].read())) == (node, [token, 2])
        assert kept_pids <= environments()
        second_client.update_function_configuration(FunctionName=changed, Environment={"Variables": {"STEP": "2"}})
        assert wait_for(lambda: second_client.get_function(
            FunctionName=changed)["Configuration"]["LastUpdateStatus"] == "Successful")
        response, _ = call(second_client, changed)
        assert b"Init Duration" in base64.b64decode(response["LogResult"])
        assert wait_for(lambda: not changed_pids & environments(), timeout=20), "a changed function's one was kept"
        second_client.close()
        second.proc.kill()
        second.proc.wait()
        assert wait_for(lambda: not agents() and not environments(), timeout=GRACE_S + 30)
    finally:
        second.stop()
