"""Idle environments are frozen (cgroup freezer) as on AWS: nothing inside runs between calls."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROLE, EmberProcess, lambda_client, make_zip

from ember.execution.local.cgroups import detect
from ember.execution.local.isolation import SandboxSettings, open_sandboxes

HIERARCHIES = detect(Path("/proc/mounts").read_text())
pytestmark = pytest.mark.skipif("freezer" not in HIERARCHIES, reason="no cgroup freezer on this machine")

TICKING_PYTHON = """import threading, time
TICKS = [0]
def tick():
    while True:
        TICKS[0] += 1
        time.sleep(0.01)
threading.Thread(target=tick, daemon=True).start()
def handler(event, context):
    return TICKS[0]
"""
TICKING_NODE = """let ticks = 0;
setInterval(() => { ticks += 1; }, 10);
exports.handler = async () => ticks;
"""
SPINNING = """import threading
def spin():
    while True:
        pass
threading.Thread(target=spin, daemon=True).start()
def handler(event, context):
    return 'ok'
"""
IDLE_S = 1.0


def wait_until(predicate, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def ticks(client, name: str) -> int:
    return json.loads(client.invoke(FunctionName=name)["Payload"].read())


@pytest.mark.parametrize("runtime, files", [("python3.11", {"index.py": TICKING_PYTHON}),
                                             ("nodejs20.x", {"index.js": TICKING_NODE})])
def test_background_work_does_not_advance_between_calls(client, deploy, runtime, files):
    """A thread ticking every 10 ms would tick ~100 times in a second of idling; frozen, it ticks only
    during the calls themselves."""
    name = deploy(files, runtime=runtime)
    first = ticks(client, name)
    time.sleep(IDLE_S)
    second = ticks(client, name)
    time.sleep(IDLE_S)
    third = ticks(client, name)
    assert third - first < 20, f"the thread ran while the environment was idle: {first} → {second} → {third}"


def env_cgroups(server: EmberProcess, controller: str) -> list[Path]:
    return sorted((HIERARCHIES[controller].root / f"ember-{server.proc.pid}").glob("env-*"))


def cpu_ns(group: Path) -> int:
    return int((group / "cpuacct.usage").read_text())


@pytest.fixture
def spinning(ember_with):
    """A private server with one idle environment whose background thread spins forever."""
    server = ember_with("--spares", "0")
    client = lambda_client(server.url)
    client.create_function(FunctionName="spin", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": SPINNING})}, MemorySize=128)
    assert client.invoke(FunctionName="spin")["Payload"].read() == b'"ok"'
    return server, client


def frozen_group(server: EmberProcess) -> Path:
    """The one environment's freezer cgroup, once the kernel says it is frozen (after the runtime's `next`)."""
    [group] = [g for g in env_cgroups(server, "freezer") if (g / "cgroup.procs").read_text().strip()]
    if HIERARCHIES["freezer"].version == 1:
        assert wait_until(lambda: (group / "freezer.state").read_text().strip() == "FROZEN")
    else:
        assert wait_until(lambda: "frozen 1" in (group / "cgroup.events").read_text())
    return group


@pytest.mark.local_backend
def test_an_idle_environment_costs_no_cpu(spinning):
    server, _ = spinning
    group = frozen_group(server)
    accounting = HIERARCHIES["cpuacct"].root / f"ember-{server.proc.pid}" / group.name
    before = cpu_ns(accounting)
    time.sleep(IDLE_S)
    spent_ms = (cpu_ns(accounting) - before) / 1e6
    assert spent_ms < 5, f"an idle environment with a spinning thread used {spent_ms:.1f} ms of CPU in {IDLE_S} s"


@pytest.mark.local_backend
def test_a_frozen_environment_dies_with_a_server_killed_by_sigkill(spinning):
    """No server is left to thaw it: the zygote kills and thaws its environments before it goes."""
    server, _ = spinning
    [pid] = server.environment_pids()
    frozen_group(server)
    server.stop(signal.SIGKILL)
    assert wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
                      10), f"the frozen environment outlived its server ({psutil.Process(pid).status()})"


def test_a_frozen_environment_is_reaped_after_its_keep_alive(ember_with):
    server = ember_with("--keep-alive", "1")
    client = lambda_client(server.url)
    client.create_function(FunctionName="idle", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": TICKING_PYTHON})})
    client.invoke(FunctionName="idle")
    assert server.environment_pids()
    assert wait_until(lambda: not server.environment_pids(), 15), "a frozen idle environment was not reaped"
    assert not [g for g in env_cgroups(server, "freezer") if (g / "freezer.state").exists()
                and (g / "freezer.state").read_text().strip() != "THAWED"]


def test_freeze_off_lets_background_work_run_on(ember_with):
    """`--freeze off` (for A/B and debugging): the same thread ticks through the idle second."""
    client = lambda_client(ember_with("--freeze", "off").url)
    client.create_function(FunctionName="tick", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": TICKING_PYTHON})})
    first = ticks(client, "tick")
    time.sleep(IDLE_S)
    assert ticks(client, "tick") - first > 50


def test_without_a_freezer_the_server_says_so_once_and_runs_unfrozen(tmp_path, caplog):
    """This machine's mount table without its freezer line: cgroups still limit, nothing freezes."""
    mounts = tmp_path / "mounts"
    mounts.write_text("".join(line + "\n" for line in Path("/proc/mounts").read_text().splitlines()
                              if " cgroup " not in line or "freezer" not in line.split()[3].split(",")))

    async def open_and_close() -> set[str]:
        sandboxes = await open_sandboxes(tmp_path / "stage", SandboxSettings("auto", None, mounts=mounts))
        try:
            return set(sandboxes.cgroups.hierarchies) if sandboxes.cgroups else set()
        finally:
            sandboxes.close()

    with caplog.at_level(logging.WARNING, logger="ember.isolation"):
        controllers = asyncio.run(open_and_close())
    assert "memory" in controllers and "freezer" not in controllers
    assert len([r for r in caplog.records if "no cgroup freezer" in r.message]) == 1, caplog.text
