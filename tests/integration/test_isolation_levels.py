"""Isolation levels chosen at start: `full` refuses when the machine can't give it, `auto` says what it lacks."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def spares_of(zygote: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{zygote}/task/{zygote}/children").read_text().split()]


def open_sockets(pid: int) -> list[str]:
    fds = Path(f"/proc/{pid}/fd")
    return [link for link in (os.readlink(fd) for fd in fds.iterdir()) if link.startswith("socket:")]


def test_a_spare_keeps_nothing_of_its_zygote_but_its_plan_channel(tmp_path):
    """A spare cloned as its zygote was killed (before it armed its death signal) waited for a plan forever:
    it held its own copy of the zygote's end of their channel, so that end never closed."""
    async def spares_then_zygote_killed() -> tuple[list[list[str]], list[int]]:
        sandboxes = await open_sandboxes(tmp_path / "stage", SandboxSettings("auto", None, spares=2))
        assert sandboxes.spawner.info is not None
        zygote = sandboxes.spawner.info.pid
        try:
            for _ in range(200):
                if len(spares_of(zygote)) == 2:
                    break
                await asyncio.sleep(0.05)
            spares = spares_of(zygote)
            await asyncio.sleep(0.2)  # prepared: waiting for a plan
            sockets = [open_sockets(pid) for pid in spares]
        finally:
            sandboxes.close()
        return sockets, spares

    sockets, spares = asyncio.run(spares_then_zygote_killed())
    assert len(spares) == 2 and all(len(held) == 1 for held in sockets), sockets
    deadline = time.monotonic() + 5
    while [pid for pid in spares if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in spares if alive(pid)], "the spares end with their zygote"


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
