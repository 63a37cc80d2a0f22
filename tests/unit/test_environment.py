"""ember.execution.environment on the fake backend: the Runtime API's states, one record per call."""

from __future__ import annotations

import asyncio

import pytest
from fake_backend import FakeBackend, invocation, spec

from ember.execution.states import ENVIRONMENT_MOVES, EnvState, IllegalTransition, moved
from ember.execution.violations import InvalidRequestID, InvalidStateTransition, PayloadTooLarge


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_a_cold_call_waits_for_init_and_a_warm_one_does_not():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        cold = await env.invoke(invocation(b'"one"', "r1"))
        warm = await env.invoke(invocation(b'"two"', "r2"))
        env.destroy("done")
        return cold, warm

    cold, warm = run(scenario())
    assert (cold.payload, cold.cold, cold.error_type) == (b'"one"', True, None)
    assert cold.init_ms is not None and cold.init_ms >= 0
    assert (warm.payload, warm.cold, warm.init_ms) == (b'"two"', False, None)
    assert warm.max_memory_mb == 20


def test_an_idle_environment_is_frozen_and_thawed_before_its_runtime_gets_the_event():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        await env.invoke(invocation(b'"one"', "r1"))
        await asyncio.sleep(0.01)  # the runtime asks for its next event
        frozen_between_calls = env.sandbox.frozen
        await env.invoke(invocation(b'"two"', "r2"))
        await asyncio.sleep(0.01)
        return frozen_between_calls, list(env.sandbox.freezes)

    frozen_between_calls, freezes = run(scenario())
    assert frozen_between_calls
    assert freezes == ["deliver", "freeze", "thaw", "deliver", "freeze"], "the cold call came before any freeze"


def test_back_to_back_calls_neither_freeze_nor_thaw():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        for n in range(5):
            await env.invoke(invocation(b'"x"', f"r{n}"))
        return list(env.sandbox.freezes)

    assert run(scenario()) == ["deliver"] * 5


def test_a_frozen_environment_is_killed_then_thawed():
    async def scenario():
        backend = FakeBackend()
        env = await backend.create(spec(), lambda env: None)
        await env.invoke(invocation(b'"one"', "r1"))
        await asyncio.sleep(0.01)
        env.destroy("reaped")
        await asyncio.sleep(0.01)
        return env, backend

    env, backend = run(scenario())
    freezes = env.sandbox.freezes
    killed = freezes.index("kill")
    assert freezes[killed - 1:killed + 2] == ["freeze", "kill", "thaw"] and not env.sandbox.frozen
    assert backend.dead == [env]


def test_max_memory_used_never_exceeds_memory_size():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        env.sandbox.memory_bytes = (env.spec.memory_mb + 40) * 1024 * 1024  # shared pages counted too
        return env.spec.memory_mb, await env.invoke(invocation(b'"one"', "r1"))

    memory_mb, record = run(scenario())
    assert record.max_memory_mb == memory_mb


def test_the_record_carries_the_calls_log_start_to_end():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        record = await env.invoke(invocation(b"print", "r1"))
        env.log_report("REPORT RequestId: r1\n")
        return env, record

    env, record = run(scenario())
    assert record.log == "START RequestId: r1 Version: $LATEST\nhello from the handler\nEND RequestId: r1\n"
    assert env.log.lines[0].startswith("INIT_START")
    assert env.log.lines[-1] == "REPORT RequestId: r1\n"


def test_a_timeout_ends_that_environment_only_and_says_so_once():
    async def scenario():
        backend = FakeBackend()
        deaths = []
        slow = await backend.create(spec(timeout_s=1), deaths.append)
        other = await backend.create(spec(), deaths.append)
        record = await slow.invoke(invocation(b"hang"))
        await asyncio.sleep(0.01)
        return record, slow, other, deaths

    record, slow, other, deaths = run(scenario())
    assert (record.error_type, record.status, record.duration_ms) == ("Sandbox.Timedout", "timeout", 1000.0)
    assert "Task timed out after 1.00 seconds" in record.log
    assert slow.state is EnvState.DEAD and other.state is EnvState.IDLE
    assert deaths == [slow]


def test_a_crash_is_runtime_exit_error():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        return await env.invoke(invocation(b"crash")), env

    record, env = run(scenario())
    assert (record.error_type, record.status) == ("Runtime.ExitError", "crash")
    assert b"Runtime exited with error: exit status 1" in record.payload
    assert env.state is EnvState.DEAD and env.sandbox.released == 1


def test_an_init_error_fails_the_cold_call_with_the_runtimes_payload():
    async def scenario():
        env = await FakeBackend().create(spec(handler="init.error"), lambda env: None)
        return await env.invoke(invocation())

    record = run(scenario())
    assert record.error_type == "Runtime.ImportModuleError" and record.cold


def test_a_second_next_while_one_waits_is_an_invalid_state_transition():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        await env.wait_initialised()
        with pytest.raises(InvalidStateTransition):
            await env.runtime_next()
        env.destroy("done")

    run(scenario())


def test_an_init_error_after_init_is_an_invalid_state_transition():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        await env.wait_initialised()
        with pytest.raises(InvalidStateTransition):
            env.runtime_init_error(b"{}", "Runtime.Late")
        env.destroy("done")

    run(scenario())


def test_a_response_for_another_request_is_an_invalid_request_id():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        await env.wait_initialised()
        with pytest.raises(InvalidRequestID):
            env.runtime_response("not-in-flight", b"{}")
        env.destroy("done")

    run(scenario())


def test_a_response_over_6_mb_is_refused_and_the_caller_gets_response_too_large():
    async def scenario():
        env = await FakeBackend().create(spec(), lambda env: None)
        await env.wait_initialised()
        call = asyncio.create_task(env.invoke(invocation(b"hang", "big")))
        while env.state is not EnvState.BUSY or env._delivered_ns is None:
            await asyncio.sleep(0)
        with pytest.raises(PayloadTooLarge):
            env.runtime_response("big", b"x" * (6 * 1024 * 1024 + 101))
        record = await call
        env.destroy("done")
        return record

    assert run(scenario()).error_type == "Function.ResponseSizeTooLarge"


def test_every_move_not_listed_is_illegal():
    legal = {(a, b) for a, targets in ENVIRONMENT_MOVES.items() for b in targets}
    for current in EnvState:
        for new in EnvState:
            if (current, new) in legal:
                assert moved(ENVIRONMENT_MOVES, current, new, "env") is new
            else:
                with pytest.raises(IllegalTransition):
                    moved(ENVIRONMENT_MOVES, current, new, "env")
    assert (EnvState.DEAD, EnvState.IDLE) not in legal and (EnvState.STARTING, EnvState.BUSY) not in legal
