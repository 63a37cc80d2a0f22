"""An environment's process, as the server sees it: output lines in, one exit status out, a kill switch.

Four promises: (1) it dies when the server dies, even by `kill -9` (the zygote that forked it
has PR_SET_PDEATHSIG on the server, and it on the zygote); (2) it is signalled through a pidfd,
so a recycled pid is never hit; (3) stdout and stderr share one pipe, so their lines keep the
order the function wrote them in; (4) its output costs the server bounded memory and time: a line
longer than MAX_LINE_BYTES is split, a partial line is kept as chunks (never re-joined per read),
and one wake-up of the loop reads at most READ_BUDGET bytes, so a flood can't starve other calls.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

CHUNK_BYTES = 65536
READ_BUDGET = 4 * CHUNK_BYTES  # per wake-up of the event loop
DRAIN_BUDGET = 16 * CHUNK_BYTES  # before END: what was written before the answer, with room to spare
MAX_LINE_BYTES = 256 * 1024  # longer lines become several log events (CloudWatch's classic event size)


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
        self._partial: list[bytes] = []  # the current line so far, in the chunks it arrived in
        self._partial_size = 0
        self._loop = asyncio.get_running_loop()
        os.set_blocking(out_fd, False)
        try:
            self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:
            self._status_fd = -1
        self._loop.add_reader(out_fd, self._read_some)

    def drain_output(self, budget: int = DRAIN_BUDGET) -> None:
        """Read what the child has written so far, before END: everything it wrote before it
        answered is in the pipe by then; a background flood after it is not waited for."""
        while budget > 0 and self._read_chunk():
            budget -= CHUNK_BYTES

    def _read_some(self) -> None:
        """The loop's reader: a bounded share of the pipe per wake-up, so other calls go on."""
        self.drain_output(READ_BUDGET)

    def _read_chunk(self) -> bool:
        """One read; False once nothing more is there now (or ever)."""
        if self._out_fd < 0:
            return False
        try:
            chunk = os.read(self._out_fd, CHUNK_BYTES)
        except BlockingIOError:
            return False
        if not chunk:
            self._close_output()
            return False
        self._emit(chunk)
        return True

    def flush_partial(self) -> None:
        """Emit a last line that has no newline yet (a `print(..., end="")` before returning)."""
        if self._partial:
            self._emit_line(b"".join(self._partial))
            self._partial, self._partial_size = [], 0

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
        """Whole lines go out; the rest waits for its newline, or goes out at MAX_LINE_BYTES."""
        *lines, rest = chunk.split(b"\n")
        if lines:
            self._emit_line(b"".join([*self._partial, lines[0]]))
            self._partial, self._partial_size = [], 0
            for line in lines[1:]:
                self._emit_line(line)
        if rest:
            self._partial.append(rest)
            self._partial_size += len(rest)
            if self._partial_size >= MAX_LINE_BYTES:
                self.flush_partial()

    def _emit_line(self, line: bytes) -> None:
        for start in range(0, max(len(line), 1), MAX_LINE_BYTES):
            self._on_line(line[start:start + MAX_LINE_BYTES].decode("utf-8", errors="replace") + "\n")

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
