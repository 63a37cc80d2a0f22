"""The system calls an environment may make: an allowlist shaped like Docker's default seccomp profile.

Anything not listed fails with EPERM: mounts and the new mount API, unshare and setns, pivot_root,
keyrings, bpf, perf_event_open, ptrace and process_vm_*, kexec, kernel modules, userfaultfd,
open_by_handle_at, io_uring, swap, reboot, acct, setting the clocks, quotactl, syslog, iopl/ioperm.
Three calls depend on their arguments: `clone` only without a namespace flag, `personality` only
with the harmless personas, `socket` not for AF_VSOCK (the host's side of a microVM). `clone3`
fails with ENOSYS, not EPERM: its flags sit in memory a filter cannot read, and glibc, Node and
the JVM fall back to `clone` only on ENOSYS. A call from another architecture (i386 `int 0x80`,
x32) kills the process. What Python, Node.js, the JVM, Go and bash + curl need is allowed.

The filter is built with libseccomp (`pyseccomp`) once, in the zygote, and compiled to its BPF
program; each environment installs that program as the last step of its confinement, so a cold
start does no libseccomp work.
"""

from __future__ import annotations

import errno
import os
from types import ModuleType
from typing import TYPE_CHECKING

from ember.execution.local.linux import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    SeccompProgram,
    no_new_privileges,
)

if TYPE_CHECKING:
    import pyseccomp

NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
    CLONE_NEWCGROUP
SAFE_PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)  # PER_LINUX, PER_LINUX32, UNAME26, both; query
AF_VSOCK = 40

ALLOWED = (
    # files and descriptors
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup", "dup2", "dup3",
    "pipe", "pipe2", "fcntl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
    "truncate", "ftruncate", "fallocate", "fadvise64", "readahead", "sendfile", "splice", "tee",
    "vmsplice", "copy_file_range", "ioctl",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
    "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link",
    "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
    "fchownat", "umask", "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "setxattr",
    "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "memfd_create",
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
    "munlock", "mlockall", "munlockall", "membarrier", "get_mempolicy", "set_mempolicy", "mbind",
    "pkey_alloc", "pkey_free", "pkey_mprotect",
    # processes and threads (clone: see `build`)
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "kill", "tkill",
    "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "prctl", "arch_prctl",
    "set_thread_area", "get_thread_area", "futex", "futex_waitv", "pidfd_open", "pidfd_send_signal",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
    "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_getattr", "sched_setattr", "getpriority", "setpriority",
    "ioprio_get", "ioprio_set", "getrlimit", "setrlimit", "prlimit64", "getrusage", "times",
    "sysinfo", "uname", "getcpu", "getrandom", "restart_syscall", "capget", "capset", "seccomp",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    # credentials (without capabilities only ever to ids the process already has)
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
    "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    # signals and time
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
    "signalfd4", "pause", "alarm", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "gettimeofday", "time", "getitimer", "setitimer", "timer_create", "timer_settime",
    "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime",
    "timerfd_gettime",
    # waiting for events; asynchronous I/O (not io_uring)
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "io_setup", "io_destroy",
    "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    # sockets (socket: see `build`) and System V / POSIX IPC
    "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "setsockopt",
    "getsockopt", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
NEWER_THAN_LIBSECCOMP = {"fchmodat2": 452}  # x86_64 numbers of harmless calls libseccomp 2.5.4 cannot name


class SeccompUnavailable(Exception):
    """The filter cannot be built or loaded here (no libseccomp, or a kernel without seccomp filters)."""


def build() -> pyseccomp.SyscallFilter:
    """The filter as libseccomp holds it: default EPERM, the allowlist, the argument rules."""
    import pyseccomp as sc  # loads libseccomp.so.2 (RuntimeError without it): only where a filter is wanted

    allowlist = sc.SyscallFilter(sc.ERRNO(errno.EPERM))
    allowlist.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    allowlist.set_attr(sc.Attr.CTL_OPTIMIZE, 2)  # a binary search on the number, not a list of ~300 tests
    for name in ALLOWED:
        allowlist.add_rule(sc.ALLOW, _number(sc, name))
    for number in NEWER_THAN_LIBSECCOMP.values():
        allowlist.add_rule(sc.ALLOW, number)
    allowlist.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, NAMESPACE_FLAGS, 0))
    allowlist.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for persona in SAFE_PERSONALITIES:
        allowlist.add_rule(sc.ALLOW, "personality", sc.Arg(0, sc.EQ, persona))
    allowlist.add_rule(sc.ALLOW, "socket", sc.Arg(0, sc.NE, AF_VSOCK))
    return allowlist


def _number(sc: ModuleType, name: str) -> int:
    """The native syscall number; a name libseccomp does not know is a bug in ALLOWED."""
    number = sc.resolve_syscall(sc.Arch.NATIVE, name)
    if number < 0:
        raise SeccompUnavailable(f"libseccomp does not know the system call {name!r}")
    return number


def compile_program() -> bytes:
    """The filter compiled to the BPF program the kernel runs (`struct sock_filter[]`)."""
    try:
        allowlist = build()
    except (RuntimeError, OSError) as exc:
        raise SeccompUnavailable(f"cannot build the seccomp filter: {exc}") from exc
    with open(os.memfd_create("ember-seccomp"), "w+b") as program:
        allowlist.export_bpf(program)  # writes to the descriptor, past Python's buffer
        program.seek(0)
        return program.read()


def trial(program: SeccompProgram) -> str | None:
    """Whether this kernel takes the program, tried in a throwaway child: None, or why not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            no_new_privileges()
            program.install()
            os._exit(0)
        except BaseException as exc:  # noqa: B036 - reported to the parent, never returns into it
            os.write(write_end, str(exc).encode())
            os._exit(1)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reason:
        problem = reason.read().decode()
    _, status = os.waitpid(pid, 0)
    return None if status == 0 else problem or f"the trial child ended with status {status}"


def prepare() -> tuple[SeccompProgram | None, str | None]:
    """The program every environment installs, compiled once and tried on this kernel; or why not."""
    try:
        program = SeccompProgram(compile_program())
    except SeccompUnavailable as exc:
        return None, str(exc)
    problem = trial(program)
    return (None, f"this kernel refused the seccomp filter: {problem}") if problem else (program, None)
