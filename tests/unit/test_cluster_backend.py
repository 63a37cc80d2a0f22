"""The Ray backend's own parts without Ray: RayBackend, the data channel and the agents' service, with
node agents served in this process over real loopback sockets, each running the fake backend.

What Ray adds (membership, pinning an actor to a node, code through the object store) is stood in for
by FakeLauncher; tests/e2e/test_cluster.py runs the same paths on a real three-node cluster.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fake_backend import FakeBackend, FakeSandbox, invocation, spec

pytest.importorskip("msgpack")  # the cluster extra (`pip install '.[cluster]'`)

from ember.api.node_agent import collect_code  # noqa: E402
from ember.core.code_store import CodeStore  # noqa: E402
from ember.core.layer_trees import LayerTrees  # noqa: E402
from ember.execution.backend import EnvironmentLost  # noqa: E402
from ember.execution.model import CallRecord  # noqa: E402
from ember.execution.ray.agents import Agent, LaunchedAgent, NoNodes, choose  # noqa: E402
from ember.execution.ray.backend import RayBackend  # noqa: E402
from ember.execution.ray.service import AgentService  # noqa: E402
from ember.execution.ray.wire import invocation_in, invocation_out, record_in, record_out  # noqa: E402
from ember.execution.states import EnvState  # noqa: E402


class FakeLauncher:
    """Agents as AgentServices on 127.0.0.1, one per named node; code installs counted."""

    def __init__(self, tmp: Path, nodes: dict[str, int]) -> None:
        self.tmp = tmp
        self.nodes = nodes
        self.token = "secret"
        self.services: dict[str, AgentService] = {}
        self.backends: dict[str, FakeBackend] = {}
        self.installs: list[tuple[str, str]] = []

    async def alive_nodes(self) -> dict[str, int]:
        return dict(self.nodes)

    async def launch(self, node_id: str) -> LaunchedAgent:
        root = self.tmp / node_id
        (root / "code").mkdir(parents=True)
        backend = self.backends[node_id] = FakeBackend()
        store = CodeStore(root / "code")
        service = self.services[node_id] = AgentService(  # type: ignore[arg-type]
            backend, root / "code", self.token, 0.0, lambda: None, node_id,
            collect_code=lambda keep, layer_sets: collect_code(store, LayerTrees(store), keep, layer_sets))
        port = await service.listen("127.0.0.1")
        return LaunchedAgent(node_id, "127.0.0.1", port, {"pid": 0})

    async def install_code(self, handle: Any, digest: str, zip_bytes: bytes) -> None:
        self.installs.append((handle, digest))
        await asyncio.sleep(0.01)
        (self.tmp / handle / "code" / digest).mkdir(exist_ok=True)  # as CodeStore.put, idempotent

    async def invoke(self, handle: Any, env_id: str, values: list[Any]) -> list[Any]:
        return await self.services[handle].invoke_direct(env_id, values)

    def stop(self, handle: Any) -> None:
        self.services[handle].close()

    def lose(self, node_id: str) -> None:
        """The node dies: its agent's connection drops and it leaves the membership."""
        del self.nodes[node_id]
        service = self.services[node_id]
        assert service._writer is not None
        service._writer.transport.abort()
        service.close()


def code(tmp: Path) -> Path:
    """A code-store entry: the tree at <digest>/ and its zip beside it."""
    zip_bytes = b"PK fake zip"
    digest = hashlib.sha256(zip_bytes).hexdigest()
    (tmp / "store" / digest).mkdir(parents=True)
    (tmp / "store" / f"{digest}.zip").write_bytes(zip_bytes)
    return tmp / "store" / digest


async def cluster(tmp_path: Path, nodes: int = 2, **kwargs: Any) -> tuple[RayBackend, FakeLauncher, Any]:
    launcher = FakeLauncher(tmp_path, {f"node-{i}": 1024 for i in range(nodes)})
    backend = RayBackend(tmp_path / "logs", launcher, **kwargs)
    await backend.start()
    return backend, launcher, dataclasses.replace(spec(memory_mb=128), code_dir=code(tmp_path))


