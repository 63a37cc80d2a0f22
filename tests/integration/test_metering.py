"""Every call is metered under the server's price model: REPORT's Billed Duration and the record agree."""

from __future__ import annotations

import base64
import re
import sqlite3
from decimal import Decimal

from conftest import ROLE, lambda_client, make_zip, wait_for_records

from ember.billing.prices import get_model


def rows(data_dir, request_ids: list[str]) -> dict[str, sqlite3.Row]:
    where = f"request_id IN ({','.join('?' * len(request_ids))})"
    return {row["request_id"]: row for row in wait_for_records(data_dir, len(request_ids), where, tuple(request_ids))}


def test_the_2018_model_bills_100ms_slices_and_records_the_cost(ember_with):
    server = ember_with("--price-model", "2018")
    client = lambda_client(server.url)
    client.create_function(FunctionName="meter", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})},
                           MemorySize=256)
    response = client.invoke(FunctionName="meter", LogType="Tail")
    billed = int(re.search(r"Billed Duration: (\d+) ms", base64.b64decode(response["LogResult"]).decode())[1])
    assert billed == 100, "a short call is one 100 ms slice, Init not billed under 2018"
    event = client.invoke(FunctionName="meter", InvocationType="Event")
    request_id, event_id = response["ResponseMetadata"]["RequestId"], event["ResponseMetadata"]["RequestId"]
    found = rows(server.data_dir, [request_id, event_id])
    call = found[request_id]
    expected = get_model("2018").call_cost(256, 100)
    assert call["billed_ms"] == 100 and call["price_model"] == "2018" and call["arch"] == "x86_64"
    assert abs(Decimal(str(call["cost_usd"])) - expected) < Decimal("1e-15")
    assert call["cold"] == 1 and call["source"] == "invoke" and call["memory_mb"] == 256
    assert found[event_id]["source"] == "event" and found[event_id]["billed_ms"] == 100
    client.create_function(FunctionName="big", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})},
                           MemorySize=10240)  # beyond 2018's 3,008 MB: the price model never changes validation


def test_the_default_2025_model_bills_init_on_a_cold_start(ember, client, deploy):
    name = deploy("import time\ntime.sleep(0.05)\ndef handler(e, c):\n    return 1\n")
    cold = client.invoke(FunctionName=name, LogType="Tail")
    warm = client.invoke(FunctionName=name, LogType="Tail")
    found = rows(ember.data_dir, [cold["ResponseMetadata"]["RequestId"], warm["ResponseMetadata"]["RequestId"]])
    first, second = (found[r["ResponseMetadata"]["RequestId"]] for r in (cold, warm))
    assert first["price_model"] == "2025" and first["init_ms"] >= 50
    assert first["billed_ms"] >= 50 + first["duration_ms"], "Init billed with the call"
    assert second["init_ms"] is None and second["billed_ms"] < 50
