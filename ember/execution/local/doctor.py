"""`ember doctor`: start one real probe environment the way the server does, and report what it got.

The probe is Ember's Python runtime in a sandbox made by the same zygote and `Sandboxes` as any
environment; it initialises a one-line handler and then waits on a Runtime API that never answers.
Every verdict is read from the probe's own /proc/<pid> (its cgroups and their limits, namespace
inodes compared with ours, uid, no_new_privs, capability sets and seccomp mode, /tmp and code
mounts, parent and command line), never inferred from `euid == 0`: a feature is `active` only if
the probe shows it. Whether user namespaces are blocked, the probe tries itself at import and prints.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ember.execution.local.isolation import DEFAULT_PRELOADS, SandboxSettings, open_sandboxes
from ember.execution.local.process import SandboxProcess
from ember.execution.local.rootfs import TASK_ROOT
from ember.execution.local.sandbox import Sandbox, Sandboxes
from ember.execution.model import EnvironmentSpec
from ember.execution.variables import lambda_environment
from ember.runtimes import language_summary

FEATURES = ("cgroups", "freezer", "namespaces", "network", "uid", "no_new_privs", "capabilities", "seccomp", "userns",
            "tmp", "zygote", "runtimes")
PROBE_MEMORY_MB = 128
PROBE_TMP_MB = 512
USERNS_MARK = "ember-doctor userns errno "
PROBE_CODE = f"""import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
print("{USERNS_MARK}" + str(0 if _libc.unshare(0x10000000) == 0 else ctypes.get_errno()), flush=True)
def handler(event, context):
    return event
