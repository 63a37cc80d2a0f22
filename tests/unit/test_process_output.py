"""ember.execution.local.process: a function's output costs the server bounded time and memory."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time

from ember.execution.local.process import MAX_LINE_BYTES, READ_BUDGET, SandboxProcess

F_SETPIPE_SZ = 1031


def feed(chunks: list[bytes], reads: str = "drain") -> list[str]:
    """Write `chunks` into a real pipe and collect the lines a SandboxProcess makes of them."""
    async def scenario() -> list[str]:
        read_fd, write_fd = os.pipe()
        lines: list[str] = []
        process = SandboxProcess(os.getpid(), os.pidfd_open(os.getpid()), read_fd, lines.append, lambda code: None,
                                 own_pid_namespace=True)
        os.set_blocking(write_fd, False)
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                try:
                    view = view[os.write(write_fd, view):]
                except BlockingIOError:
                    process.drain_output()
        os.close(write_fd)
        while process._out_fd >= 0:
            process.drain_output()
        return lines

    return asyncio.run(scenario())


def test_lines_keep_their_order_and_a_last_line_without_newline_is_kept():
    assert feed([b"one\ntw", b"o\nthree"]) == ["one\n", "two\n", "three\n"]


def test_a_line_longer_than_the_cap_is_split_into_events():
    lines = feed([b"x" * (MAX_LINE_BYTES * 2 + 10)])
    assert [len(line) for line in lines] == [MAX_LINE_BYTES + 1, MAX_LINE_BYTES + 1, 11]


def test_forty_megabytes_without_a_newline_take_linear_time():
    """The audit's case: re-joining the partial line on every read took 8.6 s for 40 MB."""
    chunk = b"y" * 65536
    started = time.perf_counter()
    lines = feed([chunk] * 640)
    elapsed = time.perf_counter() - started
    assert sum(len(line) - 1 for line in lines) == 40 * 1024 * 1024
    assert elapsed < 2.0, f"40 MB took {elapsed:.2f} s"


def test_one_wake_up_reads_a_bounded_share_of_a_flood():
    async def scenario() -> int:
        read_fd, write_fd = os.pipe()
        lines: list[str] = []
        process = SandboxProcess(os.getpid(), os.pidfd_open(os.getpid()), read_fd, lines.append, lambda code: None,
                                 own_pid_namespace=True)
        fcntl.fcntl(write_fd, F_SETPIPE_SZ, 1 << 20)  # a pipe holding more than one wake-up's share
        os.set_blocking(write_fd, False)
        try:
            while True:
                os.write(write_fd, b"z" * 1023 + b"\n")
        except BlockingIOError:
            pass
        process._read_some()
        read = sum(map(len, lines))
        os.close(write_fd)
        process.close()
        return read

    assert asyncio.run(scenario()) == READ_BUDGET
