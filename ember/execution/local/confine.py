"""What a new environment does to itself before its runtime starts, in the zygote's child.

Two steps. `prepare`, before any function is chosen (the zygote keeps such spare children ready):
die with the zygote, join the environment's cgroups (so every later page is charged to it),
build the part of the root filesystem every function shares and its network, and empty the
capability bounding set. `confine`, once the plan arrives (and the child has set its cgroup's
memory limit): add the function's code and /tmp and switch root while still root, drop to the
function's uid, apply rlimits, and last (isolated only) check that no capability is left and
install the seccomp allowlist (`seccomp.py`). Nothing here returns into the zygote: a failure is
printed to the environment's log and the child exits 126.
"""

from __future__ import annotations

import os
import resource
import socket
import sys
from dataclasses import asdict, dataclass, field

from ember.execution.local.linux import (
    MS_SLAVE,
    SeccompProgram,
    capabilities,
    clear_ambient_capabilities,
    die_with_parent,
    drop_bounding_capabilities,
    mount,
    no_new_privileges,
    set_hostname,
)
from ember.execution.local.network import enter_own_network
from ember.execution.local.rootfs import enter_root, prepare_root
from ember.execution.local.users import add_user

CONFINE_FAILED = 126
NOFILE_LIMIT = 1024  # Lambda's file descriptor limit
FD_CEILING = NOFILE_LIMIT * 64  # above any descriptor the zygote holds: closing up to it closes them all


@dataclass(frozen=True)
class LaunchPlan:
    """One environment's sandbox, as sent to the zygote (plain JSON-able fields only)."""

    env: dict[str, str]
    cwd: str
    argv: list[str] | None = None  # exec this; None: run the zygote's preloaded Python runtime
    isolate: bool = False  # own mount/pid/ipc/uts namespaces, root filesystem and uid
    code_dir: str = ""
    opt_dir: str = ""  # the layers' merged tree, shown read-only at /opt ("": no layers)
    links: dict[str, str] = field(default_factory=dict)  # symlinks added to the root: path -> target
    tmp_slot: str | None = None
    tmp_mb: int = 512
    uid: int | None = None
    memory_mb: int = 128  # enforced by rlimits only where there are no cgroups
    rlimit_memory: bool = False
    throttle_init: bool = False  # the CPU quota from the start (`--init-burst off`), not only after Init

    def to_message(self) -> dict[str, object]:
        return asdict(self)


def prepare(isolate: bool, network: str, new_root: str, slots_dir: str,
            cgroup_procs: list[str]) -> list[socket.socket]:
    """The function-independent part, run as soon as the zygote has cloned this process: die with
    the zygote, join the environment's cgroups, build the shared part of the root, (unless `network`
    is "host") a network of its own, and empty the capability bounding set (nothing exec'd later
    can gain one); returns the listeners opened inside the network."""
    die_with_parent()
    for path in cgroup_procs:
        _join(path)
    if not isolate:
        return []
    mount(None, slots_dir, None, MS_SLAVE)  # see /tmp slots the zygote mounts later, send nothing back
    prepare_root(new_root)
    listeners = enter_own_network(egress=network == "egress") if network != "host" else []
    drop_bounding_capabilities()  # ahead, off the cold-start path (~0.2-0.7 ms); effective ones stay for now
    return listeners


def confine(plan: LaunchPlan, out_fd: int, new_root: str, tmp_dir: str | None,
            seccomp_program: SeccompProgram | None = None) -> None:
    """Turn this prepared process into the sandbox `plan` describes; `seccomp_program` None: the
    zygote found no usable filter (said at start; `--isolation full` refuses to start then)."""
    os.setsid()
    _stdio(out_fd)
    if plan.isolate:
        if plan.uid is not None:
            add_user(new_root, plan.uid)
        enter_root(new_root, plan.code_dir, tmp_dir, plan.opt_dir, plan.links)
        set_hostname("sandbox")
        _drop_privileges(plan.uid)
    _limit(plan)
    os.chdir(plan.cwd)
    os.closerange(3, FD_CEILING)
    if plan.isolate:
        _harden(seccomp_program)


def fail(exc: BaseException) -> None:
    """Report a sandbox that could not be built and end the child without touching zygote state."""
    try:
        os.write(2, f"ember: the sandbox could not be built: {exc}\n".encode())
    finally:
        os._exit(CONFINE_FAILED)


def _stdio(out_fd: int) -> None:
    """stdout and stderr share the log pipe (lines keep the order they were written in); no stdin."""
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    for fd in {null, out_fd} - {0, 1, 2}:
        os.close(fd)


def _join(procs_file: str) -> None:
    fd = os.open(procs_file, os.O_WRONLY)
    try:
        os.write(fd, b"0")  # 0 is "the writer": correct even as pid 1 of a new pid namespace
    finally:
        os.close(fd)


def _drop_privileges(uid: int | None) -> None:
    if uid is None:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    die_with_parent()  # changing credentials cleared the parent-death signal armed in `prepare`
    no_new_privileges()


def _harden(seccomp_program: SeccompProgram | None) -> None:
    """Last, so nothing before it needs a refused call: no capability in any set, then the allowlist."""
    clear_ambient_capabilities()
    held = capabilities()
    if any(held):
        raise PermissionError(f"capabilities left after dropping to the function's uid "
                              f"(effective, permitted, inheritable): {', '.join(map(hex, held))}")
    if seccomp_program is not None:
        seccomp_program.install()


def _limit(plan: LaunchPlan) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_LIMIT, NOFILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if plan.rlimit_memory:
        # Without a memory cgroup: cap the data segment (heap and private mappings) at MemorySize and
        # any one file at EphemeralStorage. Approximate by nature; `ember doctor` says so.
        memory = plan.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        size = plan.tmp_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def exit_code(exc: SystemExit) -> int:
    """The status `sys.exit(x)` gives a process, for a runtime that ran inside the zygote's child."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1