"""  # 0x10000000: CLONE_NEWUSER


@dataclass(frozen=True)
class Finding:
    feature: str
    active: bool
    detail: str

    def line(self) -> str:
        return f"{self.feature:<13} {'active' if self.active else 'inactive'} — {self.detail}"


async def examine(isolation: str = "auto", zygote: bool = True) -> list[Finding]:
    """Create and remove one probe sandbox; one finding per feature, in FEATURES order."""
    with tempfile.TemporaryDirectory(prefix="ember-doctor-") as scratch:
        code = Path(scratch, "code")
        code.mkdir(mode=0o755)
        (code / "probe.py").write_text(PROBE_CODE)
        settings = SandboxSettings(isolation, DEFAULT_PRELOADS if zygote else None)
        sandboxes = await open_sandboxes(Path(scratch, "sandbox"), settings)
        try:
            return await _probe(sandboxes, code)
        finally:
            sandboxes.close()


async def _probe(sandboxes: Sandboxes, code: Path) -> list[Finding]:
    spec = EnvironmentSpec("ember-doctor", "$LATEST", "python3.11", "probe.handler", PROBE_MEMORY_MB, 3, code,
                           {}, "us-east-1", "probe", PROBE_TMP_MB)
    sandbox = sandboxes.prepare(spec)
    listener = None if sandbox.runtime_address else socket.create_server(("127.0.0.1", 0))
    address = sandbox.runtime_address or f"127.0.0.1:{listener.getsockname()[1]}"  # type: ignore[union-attr]
    exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    output: list[str] = []
    env = lambda_environment(spec, address, "probe", sandbox.task_root, sandbox.runtime_dir)
    await sandbox.launch(env, output.append, exited.set_result)
    listener = listener or sandbox.take_runtime_socket()
    probe = sandbox.process
    assert probe is not None and listener is not None
    listener.setblocking(False)
    try:
        waiting = await _wait_for_next(listener, exited)
        await _wait_for_output(output, USERNS_MARK)
        return _findings(probe, sandbox, sandboxes, waiting, "".join(output))
    finally:
        await _stop(probe, exited, sandbox)
        listener.close()


async def _wait_for_next(listener: socket.socket, exited: asyncio.Future[int]) -> socket.socket | None:
    """The probe's runtime connects to ask for its first event once Init is done (None: it died)."""
    accept = asyncio.ensure_future(asyncio.get_running_loop().sock_accept(listener))
    either: list[asyncio.Future[Any]] = [accept, exited]
    await asyncio.wait(either, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if not accept.done():
        accept.cancel()
        return None
    return accept.result()[0]


async def _wait_for_output(output: list[str], mark: str) -> None:
    """The probe printed `mark` before asking for an event; its pipe may not have been read yet."""
    for _ in range(200):
        if mark in "".join(output):
            return
        await asyncio.sleep(0.01)


async def _stop(probe: SandboxProcess, exited: asyncio.Future[int], sandbox: Sandbox) -> None:
    probe.kill()
    await exited
    sandbox.release()


def _findings(probe: SandboxProcess, sandbox: Sandbox, sandboxes: Sandboxes, connection: socket.socket | None,
              output: str) -> list[Finding]:
    if connection is None:
        reason = output.strip().splitlines()[-1] if output.strip() else "it exited"
        return [Finding(feature, False, f"the probe did not start: {reason}") for feature in FEATURES]
    try:  # read everything while the probe waits on this connection: closing it ends the probe
        pid = probe.pid
        mounts = _mounts(pid)
        return [_cgroups(pid, sandbox), _freezer(pid, sandbox), _namespaces(pid), _network(pid, sandboxes), _uid(pid),
                _no_new_privs(pid), _capabilities(pid), _seccomp(pid), _userns(output), _tmp(mounts),
                _zygote(pid, sandboxes), _runtimes(mounts)]
    finally:
        connection.close()


def _cgroups(pid: int, sandbox: Sandbox) -> Finding:
    group = sandbox.cgroup
    if group is None:
        return Finding("cgroups", False, "no writable cgroup hierarchy for memory, cpu and pids "
                                         "(memory is capped by RLIMIT_DATA only, CPU not at all)")
    memberships = Path(f"/proc/{pid}/cgroup").read_text()
    joined = sorted({line.split(":")[1] or "unified" for line in memberships.splitlines()
                     if group.name in line.split(":")[2]})
    if not joined:
        return Finding("cgroups", False, "the probe did not land in its cgroup")
    memory = group.paths.get("memory")
    limit = _read(memory / ("memory.limit_in_bytes" if group.versions.get("memory") == 1 else "memory.max")) \
        if memory else None
    pids = _read(group.paths["pids"] / "pids.max") if "pids" in group.paths else None
    return Finding("cgroups", True, f"probe in {group.tree.name}/{group.name} for {', '.join(joined)}; "
                                    f"memory limit {int(limit) // 2**20 if limit and limit.isdigit() else limit} MB, "
                                    f"pids.max {pids}")


def _freezer(pid: int, sandbox: Sandbox) -> Finding:
    """Freeze the idle probe as the server freezes an idle environment, and see the kernel say FROZEN."""
    group = sandbox.cgroup
    if group is None or "freezer" not in group.paths:
        return Finding("freezer", False, "no cgroup freezer (v1 freezer, or cgroup2 holding memory): idle "
                                         "environments are not frozen, their timers and threads run between calls")
    if group.tree.name not in Path(f"/proc/{pid}/cgroup").read_text():
        return Finding("freezer", False, "the probe is not in a freezer cgroup")
    version = group.versions["freezer"]
    state_file = group.paths["freezer"] / ("freezer.state" if version == 1 else "cgroup.events")
    group.freeze()
    try:
        frozen = _wait_frozen(state_file, version)
    finally:
        group.thaw()
    if not frozen:
        return Finding("freezer", False, f"{state_file} never said frozen")
    return Finding("freezer", True, f"cgroup v{version} freezer: the idle probe froze ({state_file.name}) "
                                    "and thawed; idle environments are frozen between calls")


def _wait_frozen(state_file: Path, version: int, timeout_s: float = 2.0) -> bool:
    """v1 goes FREEZING, then FROZEN; v2's cgroup.events says `frozen 1`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = _read(state_file) or ""
        if (text.strip() == "FROZEN") if version == 1 else ("frozen 1" in text):
            return True
        time.sleep(0.005)
    return False


def _namespaces(pid: int) -> Finding:
    own = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("mnt", "pid", "ipc", "uts")}
    theirs = {ns: os.readlink(f"/proc/{pid}/ns/{ns}") for ns in own}
    separate = [ns for ns in own if own[ns] != theirs[ns]]
    if not separate:
        return Finding("namespaces", False, "the probe shares the server's mnt, pid, ipc and uts namespaces")
    return Finding("namespaces", len(separate) == len(own), f"separate: {', '.join(separate)}")


def _network(pid: int, sandboxes: Sandboxes) -> Finding:
    if os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net"):
        return Finding("network", False, "the probe shares the host's network: it reaches every loopback "
                                         "service and every environment's Runtime API")
    links = [line.split(":")[0].strip() for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]]
    egress = "egress through NAT, nothing of the host reachable" if sandboxes.network == "egress" else \
        "no egress (--network none)"
    return Finding("network", True, f"own network namespace ({', '.join(links)}); Runtime API at "
                                    f"127.0.0.1:9001 and Ember's API at 127.0.0.1:9000 inside; {egress}")


def _uid(pid: int) -> Finding:
    uid = int(_status(pid, "Uid").split()[0])
    if uid == os.geteuid():
        return Finding("uid", False, f"the probe runs as the server's uid {uid}")
    return Finding("uid", uid != 0, f"the probe runs as uid {uid}")


def _no_new_privs(pid: int) -> Finding:
    if _status(pid, "NoNewPrivs") != "1":
        return Finding("no_new_privs", False, "a setuid binary or file capability could raise the probe's privileges")
    return Finding("no_new_privs", True, "set: no execve can gain privileges")


def _capabilities(pid: int) -> Finding:
    sets = {name: int(_status(pid, f"Cap{name}") or "0", 16) for name in ("Bnd", "Eff", "Prm", "Amb")}
    held = {name: f"{mask:x}" for name, mask in sets.items() if mask}
    if held:
        return Finding("capabilities", False, "the probe holds " + ", ".join(f"Cap{n} {m}" for n, m in held.items()))
    return Finding("capabilities", True, "bounding, effective, permitted and ambient sets all empty")


def _seccomp(pid: int) -> Finding:
    mode = _status(pid, "Seccomp")
    if mode != "2":
        return Finding("seccomp", False, f"no seccomp filter (mode {mode or 'unknown'}): every system call is open")
    return Finding("seccomp", True, "a filter (Seccomp 2): Ember's allowlist, anything else fails with EPERM")


def _userns(output: str) -> Finding:
    line = next((line for line in output.splitlines() if line.startswith(USERNS_MARK)), None)
    if line is None:
        return Finding("userns", False, "the probe did not report its unshare(CLONE_NEWUSER) attempt")
    error = int(line.removeprefix(USERNS_MARK))
    if error == 0:
        return Finding("userns", False, "the probe could create a user namespace")
    return Finding("userns", True, f"unshare(CLONE_NEWUSER) fails in the probe ({errno.errorcode.get(error, error)})")


def _tmp(mounts: dict[str, tuple[str, str]]) -> Finding:
    if "/tmp" not in mounts:
        return Finding("tmp", False, "the probe shares the host's /tmp")
    fstype, options = mounts["/tmp"]
    size = next((o.split("=")[1] for o in options.split(",") if o.startswith("size=")), "unlimited")
    return Finding("tmp", True, f"private {fstype} /tmp of {size} (EphemeralStorage {PROBE_TMP_MB} MB)")


def _zygote(pid: int, sandboxes: Sandboxes) -> Finding:
    info = sandboxes.spawner.info
    if info is None or not sandboxes.spawner.zygote:
        return Finding("zygote", False, "--zygote off: each environment execs a fresh interpreter")
    forked = int(_status(pid, "PPid")) == info.pid and _cmdline(pid) == _cmdline(info.pid)
    if not forked:
        return Finding("zygote", False, "the probe was not forked from the zygote")
    return Finding("zygote", True, f"the probe was forked from zygote pid {info.pid} "
                                   f"(preloaded: {', '.join(info.preloaded)})")


def _runtimes(mounts: dict[str, tuple[str, str]]) -> Finding:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    where = f"code read-only at {TASK_ROOT}" if mounts.get(TASK_ROOT, ("", ""))[1].startswith("ro") else \
        "code at its host path"
    return Finding("runtimes", True, f"python3.10–python3.13 on Python {version} ({sys.executable}); "
                                     f"{language_summary()}; {where}")


def _mounts(pid: int) -> dict[str, tuple[str, str]]:
    """Mount point → (filesystem type, mount options) as the probe sees them."""
    mounts = {}
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        tail = fields[fields.index("-") + 1:]
        mounts[fields[4]] = (tail[0], f"{fields[5]},{tail[2] if len(tail) > 2 else ''}")
    return mounts


def _status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return line.split(":", 1)[1].strip()
    return ""


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
