"""ember.core.invoker on the fake backend: one metered call feeds REPORT, the record and the metrics."""

from __future__ import annotations

import asyncio
import base64
import io
import sqlite3
import zipfile
from contextlib import closing

import pytest
from fake_backend import FakeBackend

from ember.billing.prices import get_model
from ember.core.aliases import AliasStore
from ember.core.code_store import CodeStore
from ember.core.concurrency import ConcurrencyLimiter
from ember.core.database import open_database
from ember.core.functions import FunctionRegistry
from ember.core.invoker import Invoker, InvokeRequest
from ember.core.records import InvocationRecords
from ember.core.versions import VersionStore
from ember.errors import TooManyRequestsException
from ember.execution.pools import PoolManager
from ember.observe.metrics import Metrics


def code_zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return base64.b64encode(buffer.getvalue()).decode()


async def build(tmp_path, backend: FakeBackend) -> tuple[Invoker, InvocationRecords, FunctionRegistry]:
    db = open_database(tmp_path / "ember.db")
    registry = FunctionRegistry(db, CodeStore(tmp_path / "code"), "us-east-1")
    versions = VersionStore(db, registry)
    aliases = AliasStore(db, registry, versions)
    metrics = Metrics()
    records = InvocationRecords(tmp_path / "ember.db")
    invoker = Invoker(registry, versions, aliases, ConcurrencyLimiter(registry, 1000, metrics),
                      PoolManager(backend, 60), records, "us-east-1", get_model("2025"), metrics)
    await registry.create({"FunctionName": "f", "Runtime": "python3.11", "Handler": "app.handler",
                     "Role": "arn:aws:iam::000000000000:role/test", "Code": {"ZipFile": code_zip()}})
    return invoker, records, registry


def rows(tmp_path) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(tmp_path / "ember.db")) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM invocations ORDER BY started_at").fetchall()


def test_one_call_is_reported_recorded_and_counted_from_one_record(tmp_path):
    backend = FakeBackend()

    async def scenario():
        invoker, records, _ = await build(tmp_path, backend)
        cold = await invoker.invoke(InvokeRequest("f", b'"hi"', tail=True))
        warm = await invoker.invoke(InvokeRequest("f", b"print", tail=True))
        await asyncio.sleep(0)  # a call is accounted on the loop's next turn, after its caller's answer
        metrics = invoker.metrics.exposition().decode()
        records.close()
        return cold, warm, metrics

    cold, warm, metrics = asyncio.run(scenario())
    assert cold.payload == b'"hi"' and cold.function_error is None
    assert "Init Duration" in cold.log_tail and "Init Duration" not in warm.log_tail
    assert warm.log_tail.startswith(f"START RequestId: {warm.request_id}")
    assert "hello from the handler" in warm.log_tail and "\tMax Memory Used: 20 MB\t" in warm.log_tail
    recorded = rows(tmp_path)
    assert [(r["request_id"], r["cold"], r["max_memory_mb"]) for r in recorded] == \
        [(cold.request_id, 1, 20), (warm.request_id, 0, 20)]
    assert all(r["billed_ms"] >= 1 and r["cost_usd"] > 0 for r in recorded)
    assert 'faas_invocations_total{faas_name="f",faas_trigger="other",faas_version="$LATEST"} 2.0' in metrics
    assert backend.created[0].log.lines[-1] == warm.log_tail.splitlines(keepends=True)[-1]


def test_a_crash_is_a_function_error_and_the_next_call_is_cold(tmp_path):
    async def scenario():
        invoker, records, _ = await build(tmp_path, FakeBackend())
        crashed = await invoker.invoke(InvokeRequest("f", b"crash"))
        after = await invoker.invoke(InvokeRequest("f", b"{}", tail=True))
        await asyncio.sleep(0)
        records.close()
        return crashed, after

    crashed, after = asyncio.run(scenario())
    assert crashed.function_error == "Unhandled" and b"Runtime.ExitError" in crashed.payload
    assert "Init Duration" in after.log_tail
    assert [r["status"] for r in rows(tmp_path)] == ["crash", "success"]


def test_reserved_concurrency_zero_throttles_before_any_environment_starts(tmp_path):
    backend = FakeBackend()

    async def scenario():
        invoker, records, registry = await build(tmp_path, backend)
        registry.set_reserved("f", 0)
        try:
            with pytest.raises(TooManyRequestsException):
                await invoker.invoke(InvokeRequest("f", b"{}"))
        finally:
            records.close()

    asyncio.run(scenario())
    assert backend.created == []


def test_server_timing_names_every_phase(tmp_path):
    async def scenario():
        invoker, records, _ = await build(tmp_path, FakeBackend())
        result = await invoker.invoke(InvokeRequest("f", b"{}"))
        records.close()
        return result

    phases = [item.split(";")[0] for item in asyncio.run(scenario()).server_timing.split(", ")]
    assert phases == ["resolve", "acquire", "thaw", "init", "deliver", "run", "finish"]
