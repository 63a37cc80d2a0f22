"""Provisioned concurrency: configs on versions and aliases, environments initialised ahead of calls."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from conftest import ROLE, EmberProcess, lambda_client, make_zip, wait_for

HANDLER = """
import os, time
ENVIRONMENT = os.urandom(8).hex()  # one per Init: which environment served a call
def handler(event, context):
    if event.get("crash"):
        os._exit(1)
    time.sleep(event.get("s", 0))
    return {"init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "env": ENVIRONMENT}
"""
BROKEN_INIT = "raise RuntimeError('no config')\ndef handler(e, c):\n    return 1\n"


def wait_status(client, name: str, qualifier: str, want: str = "READY", timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        config = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] == want or time.monotonic() > deadline:
            assert config["Status"] == want, config
            return config
        time.sleep(0.05)


def call(client, name: str, qualifier: str | None = None, **event) -> tuple[dict, str]:
    """The function's answer and the REPORT line of the call."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = client.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail", **extra)
    report = [line for line in base64.b64decode(response["LogResult"]).decode().splitlines()
              if line.startswith("REPORT")]
    return json.loads(response["Payload"].read()), report[-1]


def provisioned_version(client, deploy, source: str = HANDLER) -> tuple[str, str]:
    name = deploy(source, timeout=10)
    return name, client.publish_version(FunctionName=name)["Version"]


def test_a_version_goes_in_progress_then_ready_and_its_first_call_is_warm(client, deploy):
    name, version = provisioned_version(client, deploy)
    put = client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                    ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (put["Status"], put["RequestedProvisionedConcurrentExecutions"],
            put["AllocatedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 2, 0)
    ready = wait_status(client, name, version)
    assert ready["AllocatedProvisionedConcurrentExecutions"] == ready["AvailableProvisionedConcurrentExecutions"] == 2
    body, report = call(client, name, version)
    assert body["init"] == "provisioned-concurrency"
    assert "Init Duration" not in report, "a provisioned environment already ran Init"
    latest, report = call(client, name)
    assert latest["init"] == "on-demand" and "Init Duration" in report, "$LATEST is not provisioned"


def test_an_alias_provisions_its_version(client, deploy):
    name, version = provisioned_version(client, deploy)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    wait_status(client, name, "live")
    body, report = call(client, name, "live")
    assert body["init"] == "provisioned-concurrency" and "Init Duration" not in report
    with pytest.raises(client.exceptions.ResourceConflictException, match="pointed by a Provisioned Concurrency alias"):
        client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                  ProvisionedConcurrentExecutions=1)
    [listed] = client.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert listed["FunctionArn"].endswith(f":function:{name}:live") and listed["Status"] == "READY"
    client.update_function_configuration(FunctionName=name, Environment={"Variables": {"VERSION": "2"}})
    second = client.publish_version(FunctionName=name)["Version"]
    assert second != version
    client.update_alias(FunctionName=name, Name="live", FunctionVersion=second)
    wait_status(client, name, "live")
    moved, report = call(client, name, "live")
    assert moved["init"] == "provisioned-concurrency" and "Init Duration" not in report, "it followed the alias"
    client.delete_alias(FunctionName=name, Name="live")
    assert client.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_calls_beyond_the_provisioned_environments_run_on_demand(client, deploy):
    name, version = provisioned_version(client, deploy)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    wait_status(client, name, version)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, client, name, version, s=1.0)
        time.sleep(0.3)
        second = pool.submit(call, client, name, version, s=0)
        results = [first.result(), second.result()]
    assert [body["init"] for body, _ in results] == ["provisioned-concurrency", "on-demand"]
    assert "Init Duration" not in results[0][1] and "Init Duration" in results[1][1]


def test_latest_and_bad_values_are_refused_and_a_missing_config_is_not_found(client, deploy, ember):
    name, version = provisioned_version(client, deploy)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="unpublished function versions"):
        client.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST",
                                                  ProvisionedConcurrentExecutions=1)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="alias or a published version"):
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST")
    with pytest.raises(client.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="nope")
    unchecked = lambda_client(ember.url, parameter_validation=False)
    with pytest.raises(ClientError, match="greater than or equal to 1") as info:
        unchecked.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                     ProvisionedConcurrentExecutions=0)
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_provisioned_concurrency_must_fit_the_reservation(client, deploy):
    name, version = provisioned_version(client, deploy)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="reservedConcurrentExecution"):
        client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                  ProvisionedConcurrentExecutions=2)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="provisioned concurrency"):
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    client.delete_function_concurrency(FunctionName=name)
    unreserved = client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=r"minimum value of \[100\]"):
        client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                  ProvisionedConcurrentExecutions=unreserved)


