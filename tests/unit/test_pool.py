"""ember.execution.pool on the fake backend: reuse order, reaping, provisioning, members' moves."""

from __future__ import annotations

import asyncio

import pytest
from fake_backend import FakeBackend, invocation, spec

from ember.execution.pool import Pool
from ember.execution.states import MEMBER_MOVES, EnvState, IllegalTransition, MemberState, PoolState


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


async def settle(pool: Pool, ready: int) -> None:
    while pool.provisioned_ready < ready:
        await asyncio.sleep(0.001)


def test_concurrent_leases_get_separate_environments_then_the_most_recent_is_reused():
    async def scenario():
        pool = Pool(spec(), FakeBackend())
        first, second = await pool.acquire(), await pool.acquire()
        await first.invoke(invocation())
        await second.invoke(invocation())
        pool.release(first)
        pool.release(second)
        again = await pool.acquire()
        pool.destroy_all("done")
        return first, second, again

    first, second, again = run(scenario())
    assert first is not second
    assert again is second


def test_idle_environments_are_reaped_but_leased_ones_never():
    async def scenario():
        pool = Pool(spec(), FakeBackend())
        idle, busy = await pool.acquire(), await pool.acquire()
        await idle.invoke(invocation())
        pool.release(idle)
        reaped = pool.reap_idle(keep_alive_s=0)
        counts = pool.count(MemberState.IDLE), pool.count(MemberState.LEASED)
        pool.destroy_all("done")
        return reaped, idle, busy, counts

    reaped, idle, busy, counts = run(scenario())
    assert reaped == 1 and idle.state is EnvState.DEAD
    assert counts == (0, 1)


def test_a_dead_environment_is_not_handed_back():
    async def scenario():
        pool = Pool(spec(), FakeBackend())
        env = await pool.acquire()
        record = await env.invoke(invocation(b"crash"))
        pool.release(env)
        return record, pool.size, await pool.acquire() is env

    record, size, reused = run(scenario())
    assert record.error_type == "Runtime.ExitError" and size == 0 and not reused


def test_provisioned_environments_start_ahead_and_serve_first_and_warm():
    async def scenario():
        backend = FakeBackend()
        pool = Pool(spec(), backend)
        on_demand = await pool.acquire()
        await on_demand.invoke(invocation())
        pool.release(on_demand)
        pool.provision(2)
        await settle(pool, 2)
        env = await pool.acquire()
        record = await env.invoke(invocation())
        pool.destroy_all("done")
        return env, on_demand, record, len(backend.created)

    env, on_demand, record, created = run(scenario())
    assert env is not on_demand and created == 3
    assert env.spec.initialization_type == "provisioned-concurrency"
    assert not record.cold and record.init_ms is None


def test_a_provisioned_environment_that_dies_is_replaced():
    async def scenario():
        backend = FakeBackend()
        pool = Pool(spec(), backend)
        pool.provision(1)
        await settle(pool, 1)
        env = await pool.acquire()
        await env.invoke(invocation(b"crash"))
        pool.release(env)
        await settle(pool, 1)
        ready = pool.provisioned_ready
        pool.destroy_all("done")
        return ready, len(backend.created)

    assert run(scenario()) == (1, 2)


def test_lowering_the_target_demotes_ready_ones_to_on_demand():
    async def scenario():
        pool = Pool(spec(), FakeBackend())
        pool.provision(2)
        await settle(pool, 2)
        pool.provision(0)
        state = pool.provisioned_ready, pool.count(MemberState.IDLE)
        reaped = pool.reap_idle(keep_alive_s=0)
        return state, reaped

    assert run(scenario()) == ((0, 2), 2)


def test_a_failed_provisioned_init_stops_provisioning_with_aws_reason():
    async def scenario():
        pool = Pool(spec(handler="init.error"), FakeBackend())
        pool.provision(1)
        while pool.failure is None:
            await asyncio.sleep(0.001)
        return pool.failure, pool.size

    failure, size = run(scenario())
    assert failure == "FUNCTION_ERROR_INIT_FAILURE: Runtime.ImportModuleError" and size == 0


def test_a_retired_pool_keeps_leased_environments_until_their_call_ends():
    async def scenario():
        pool = Pool(spec(), FakeBackend())
        idle, leased = await pool.acquire(), await pool.acquire()
        await idle.invoke(invocation())
        pool.release(idle)
        pool.retire("function updated")
        record = await leased.invoke(invocation(b'"still runs"'))
        pool.release(leased)
        await asyncio.sleep(0.01)
        return pool, idle, leased, record

    pool, idle, leased, record = run(scenario())
    assert pool.state is PoolState.RETIRED
    assert idle.state is EnvState.DEAD and leased.state is EnvState.DEAD
    assert record.payload == b'"still runs"' and pool.size == 0


def test_every_member_move_not_listed_is_illegal():
    pool_member_moves = {(a, b) for a, targets in MEMBER_MOVES.items() for b in targets}
    assert (MemberState.GONE, MemberState.IDLE) not in pool_member_moves
    assert (MemberState.STARTING, MemberState.LEASED) not in pool_member_moves

    async def scenario():
        pool = Pool(spec(), FakeBackend())
        env = await pool.acquire()
        await env.invoke(invocation())
        pool.release(env)
        member = pool._members[env]
        with pytest.raises(IllegalTransition):
            pool._move(member, MemberState.STARTING)
        pool.destroy_all("done")

    run(scenario())


class Issuer:
    def __init__(self) -> None:
        self.live: set[str] = set()
        self.count = 0

    def issue(self, function_name: str, role_arn: str) -> dict[str, str]:
        self.count += 1
        key = f"ASIA{function_name}{self.count}"
        self.live.add(key)
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": role_arn}

    def revoke(self, credentials: dict[str, str]) -> None:
        self.live.discard(credentials["AWS_ACCESS_KEY_ID"])


def test_each_environment_holds_keys_of_its_own_that_die_with_it():
    issuer = Issuer()

    async def scenario():
        pool = Pool(spec(), FakeBackend(), issuer)
        first, second = await pool.acquire(), await pool.acquire()
        keys = first.spec.credentials["AWS_ACCESS_KEY_ID"], second.spec.credentials["AWS_ACCESS_KEY_ID"]
        await first.invoke(invocation(b"crash"))
        pool.release(first)
        live_after_crash = set(issuer.live)
        pool.destroy_all("done")
        await asyncio.sleep(0.01)
        return keys, live_after_crash

    (first, second), live_after_crash = run(scenario())
    assert first != second
    assert live_after_crash == {second}
    assert issuer.live == set()
