"""A child process that dies with the server, whose output and exit the event loop watches.

Three promises: (1) the child gets SIGKILL when the server dies, even by `kill -9`
(PR_SET_PDEATHSIG, set between fork and exec); (2) its exit is seen through a pidfd, so a
recycled pid is never signalled or waited for; (3) stdout and stderr share one pipe, so their
lines keep the order the function wrote them in.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _prepare_child(parent_pid: int, cgroup_procs: list[str]) -> None:
    """Runs in the child between fork and exec: join the cgroup first, so every limit applies to
    everything the runtime does; then die with the server."""
    pid = str(os.getpid()).encode()
    for path in cgroup_procs:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, pid)
        finally:
            os.close(fd)
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class ChildProcess:
    """One sandboxed child; `on_line` gets each output line, `on_exit` the exit status once."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str],
                 on_line: Callable[[str], None], on_exit: Callable[[int], None],
                 cgroup_procs: list[str] | None = None) -> None:
        self._on_line = on_line
        self._on_exit = on_exit
        self._partial = b""
        self._loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        try:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
                start_new_session=True, preexec_fn=lambda: _prepare_child(parent, cgroup_procs or []), close_fds=True,
            )
        finally:
            os.close(write_fd)
        self.pid = self.popen.pid
        self.returncode: int | None = None
        self._out_fd = read_fd
        os.set_blocking(read_fd, False)
        self._pidfd = os.pidfd_open(self.pid)
        self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
        self._loop.add_reader(self._out_fd, self.drain_output)
        self._loop.add_reader(self._pidfd, self._reap)

    def drain_output(self) -> None:
        """Read everything the child has written so far; called by the loop and before END lines."""
        while self._out_fd >= 0:
            try:
                chunk = os.read(self._out_fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                self._close_output()
                return
            self._emit(chunk)

    def flush_partial(self) -> None:
        """Emit a last line that has no newline yet (a `print(..., end="")` before returning)."""
        if self._partial:
            self._on_line(self._partial.decode("utf-8", errors="replace") + "\n")
            self._partial = b""

    def peak_rss_kb(self) -> int | None:
        """VmHWM from /proc (read through a kept-open fd: this runs once per invocation)."""
        if self._status_fd < 0:
            return None
        try:
            status = os.pread(self._status_fd, 4096, 0)
        except OSError:
            return None
        start = status.find(b"VmHWM:")
        if start < 0:
            return None
        return int(status[start + 6:status.index(b"kB", start)])

    def kill(self) -> None:
        """SIGKILL the child's whole process group; harmless if it is already gone."""
        if self.returncode is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Stop reading output (a grandchild may hold the pipe open after the child died)."""
        if self._out_fd >= 0:
            self.drain_output()
        if self._out_fd >= 0:
            self._close_output()

    def _emit(self, chunk: bytes) -> None:
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._on_line(line.decode("utf-8", errors="replace") + "\n")

    def _close_output(self) -> None:
        self._loop.remove_reader(self._out_fd)
        os.close(self._out_fd)
        self._out_fd = -1
        self.flush_partial()

    def _reap(self) -> None:
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        os.close(self._status_fd)
        self._status_fd = -1
        self.returncode = self.popen.wait()
        self.drain_output()
        self._on_exit(self.returncode)
