"""The seccomp allowlist, installed for real in a forked child of the test: each check asks the kernel."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import threading
from collections.abc import Callable

import pytest

from ember.execution.local import seccomp
from ember.execution.local.linux import CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, SeccompProgram, no_new_privileges

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS = {"getpid": 39, "clone": 56, "personality": 135, "mount": 165, "ptrace": 101, "bpf": 321,
       "keyctl": 250, "io_uring_setup": 425, "unshare": 272, "setns": 308, "clone3": 435, "fsopen": 430,
       "open_tree": 428, "userfaultfd": 323, "perf_event_open": 298, "reboot": 169, "kexec_load": 246,
       "init_module": 175, "pivot_root": 155, "syslog": 103, "socket": 41}
X32_SYSCALL_BIT = 0x40000000


@pytest.fixture(scope="module")
def program() -> SeccompProgram:
    return SeccompProgram(seccomp.compile_program())


def filtered(program: SeccompProgram, check: Callable[[], object]) -> tuple[object, int]:
    """Run `check` in a child under the filter: (what it returned, the child's wait status)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            no_new_privileges()
            program.install()
            os.write(write_end, json.dumps(check()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        data = answer.read()
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), status


def syscall_errno(name: str, *args: int) -> Callable[[], int]:
    """A check: the errno of a raw system call (0 if it succeeded)."""
    def check() -> int:
        ctypes.set_errno(0)
        result = libc.syscall(SYS[name], *[ctypes.c_ulong(arg) for arg in args])
        return ctypes.get_errno() if result < 0 else 0
    return check


def test_the_program_is_whole_bpf_instructions(program: SeccompProgram) -> None:
    code = program.program
    assert code and len(code) % 8 == 0 and len(code) // 8 < 4096  # the kernel's BPF_MAXINSNS


def test_a_program_the_kernel_rejects_is_reported_not_installed() -> None:
    assert seccomp.trial(SeccompProgram(b"\xff" * 8)) == "[Errno 22] seccomp: Invalid argument"


@pytest.mark.parametrize("name, args", [
    ("mount", (0, 0, 0, 0, 0)), ("ptrace", (0, 1, 0, 0)), ("bpf", (0, 0, 0)), ("keyctl", (0, 0, 0)),
    ("io_uring_setup", (1, 0)), ("unshare", (CLONE_NEWUSER,)), ("unshare", (CLONE_NEWUSER | CLONE_NEWNS,)),
    ("setns", (0, 0)), ("fsopen", (0, 0)), ("open_tree", (0, 0, 0)), ("userfaultfd", (0,)),
    ("perf_event_open", (0, 0, 0, 0, 0)), ("reboot", (0, 0, 0, 0)), ("kexec_load", (0, 0, 0, 0)),
    ("init_module", (0, 0, 0)), ("pivot_root", (0, 0)), ("syslog", (3, 0, 0)),
])
def test_refused_calls_fail_with_eperm(program: SeccompProgram, name: str, args: tuple[int, ...]) -> None:
    assert filtered(program, syscall_errno(name, *args)) == (errno.EPERM, 0)


def test_clone3_says_enosys_so_libraries_fall_back_to_clone(program: SeccompProgram) -> None:
    assert filtered(program, syscall_errno("clone3", 0, 0)) == (errno.ENOSYS, 0)


def test_clone_into_a_new_namespace_is_refused(program: SeccompProgram) -> None:
    for flags in (CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS | signal.SIGCHLD):
        assert filtered(program, syscall_errno("clone", flags, 0, 0, 0, 0)) == (errno.EPERM, 0)


def test_threads_forks_and_execs_still_work(program: SeccompProgram) -> None:
    def check() -> list[object]:
        seen = []
        thread = threading.Thread(target=lambda: seen.append(threading.get_native_id()))
        thread.start()
        thread.join()
        pid = os.fork()
        if pid == 0:
            os.execv("/bin/sh", ["/bin/sh", "-c", "exit 7"])
        return [len(seen), os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])]
    assert filtered(program, check) == ([1, 7], 0)


def test_only_harmless_personalities(program: SeccompProgram) -> None:
    assert filtered(program, syscall_errno("personality", 0xFFFFFFFF)) == (0, 0)
    assert filtered(program, syscall_errno("personality", 0x0040000)) == (errno.EPERM, 0)  # ADDR_NO_RANDOMIZE


def test_vsock_sockets_are_refused_and_others_allowed(program: SeccompProgram) -> None:
    assert filtered(program, syscall_errno("socket", seccomp.AF_VSOCK, 1, 0)) == (errno.EPERM, 0)
    assert filtered(program, syscall_errno("socket", 1, 1, 0)) == (0, 0)  # AF_UNIX


def test_an_x32_system_call_kills_the_process(program: SeccompProgram) -> None:
    result, status = filtered(program, lambda: libc.syscall(X32_SYSCALL_BIT | SYS["getpid"]))
    assert result is None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def test_every_allowed_name_is_a_system_call_of_this_machine() -> None:
    import pyseccomp
    unknown = [name for name in seccomp.ALLOWED if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) < 0]
    assert unknown == []
    refused = {"mount", "umount2", "unshare", "setns", "pivot_root", "ptrace", "bpf", "keyctl", "add_key",
               "request_key", "perf_event_open", "io_uring_setup", "userfaultfd", "kexec_load", "init_module",
               "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at", "process_vm_readv",
               "process_vm_writev", "swapon", "swapoff", "reboot", "acct", "settimeofday", "clock_settime",
               "adjtimex", "quotactl", "lookup_dcookie", "vhangup", "syslog", "iopl", "ioperm", "create_module",
               "nfsservctl", "uselib", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
               "mount_setattr", "kexec_file_load", "io_uring_enter", "io_uring_register", "clone", "clone3",
               "personality", "socket"}
    assert refused.isdisjoint(seccomp.ALLOWED)