def read_log(tmp_path: Path) -> list[str]:
    return [json.loads(line)["m"] for path in (tmp_path / "logs").rglob("*.jsonl")
            for line in path.read_text().splitlines()]


def test_a_call_runs_on_a_node_and_its_lines_reach_the_front_doors_stream_before_report(tmp_path):
    async def scenario() -> tuple[CallRecord, list[str]]:
        backend, _, env_spec = await cluster(tmp_path)
        env = await backend.create(env_spec, lambda env: None)
        record = await env.invoke(invocation(b"print"))
        env.log_report("REPORT RequestId: req-1\n")
        backend.close()
        return record, read_log(tmp_path)

    record, lines = asyncio.run(scenario())
    assert record.payload == b"print" and record.node_id in ("node-0", "node-1") and record.cold
    assert "hello from the handler\n" in lines
    assert lines[-3:] == ["hello from the handler\n", "END RequestId: req-1\n", "REPORT RequestId: req-1\n"]


def test_cold_starts_spread_and_memory_stays_committed_until_an_environment_dies(tmp_path):
    async def scenario() -> tuple[list[str], int, int]:
        backend, _, env_spec = await cluster(tmp_path)
        envs = await asyncio.gather(*(backend.create(env_spec, lambda env: None) for _ in range(4)))
        nodes = [env.node_id for env in envs]
        committed = backend.stats().memory_mb
        envs[0].destroy("test")
        await asyncio.sleep(0.1)
        after = backend.stats().memory_mb
        backend.close()
        return nodes, committed, after

    nodes, committed, after = asyncio.run(scenario())
    assert sorted(nodes) == ["node-0", "node-0", "node-1", "node-1"]
    assert (committed, after) == (512, 384)


def test_code_reaches_each_node_once_per_code_hash(tmp_path):
    async def scenario() -> list[tuple[str, str]]:
        backend, launcher, env_spec = await cluster(tmp_path)
        await asyncio.gather(*(backend.create(env_spec, lambda env: None) for _ in range(6)))
        backend.close()
        return launcher.installs

    installs = asyncio.run(scenario())
    assert sorted(node for node, _ in installs) == ["node-0", "node-1"]


