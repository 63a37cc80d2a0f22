"""`ember doctor`: start one real probe sandbox the way environments start, and report what it got.

Every verdict is read from the probe's own /proc/<pid> (its cgroup paths and their limits, its
namespace inodes compared with ours, its uid, its /tmp and code mount), never inferred from
`euid == 0`: a feature is `active` only if the probe shows it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ember.execution.cgroups import CgroupError, EnvironmentCgroup, open_tree
from ember.execution.process import ChildProcess

FEATURES = ("cgroups", "namespaces", "uid", "tmp", "zygote", "runtimes")


@dataclass(frozen=True)
class Finding:
    feature: str
    active: bool
    detail: str

    def line(self) -> str:
        return f"{self.feature:<11} {'active' if self.active else 'inactive'} — {self.detail}"


async def examine() -> list[Finding]:
    """Create and remove one probe sandbox; one finding per feature, in FEATURES order."""
    try:
        tree = open_tree()
    except (CgroupError, OSError) as exc:
        tree, cgroup_error = None, str(exc)
    group = tree.new_environment(128) if tree else None
    exited = asyncio.get_running_loop().create_future()
    probe = ChildProcess([sys.executable, "-c", "import time; time.sleep(60)"], Path("/"), dict(os.environ),
                         lambda line: None, exited.set_result, group.procs_files() if group else None)
    try:
        findings = [
            _cgroups(probe.pid, group, None if tree else cgroup_error),
            _namespaces(probe.pid),
            _uid(probe.pid),
            Finding("tmp", False, "no private /tmp yet: environments share the host's (issue 4)"),
            Finding("zygote", False, "each environment execs a fresh interpreter (issue 4)"),
            Finding("runtimes", True, f"python3.10–python3.13 on {sys.executable} (Python "
                                      f"{sys.version_info.major}.{sys.version_info.minor})"),
        ]
    finally:
        probe.kill()
        await exited
        probe.close()
        if group is not None:
            group.remove()
        if tree is not None:
            tree.remove()
    return findings


def _cgroups(pid: int, group: EnvironmentCgroup | None, error: str | None) -> Finding:
    if group is None:
        return Finding("cgroups", False, error or "no cgroup tree")
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


def _namespaces(pid: int) -> Finding:
    own = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("mnt", "pid", "ipc", "uts")}
    theirs = {ns: os.readlink(f"/proc/{pid}/ns/{ns}") for ns in own}
    separate = [ns for ns in own if own[ns] != theirs[ns]]
    if not separate:
        return Finding("namespaces", False, "the probe shares the server's mnt, pid, ipc and uts namespaces")
    return Finding("namespaces", True, f"separate: {', '.join(separate)}")


def _uid(pid: int) -> Finding:
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    if uid == os.geteuid():
        return Finding("uid", False, f"the probe runs as the server's uid {uid}")
    return Finding("uid", True, f"the probe runs as uid {uid}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
