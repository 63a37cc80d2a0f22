"""An environment's process, as the server sees it: output lines in, one exit status out, a kill switch.

Three promises: (1) it dies when the server dies, even by `kill -9` (the zygote that forked it
has PR_SET_PDEATHSIG on the server, and it on the zygote); (2) it is signalled through a pidfd,
so a recycled pid is never hit; (3) stdout and stderr share one pipe, so their lines keep the
order the function wrote them in.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable


class SandboxProcess:
    """One environment's runtime process; `on_line` gets each output line, `on_exit` the exit code once."""

    def __init__(self, pid: int, pidfd: int, out_fd: int, on_line: Callable[[str], None],
                 on_exit: Callable[[int], None], own_pid_namespace: bool) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._out_fd = out_fd
        self._on_line = on_line
        self._on_exit = on_exit
        self._own_pid_namespace = own_pid_namespace
        self._partial = b""
        self._loop = asyncio.get_running_loop()
        os.set_blocking(out_fd, False)
        try:
            self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:
            self._status_fd = -1
        self._loop.add_reader(out_fd, self.drain_output)

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
        """SIGKILL the environment: pid 1 of its pid namespace takes everything inside with it;
        without one, its process group goes too. Harmless if it is already gone."""
        if self.returncode is not None:
            return
        try:
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            if not self._own_pid_namespace:
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

    def exited(self, status: int) -> None:
        """The zygote reaped it (`status` as from waitpid): collect the last output, then report."""
        if self.returncode is not None:
            return
        self.returncode = os.waitstatus_to_exitcode(status)
        os.close(self._pidfd)
        if self._status_fd >= 0:
            os.close(self._status_fd)
            self._status_fd = -1
        self.drain_output()
        self._on_exit(self.returncode)