async def until(condition: Any, timeout_s: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return bool(condition())


def test_code_leaves_a_node_once_no_environment_there_had_it_for_the_keep_alive(tmp_path):
    """Kept while an environment runs it and for the keep-alive after; then removed, and installed again by
    the next environment of it. What an earlier front door left there goes at the first look."""
    async def scenario() -> dict[str, Any]:
        backend, launcher, env_spec = await cluster(tmp_path, nodes=1)
        cache, digest = tmp_path / "node-0" / "code", env_spec.code_dir.name
        leftover = cache / ("0" * 64)
        leftover.mkdir()
        env = await backend.create(env_spec, lambda env: None)
        await env.invoke(invocation(b"{}"))
        env.log_report("REPORT\n")
        backend.reap(0)
        outcome = {"leftover_gone": await until(lambda: not leftover.exists()),
                   "kept_in_use": (cache / digest).is_dir()}
        env.destroy("test")
        await until(lambda: not backend.agents["node-0"].envs)
        backend.reap(3600)
        await asyncio.sleep(0.05)
        outcome["kept_within_keep_alive"] = (cache / digest).is_dir()
        backend.reap(0)
        outcome["removed"] = await until(lambda: not (cache / digest).exists())
        again = await backend.create(env_spec, lambda env: None)
        outcome["record"] = await again.invoke(invocation(b"{}"))
        again.log_report("REPORT\n")
        outcome["installs"] = len(launcher.installs)
        backend.close()
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome["leftover_gone"] and outcome["kept_in_use"] and outcome["kept_within_keep_alive"]
    assert outcome["removed"] and outcome["record"].payload == b"{}" and outcome["installs"] == 2


def test_losing_a_node_ends_its_environments_and_new_ones_start_elsewhere(tmp_path):
    async def scenario() -> tuple[Any, ...]:
        backend, launcher, env_spec = await cluster(tmp_path)
        dead: list[Any] = []
        running, idle = [await backend.create(env_spec, dead.append) for _ in range(2)]
        assert running.node_id != idle.node_id
        call = asyncio.create_task(running.invoke(invocation(b"hang")))
        await asyncio.sleep(0.05)
        launcher.lose(running.node_id)
        with pytest.raises(EnvironmentLost) as during:
            await call
        await backend.sync_nodes()
        fresh = await backend.create(env_spec, dead.append)
        dead_then = list(dead)
        backend.close()
        return during.value, running, dead_then, fresh, idle

    during, running, dead, fresh, idle = asyncio.run(scenario())
    assert during.started, "a call that was running may have run: only its caller may retry it"
    assert running.state is EnvState.DEAD and running in dead and idle not in dead
    assert fresh.node_id == idle.node_id


def test_an_environment_whose_node_is_gone_refuses_a_call_before_it_starts(tmp_path):
    async def scenario() -> EnvironmentLost:
        backend, launcher, env_spec = await cluster(tmp_path)
        env = await backend.create(env_spec, lambda env: None)
        await env.invoke(invocation(b"{}"))
        env.log_report("REPORT RequestId: req-1\n")
        launcher.lose(env.node_id)
        await asyncio.sleep(0.05)
        with pytest.raises(EnvironmentLost) as refused:
            await env.invoke(invocation(b"{}"))
        backend.close()
        return refused.value

    assert not asyncio.run(scenario()).started, "it never reached the node: it may run elsewhere"


def test_a_call_reaching_an_environment_that_could_not_start_fails_as_that_environment_did(tmp_path, monkeypatch):
    """A bootstrap that can't be started ends its environment at once; the call already on its way is
    Runtime.InvalidEntrypoint, as on one machine, not a vanished environment's Runtime.ExitError."""
    monkeypatch.setattr(FakeSandbox, "entrypoint_problem", lambda self: "fork/exec /var/task/bootstrap: denied")

    async def scenario() -> CallRecord:
        backend, _, env_spec = await cluster(tmp_path)
        env = await backend.create(env_spec, lambda env: None)
        await asyncio.sleep(0.05)  # the agent has heard of its death before the call arrives
        record = await env.invoke(invocation(b"{}"))
        backend.close()
        return record

    record = asyncio.run(scenario())
    assert record.error_type == "Runtime.InvalidEntrypoint"
    assert record.payload.decode().endswith('Error: fork/exec /var/task/bootstrap: denied"}')


def test_calls_as_ray_actor_calls_give_the_same_record(tmp_path):
    async def scenario() -> CallRecord:
        backend, _, env_spec = await cluster(tmp_path, calls_through_ray=True)
        env = await backend.create(env_spec, lambda env: None)
        record = await env.invoke(invocation(b"error"))
        env.log_report("REPORT RequestId: req-1\n")
        backend.close()
        return record

    record = asyncio.run(scenario())
    assert record.error_type == "ValueError" and record.status == "error" and record.node_id


def test_placement_picks_the_node_with_most_memory_free_then_fewest_environments(tmp_path):
    class Link:
        closed: str | None = None

    def agent(name: str, capacity: int, committed: int, envs: int = 0) -> Agent:
        made = Agent(name, capacity, LaunchedAgent(name, "", 0, {}), Link())  # type: ignore[arg-type]
        made.committed_mb, made.envs = committed, {str(i): None for i in range(envs)}  # type: ignore[misc]
        return made

    assert choose([agent("a", 1024, 512), agent("b", 2048, 1024)], 128).node_id == "b"
    assert choose([agent("a", 1024, 0, envs=2), agent("b", 1024, 0, envs=1)], 128).node_id == "b"
    gone = agent("b", 4096, 0)
    gone.link.closed = "lost"
    assert choose([agent("a", 1024, 900), gone], 128).node_id == "a"
    with pytest.raises(NoNodes):
        choose([gone], 128)


def test_plain_data_crosses_the_channel_unchanged():
    sent = invocation(b'{"x": 1}', "req-9")
    assert invocation_in(invocation_out(sent), None) == sent
    record = CallRecord(b"{}", "Runtime.ExitError", "crash", 1.5, 2.5, 0.3, 64, "log\n", 0.1, 0.2, True, False, "n")
    assert record_in(record_out(record)) == record


class LosingBackend(FakeBackend):
    """Its first environment is lost with its node when a call comes: before the call reached it, or after."""

    def __init__(self, started: bool) -> None:
        super().__init__()
        self.started = started

    async def create(self, spec: Any, on_dead: Any, log: Any = None) -> Any:
        env = await super().create(spec, on_dead, log)
        if len(self.created) == 1:
            async def lost(invocation: Any) -> CallRecord:
                env.destroy("node lost")
                raise EnvironmentLost("its node was lost", started=self.started)

            env.invoke = lost  # type: ignore[method-assign]
        return env


@pytest.mark.parametrize("started", [False, True])
def test_a_call_lost_before_it_started_runs_elsewhere_and_one_lost_running_is_a_service_exception(tmp_path, started):
    from test_invoker import build

    from ember.core.invoker import InvokeRequest
    from ember.errors import ServiceException

    async def scenario() -> Any:
        invoker, records, _ = await build(tmp_path, LosingBackend(started))
        try:
            return await invoker.invoke(InvokeRequest("f", b'"hi"'))
        except ServiceException as error:
            return error
        finally:
            records.close()

    outcome = asyncio.run(scenario())
    if started:
        assert isinstance(outcome, Exception) and outcome.status_code == 500
    else:
        assert outcome.payload == b'"hi"'


def test_an_agent_that_lost_its_front_door_keeps_idle_environments_for_the_grace_period_then_ends_them(tmp_path):
    async def scenario() -> tuple[EnvState, EnvState, bool]:
        launcher = FakeLauncher(tmp_path, {"node-0": 1024})
        backend = RayBackend(tmp_path / "logs", launcher)
        await backend.start()
        service = launcher.services["node-0"]
        expired = asyncio.Event()
        service.grace_s, service._on_expired = 0.3, expired.set
        env = await backend.create(dataclasses.replace(spec(), code_dir=code(tmp_path)), lambda env: None)
        await env.invoke(invocation(b"{}"))
        env.log_report("REPORT\n")
        local = launcher.backends["node-0"].created[0]
        backend.agents["node-0"].link.close("the front door died")  # as its process would
        await asyncio.sleep(0.1)
        during = local.state
        await asyncio.wait_for(expired.wait(), 5)
        service.close()
        return during, local.state, expired.is_set()

    during, after, expired = asyncio.run(scenario())
    assert (during, after, expired) == (EnvState.IDLE, EnvState.DEAD, True)


def test_a_front_door_attaching_within_the_grace_period_adopts_what_matches_and_ends_the_rest(tmp_path):
    """Kept: an idle environment of the spec the new server's pool starts (warm, its keys admitted again).
    Ended: one whose function changed meanwhile, one never claimed past the keep-alive, one that was busy."""
    from ember.core.credentials import SessionCredentials
    from ember.execution.pools import PoolManager

    keys = {"AWS_ACCESS_KEY_ID": "ASIAKEPT", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}

    async def scenario() -> dict[str, Any]:
        launcher = FakeLauncher(tmp_path, {"node-0": 1024})
        old = RayBackend(tmp_path / "logs", launcher)
        await old.start()
        launcher.services["node-0"].grace_s = 30
        code_dir = code(tmp_path)
        kept, changed, unclaimed = (dataclasses.replace(spec(name), code_dir=code_dir, credentials=keys)
                                    for name in ("f", "g", "h"))
        envs = [await old.create(each, lambda env: None) for each in (kept, changed, unclaimed, kept)]
        for env in envs[:3]:
            await env.invoke(invocation(b"{}"))
            env.log_report("REPORT\n")
        busy = asyncio.create_task(envs[3].invoke(invocation(b"hang")))
        await asyncio.sleep(0.05)
        left = launcher.backends["node-0"].created
        launched = old.agents["node-0"].launched
        old.agents["node-0"].link.close("the front door died")
        new = RayBackend(tmp_path / "logs", launcher)
        launcher.launch = lambda node_id: asyncio.sleep(0, launched)  # type: ignore[method-assign]  # attach
        await new.start()
        sessions = SessionCredentials()
        pools = PoolManager(new, 60, sessions)
        pool = pools.pool_for(dataclasses.replace(kept, credentials={}))
        adopted = await pool.acquire()
        record = await adopted.invoke(invocation(b"{}"))
        adopted.log_report("REPORT\n")
        pools.pool_for(dataclasses.replace(changed, credentials={}, revision="r2"))
        new.reap(3600)
        survivors_after_an_early_reap = len(new._survivors)
        new.reap(0)
        await asyncio.sleep(0.05)
        outcome = {"record": record, "states": [env.state for env in left], "same": adopted.env_id == envs[0].env_id,
                   "session": sessions.find("ASIAKEPT"), "early": survivors_after_an_early_reap,
                   "committed": new.stats().memory_mb}
        pools.destroy_all("done")
        await asyncio.sleep(0.05)
        outcome["revoked"] = sessions.find("ASIAKEPT") is None
        new.close()
        busy.cancel()
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome["same"] and not outcome["record"].cold and outcome["record"].payload == b"{}"
    assert outcome["states"] == [EnvState.IDLE, EnvState.DEAD, EnvState.DEAD, EnvState.DEAD]
    assert outcome["session"] is not None and outcome["session"].function_name == "f" and outcome["revoked"]
    assert outcome["early"] == 1, "an unclaimed survivor idle for less than the keep-alive stays"
    assert outcome["committed"] == 128, "what ended gave its memory back"


def test_an_agent_sweeps_what_killed_agents_left_and_nothing_else(tmp_path):
    import os

    from ember.api.node_agent import sweep_dead_agents

    dead = 2**22 + 1  # above the largest pid_max Linux allows: never a live process
    for name in (f"ember-agent-{dead}-abc", f"ember-agent-{os.getpid()}-def", "ember-agent-notapid-ghi", "other"):
        (tmp_path / name / "code").mkdir(parents=True)
    sweep_dead_agents(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ember-agent-{os.getpid()}-def", "ember-agent-notapid-ghi",
                                                          "other"]


def test_a_node_without_cgroups_or_namespaces_is_named_in_the_front_doors_log(caplog):
    """The agent's own warning stays in its Ray worker's log on its node: the operator reads the front door's."""
    from ember.execution.ray.backend import _warn_if_not_isolated

    _warn_if_not_isolated("node-full", {"namespaces": True, "cgroups": True})
    _warn_if_not_isolated("node-bare", {"namespaces": False, "cgroups": False})
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "node-bar" in warnings[0] and "without namespaces or cgroups" in warnings[0]
    assert "rlimits" in warnings[0]


def test_an_agent_starts_no_call_once_its_front_door_is_lost(tmp_path):
    """An invoke read just before the channel's EOF must not run after it: its caller is gone, and an event
    it carried runs again from the restarted server's queue (test_lifecycle, in cluster mode, saw it tick on)."""
    async def scenario() -> tuple[CallRecord, list[str]]:
        launcher = FakeLauncher(tmp_path, {"node-0": 1024})
        backend = RayBackend(tmp_path / "logs", launcher)
        await backend.start()
        service = launcher.services["node-0"]
        service.grace_s = 5.0
        env = await backend.create(dataclasses.replace(spec(), code_dir=code(tmp_path)), lambda env: None)
        await env.invoke(invocation(b"{}"))
        local = launcher.backends["node-0"].created[0]
        backend.agents["node-0"].link.close("the front door died")
        await asyncio.sleep(0.1)
        (values, *_) = await service._invoke(0, env.env_id, invocation_out(invocation(b"late")))
        service.close()
        env.log.close()
        return record_in(values), local.sandbox.freezes

    record, freezes = asyncio.run(scenario())
    assert record.failed and freezes.count("deliver") == 1, "the late call reached the runtime"
