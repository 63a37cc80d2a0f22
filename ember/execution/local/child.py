"""A zygote's child: prepared ahead as a spare, then handed a plan, it becomes one environment.

Nothing here may return into the zygote's loop: every path ends in exec or `os._exit`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import traceback

from ember.execution.local import confine as confinement
from ember.execution.local.cgroups import EnvironmentCgroup
from ember.execution.local.linux import SeccompProgram

MAX_MESSAGE = 1 << 20


def run_spare(plan_channel: socket.socket, isolated: bool, network: str, stage: str,
              group: EnvironmentCgroup | None, seccomp_program: SeccompProgram | None = None) -> None:
    """A spare's life: prepare, hand its listeners to the zygote, wait for a plan and the log pipe,
    become that environment."""
    close_inherited(plan_channel.fileno())
    listeners: list[socket.socket] = []
    try:
        listeners = confinement.prepare(isolated, network, f"{stage}/root", f"{stage}/tmp",
                                        group.procs_files() if group else [])
        problem: BaseException | None = None
    except BaseException as exc:  # noqa: B036 - reported to the environment that gets this spare
        problem = exc
    try:
        socket.send_fds(plan_channel, [b"prepared"], [sock.fileno() for sock in listeners])
    except BaseException:  # noqa: B036 - nothing may return into the zygote's loop
        os._exit(1)
    for sock in listeners:
        sock.close()
    become_own_process()
    try:
        data, fds, _, _ = socket.recv_fds(plan_channel, MAX_MESSAGE, 1)
    except BaseException:  # noqa: B036 - nothing may return into the zygote's loop
        os._exit(1)
    if not data or not fds:
        os._exit(0)
    if problem is not None:
        os.dup2(fds[0], 2)
        confinement.fail(problem)
    plan = confinement.LaunchPlan(**json.loads(data))
    try:
        if group is not None:
            group.limit_memory(plan.memory_mb)  # while still root, before the function's code runs
            if plan.throttle_init:
                group.throttle()
    except BaseException as exc:  # noqa: B036 - nothing may return into the zygote's loop
        os.dup2(fds[0], 2)
        confinement.fail(exc)
    run_child(plan, fds[0], f"{stage}/root", f"{stage}/tmp/{plan.tmp_slot}" if plan.tmp_slot else None,
              seccomp_program)


def run_child(plan: confinement.LaunchPlan, out_fd: int, new_root: str, tmp_dir: str | None,
              seccomp_program: SeccompProgram | None = None) -> None:
    """The environment's side of the clone: confine, then exec the runtime or run the preloaded one."""
    try:
        confinement.confine(plan, out_fd, new_root, tmp_dir, seccomp_program)
    except BaseException as exc:  # noqa: B036 - nothing may return into the zygote's loop
        confinement.fail(exc)
    if plan.argv is not None:
        try:
            os.execve(plan.argv[0], plan.argv, plan.env)
        except FileNotFoundError:  # as a shell reports it: a missing `bootstrap` is exit status 127
            os.write(2, f"fork/exec {plan.argv[0]}: no such file or directory\n".encode())
            os._exit(127)
        except BaseException as exc:  # noqa: B036 - nothing may return into the zygote's loop
            confinement.fail(exc)
    os._exit(run_python_runtime(plan.env))


def close_inherited(keep: int) -> None:
    """Close what the clone copied from the zygote (its channel, its end of every spare's socket, pidfds):
    then the zygote's death, even by SIGKILL before this spare armed its death signal, ends the plan
    channel, and the spare exits instead of waiting for a plan forever."""
    os.closerange(3, keep)
    os.closerange(keep + 1, confinement.FD_CEILING)


def become_own_process() -> None:
    """Undo what a raw clone shares with the zygote, while still a spare (off the cold-start path):
    default SIGCHLD and SIGTERM, a random state of its own (os.fork would have reseeded it; a raw clone runs no
    at-fork hooks) and unbuffered stdio of its own on fds 0-2, which `confine` points at the log pipe."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the zygote's handler is for the zygote
    if "random" in sys.modules:
        sys.modules["random"].seed()
    sys.dont_write_bytecode = True
    # typeshed marks sys.__stdin__ Final; the function's process replaces it all the same
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")  # type: ignore[misc]
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", write_through=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def run_python_runtime(env: dict[str, str]) -> int:
    """Ember's Python runtime, already imported, with the function's environment variables."""
    os.environ.clear()
    os.environ.update(env)
    from ember.runtimes.python import bootstrap
    try:
        bootstrap.main()
    except SystemExit as exc:
        return confinement.exit_code(exc)
    except BaseException:  # noqa: B036 - the runtime's own crash, reported like an exec'd one's
        traceback.print_exc()
        return 1
    return 0
