"""Isolation levels chosen at start: `full` refuses when the machine can't give it, `auto` says what it lacks."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import BIN

from ember.execution.local.isolation import (
    IsolationUnavailable,
    SandboxSettings,
    open_sandboxes,
)

NO_CGROUPS = "proc /proc proc rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n"  # a mount table without cgroup hierarchies


def test_full_refuses_to_start_without_cgroups(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(NO_CGROUPS)
    with pytest.raises(IsolationUnavailable, match="cgroups: no cgroup hierarchy for memory, cpu, pids"):
        asyncio.run(open_sandboxes(tmp_path / "stage", SandboxSettings("full", None, mounts=mounts)))


def test_auto_runs_without_cgroups_and_says_so(tmp_path, caplog):
    mounts = tmp_path / "mounts"
    mounts.write_text(NO_CGROUPS)

    async def open_and_close() -> tuple[bool, bool]:
        sandboxes = await open_sandboxes(tmp_path / "stage", SandboxSettings("auto", None, mounts=mounts))
        try:
            return sandboxes.cgroups is None, sandboxes.isolate
        finally:
            sandboxes.close()

    with caplog.at_level(logging.WARNING, logger="ember.isolation"):
        no_cgroups, namespaces = asyncio.run(open_and_close())
    assert no_cgroups and namespaces, "namespaces still isolate; memory falls back to rlimits"
    assert [r.message for r in caplog.records if "no cgroups" in r.message], caplog.text


def test_bad_isolation_flags_are_one_line_errors(tmp_path):
    for flags in (["--isolation", "strict"], ["--zygote", "maybe"], ["--init-burst", "yes"]):
        result = subprocess.run([str(BIN / "ember"), "serve", "--port", "0", "--data-dir", str(tmp_path), *flags],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_environments_forked_from_the_zygote_do_not_share_random_state(client, deploy):
    name = deploy("import random, time\nSEED = random.random()\n"
                  "def handler(e, c):\n    time.sleep(0.3)\n    return SEED\n")
    with ThreadPoolExecutor(3) as pool:
        calls = [pool.submit(client.invoke, FunctionName=name) for _ in range(3)]
        seeds = [json.loads(call.result()["Payload"].read()) for call in calls]
    assert len(set(seeds)) == 3, seeds
