"""cgroups for environments: memory limit = MemorySize, CPU quota = MemorySize / 1769 vCPU, a pids limit.

Controllers are found one by one in /proc/mounts, because machines mix versions: this one mounts
memory, cpu, cpuacct and pids as v1 hierarchies next to a cgroup2 mount that holds only hugetlb.
Each server owns `ember-<pid>/` in every hierarchy it uses; each environment gets `env-<n>/`
below it. Leftovers of a server that died (its pid is gone) are swept at start.

The freezer (v1 `freezer`, or `cgroup.freeze` where cgroup2 also holds memory) stops an idle
environment between calls, as AWS does; it is optional: without one, environments run unfrozen.
A SIGKILLed task in a frozen cgroup waits in D state until thawed, so every removal thaws after killing.

CFS period: 20 ms. The kernel's smallest quota is 1 ms, and 128 MB buys 128/1769 = 0.072 vCPU,
so the period must be at least 13.8 ms; 20 ms keeps the smallest function above that with room,
while bounding how long a throttled function waits for its next slice.
"""

from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")
CFS_PERIOD_US = 20_000
MB_PER_VCPU = 1769
PIDS_MAX = 1024  # Lambda's limit on processes + threads
_PARENT_RE = re.compile(r"^ember-(\d+)$")


class CgroupError(Exception):
    """A cgroup step failed; the message names the step and the path."""


@dataclass(frozen=True)
class Hierarchy:
    version: int  # 1 or 2
    root: Path


def detect(mounts_text: str, cgroup2_controllers: dict[Path, str] | None = None) -> dict[str, Hierarchy]:
    """Which hierarchy serves each controller: a v1 mount naming it, else a cgroup2 mount that enables it."""
    found: dict[str, Hierarchy] = {}
    v2_roots = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        path, fstype, options = Path(fields[1]), fields[2], set(fields[3].split(","))
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options:
                    found.setdefault(controller, Hierarchy(1, path))
        elif fstype == "cgroup2":
            v2_roots.append(path)
    for root in v2_roots:
        enabled = (cgroup2_controllers or {}).get(root)
        if enabled is None:
            enabled = _read(root / "cgroup.controllers") or ""
        for controller in CONTROLLERS:
            v2_name = "cpu" if controller == "cpuacct" else controller  # v2 accounts CPU in cpu.stat
            if v2_name in enabled.split():
                found.setdefault(controller, Hierarchy(2, root))
        if "memory" in enabled.split():  # v2's freezer is core (cgroup.freeze), no controller to enable
            found.setdefault("freezer", Hierarchy(2, root))
    return found


def cpu_quota_us(memory_mb: int, cores: int | None = None) -> int:
    """CFS quota per period for a memory size: 1,769 MB is one vCPU, capped at the host's cores."""
    vcpus = min(memory_mb / MB_PER_VCPU, float(cores or os.cpu_count() or 1))
    return max(1000, round(vcpus * CFS_PERIOD_US))


class CgroupTree:
    """The server's own `ember-<pid>/` in each hierarchy; makes and removes environment cgroups."""

    def __init__(self, hierarchies: dict[str, Hierarchy], owner_pid: int | None = None) -> None:
        self.hierarchies = hierarchies
        self.name = f"ember-{owner_pid or os.getpid()}"
        self._count = 0

    def dirs(self) -> list[tuple[str, Hierarchy, Path]]:
        """(controller, hierarchy, server dir), one per distinct directory."""
        seen: dict[Path, tuple[str, Hierarchy, Path]] = {}
        for controller, hierarchy in self.hierarchies.items():
            path = hierarchy.root / self.name
            seen.setdefault(path, (controller, hierarchy, path))
        return list(seen.values())

    def create(self) -> None:
        for _, hierarchy, path in self.dirs():
            _mkdir(path)
            if hierarchy.version == 2:
                _write(path / "cgroup.subtree_control", "+memory +cpu +pids")

    def sweep_stale(self) -> int:
        """Remove `ember-<pid>/` trees left by servers that are no longer alive."""
        removed = 0
        for root in {h.root for h in self.hierarchies.values()}:
            for entry in root.glob("ember-*"):
                match = _PARENT_RE.match(entry.name)
                if match and entry.is_dir() and not _alive(int(match[1])):
                    removed += _remove_tree(entry)
        return removed

    def to_message(self) -> dict[str, object]:
        """This tree as JSON, for the zygote, which makes the environments' cgroups."""
        return {"owner": int(self.name.split("-")[1]),
                "hierarchies": {c: [h.version, str(h.root)] for c, h in self.hierarchies.items()}}

    @classmethod
    def from_message(cls, message: dict[str, object]) -> CgroupTree:
        hierarchies = {c: Hierarchy(v, Path(root)) for c, (v, root) in message["hierarchies"].items()}  # type: ignore[attr-defined]
        return cls(hierarchies, int(message["owner"]))  # type: ignore[call-overload]

    def adopt(self, name: str, memory_mb: int) -> EnvironmentCgroup:
        """An environment cgroup the zygote made and limited, as the server tracks it."""
        return EnvironmentCgroup(self, name, memory_mb)

    def new_environment(self, memory_mb: int) -> EnvironmentCgroup:
        self._count += 1
        group = EnvironmentCgroup(self, f"env-{self._count}", memory_mb)
        group.create()
        return group

    def thaw_all(self) -> None:
        """Thaw every environment cgroup (after their processes were killed: a frozen one can't die)."""
        for _, _, path in self.dirs():
            for child in path.glob("env-*"):
                _thaw(child)

    def remove(self) -> None:
        for _, _, path in self.dirs():
            _remove_tree(path)