def test_changing_listing_and_deleting_configs(client, deploy):
    name, version = provisioned_version(client, deploy)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    wait_status(client, name, version)
    lowered = client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                        ProvisionedConcurrentExecutions=1)
    assert (lowered["Status"], lowered["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 1)
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": HANDLER + "# v2\n"}))
    other = client.publish_version(FunctionName=name)["Version"]
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=other, ProvisionedConcurrentExecutions=1)
    assert wait_status(client, name, version)["AllocatedProvisionedConcurrentExecutions"] == 1, "untouched"
    page = client.list_provisioned_concurrency_configs(FunctionName=name, MaxItems=1)
    assert len(page["ProvisionedConcurrencyConfigs"]) == 1 and page["NextMarker"]
    listed = client.get_paginator("list_provisioned_concurrency_configs").paginate(FunctionName=name, PaginationConfig={
        "PageSize": 1}).build_full_result()["ProvisionedConcurrencyConfigs"]
    assert sorted(c["FunctionArn"].rsplit(":", 1)[1] for c in listed) == sorted([version, other])
    client.delete_function(FunctionName=name, Qualifier=other)
    assert client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert client.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_a_failed_init_is_failed_with_its_reason(client, deploy):
    name, version = provisioned_version(client, deploy, BROKEN_INIT)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    failed = wait_status(client, name, version, want="FAILED")
    assert failed["StatusReason"].startswith("FUNCTION_ERROR_INIT_FAILURE"), failed


def test_a_provisioned_environment_that_dies_is_replaced(client, deploy):
    name, version = provisioned_version(client, deploy)
    client.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    wait_status(client, name, version)
    first, _ = call(client, name, version)
    crashed = client.invoke(FunctionName=name, Qualifier=version, Payload=b'{"crash": true}')
    assert crashed["FunctionError"] == "Unhandled"
    wait_status(client, name, version)
    replaced, report = call(client, name, version)
    assert replaced["init"] == "provisioned-concurrency" and "Init Duration" not in report
    assert replaced["env"] != first["env"]


def test_keep_alive_never_reaps_provisioned_environments(ember_with):
    server = ember_with("--keep-alive", "0.5")
    client = lambda_client(server.url)
    client.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": HANDLER})})
    version = client.publish_version(FunctionName="kept")["Version"]
    client.put_provisioned_concurrency_config(FunctionName="kept", Qualifier=version,
                                              ProvisionedConcurrentExecutions=1)
    wait_status(client, "kept", version)
    provisioned, _ = call(client, "kept", version)
    call(client, "kept")
    assert wait_for(lambda: len(server.environment_pids()) == 1, timeout=10), "the on-demand one is reaped"
    again, report = call(client, "kept", version)
    assert again["env"] == provisioned["env"] and "Init Duration" not in report
    _, latest_report = call(client, "kept")
    assert "Init Duration" in latest_report, "the on-demand environment was reaped meanwhile"


def test_configs_survive_a_restart_and_are_provisioned_again(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    try:
        client = lambda_client(server.url)
        client.create_function(FunctionName="durable", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                               Code={"ZipFile": make_zip({"index.py": HANDLER})})
        version = client.publish_version(FunctionName="durable")["Version"]
        client.put_provisioned_concurrency_config(FunctionName="durable", Qualifier=version,
                                                  ProvisionedConcurrentExecutions=1)
        wait_status(client, "durable", version)
    finally:
        server.stop()
    restarted = EmberProcess(tmp_path / "data").start()
    try:
        client = lambda_client(restarted.url)
        wait_status(client, "durable", version)
        body, report = call(client, "durable", version)
        assert body["init"] == "provisioned-concurrency" and "Init Duration" not in report
    finally:
        restarted.stop()