class EnvironmentCgroup:
    """One environment's cgroup in every hierarchy. Memory and pids limits apply before the function's
    code runs; the CPU quota after Init (`throttle`), which runs unthrottled like AWS's init burst."""

    def __init__(self, tree: CgroupTree, name: str, memory_mb: int) -> None:
        self.tree = tree
        self.name = name
        self.memory_mb = memory_mb
        self.paths = {controller: h.root / tree.name / name for controller, h in tree.hierarchies.items()}
        self.versions = {controller: h.version for controller, h in tree.hierarchies.items()}
        self._peak_fd: int | None = None
        self._cpu_fd: int | None = None
        self._cpu_v2 = False
        self._freeze_fd: int | None = None
        self.frozen = False

    def create(self) -> None:
        """Make the directories with the pids limit; the memory limit too unless memory_mb is 0 (a
        zygote's spare, limited once it is given to a function)."""
        for path in set(self.paths.values()):
            _mkdir(path)
        if "pids" in self.paths:
            _write(self.paths["pids"] / "pids.max", str(PIDS_MAX))
        if self.memory_mb:
            self.limit_memory(self.memory_mb)

    def limit_memory(self, memory_mb: int) -> None:
        """memory = MemorySize, and no swapping past it."""
        self.memory_mb = memory_mb
        if "memory" not in self.paths:
            return
        limit, memory = str(memory_mb * 1024 * 1024), self.paths["memory"]
        if self.versions["memory"] == 1:
            _write(memory / "memory.limit_in_bytes", limit)
            _write_if_exists(memory / "memory.memsw.limit_in_bytes", limit)
        else:
            _write(memory / "memory.max", limit)
            _write_if_exists(memory / "memory.swap.max", "0")

    def procs_files(self) -> list[str]:
        """Where a new process writes to join (a zygote's spare, before it is given a function)."""
        return [str(path / "cgroup.procs") for path in set(self.paths.values())]

    def throttle(self) -> None:
        """Apply the CPU quota: MemorySize / 1769 vCPU."""
        if "cpu" not in self.paths:
            return
        quota = cpu_quota_us(self.memory_mb)
        if self.versions["cpu"] == 1:
            _write(self.paths["cpu"] / "cpu.cfs_period_us", str(CFS_PERIOD_US))
            _write(self.paths["cpu"] / "cpu.cfs_quota_us", str(quota))
        else:
            _write(self.paths["cpu"] / "cpu.max", f"{quota} {CFS_PERIOD_US}")

    def peak_memory_bytes(self) -> int | None:
        """The memory high-water mark, read through a kept-open fd: this runs once per invocation."""
        if "memory" not in self.paths:
            return None
        if self._peak_fd is None:
            name = "memory.max_usage_in_bytes" if self.versions["memory"] == 1 else "memory.peak"
            try:
                self._peak_fd = os.open(self.paths["memory"] / name, os.O_RDONLY)
            except OSError:
                return None
        try:
            return int(os.pread(self._peak_fd, 64, 0).split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def cpu_usage_ns(self) -> int | None:
        """CPU time of every process in the environment so far (v1 cpuacct.usage, v2 cpu.stat), read
        through a kept-open fd: this runs twice per invocation."""
        if self._cpu_fd is None:
            if "cpuacct" in self.paths and self.versions["cpuacct"] == 1:
                path, self._cpu_v2 = self.paths["cpuacct"] / "cpuacct.usage", False
            elif "cpu" in self.paths and self.versions["cpu"] == 2:
                path, self._cpu_v2 = self.paths["cpu"] / "cpu.stat", True
            else:
                return None
            try:
                self._cpu_fd = os.open(path, os.O_RDONLY)
            except OSError:
                return None
        try:
            text = os.pread(self._cpu_fd, 4096, 0).decode()
        except OSError:
            return None
        if not self._cpu_v2:
            return int(text.split()[0])
        match = re.search(r"^usage_usec (\d+)$", text, re.M)
        return int(match[1]) * 1000 if match else None

    def freeze(self) -> None:
        """Stop every process inside (idle between calls). A v1 write only starts freezing (FREEZING,
        then FROZEN once each task reaches the refrigerator): not waited for, it never blocks the loop."""
        if self._write_freezer(True):
            self.frozen = True

    def thaw(self) -> None:
        """Let every process run again; the kernel has woken them all when the write returns."""
        if self.frozen and self._write_freezer(False):
            self.frozen = False

    def _write_freezer(self, frozen: bool) -> bool:
        """One write through a kept-open fd (this runs twice per warm call); False without a freezer."""
        if "freezer" not in self.paths:
            return False
        v1 = self.versions["freezer"] == 1
        if self._freeze_fd is None:
            try:
                self._freeze_fd = os.open(self.paths["freezer"] / ("freezer.state" if v1 else "cgroup.freeze"),
                                          os.O_WRONLY)
            except OSError:
                return False
        value = (b"FROZEN" if frozen else b"THAWED") if v1 else (b"1" if frozen else b"0")
        try:
            os.pwrite(self._freeze_fd, value, 0)
        except OSError:
            return False
        return True

    def oom_killed(self) -> bool:
        """True once the kernel's OOM killer has killed a process of this environment."""
        if "memory" not in self.paths:
            return False
        name = "memory.oom_control" if self.versions["memory"] == 1 else "memory.events"
        match = re.search(r"^oom_kill (\d+)$", _read(self.paths["memory"] / name) or "", re.M)
        return bool(match and int(match[1]) > 0)

    def remove(self) -> None:
        """Kill whatever is left inside, then remove the directories (idempotent)."""
        for fd in (self._peak_fd, self._cpu_fd, self._freeze_fd):
            if fd is not None:
                os.close(fd)
        self._peak_fd = self._cpu_fd = self._freeze_fd = None
        self.frozen = False
        for path in set(self.paths.values()):
            _remove_tree(path)


def _remove_tree(path: Path) -> int:
    """rmdir a cgroup and its children, killing their processes first; returns directories removed."""
    if not path.is_dir():
        return 0
    removed = sum(_remove_tree(child) for child in path.iterdir() if child.is_dir())
    for _ in range(50):
        pids = [int(pid) for pid in (_read(path / "cgroup.procs") or "").split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _thaw(path)  # a killed task in a frozen cgroup can't exit until thawed
        try:
            path.rmdir()
            return removed + 1
        except OSError:
            time.sleep(0.002)  # killed processes leave the cgroup as the kernel finishes them
    return removed


def _thaw(path: Path) -> None:
    """Thaw whichever freezer this directory has (none: nothing to do)."""
    if (path / "freezer.state").exists():
        _write_quietly(path / "freezer.state", "THAWED")
    elif (path / "cgroup.freeze").exists():
        _write_quietly(path / "cgroup.freeze", "0")


def _write_quietly(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise CgroupError(f"cannot create cgroup {path}: {exc.strerror}") from exc


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror}") from exc


def _write_if_exists(path: Path, value: str) -> None:
    if path.exists():
        _write(path, value)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def open_tree(mounts: Path = Path("/proc/mounts")) -> CgroupTree:
    """Detect, sweep what dead servers left, and create this server's tree; CgroupError if impossible."""
    hierarchies = detect(mounts.read_text())
    missing = [c for c in ("memory", "cpu", "pids") if c not in hierarchies]
    if missing:
        raise CgroupError(f"no cgroup hierarchy for {', '.join(missing)} in {mounts}")
    tree = CgroupTree(hierarchies)
    tree.sweep_stale()
    tree.create()
    return tree
