"""The server's end of the zygote: start it, ask it for environments, hear when they exit.

The zygote is the server's child (it dies with the server); environments are the zygote's children
(they die with it). The server holds a pidfd per environment to kill it without pid-reuse races,
and learns each exit status from the zygote, which is the one that can wait for it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ember.execution.local.cgroups import CgroupTree
from ember.execution.local.child import MAX_MESSAGE
from ember.execution.local.confine import LaunchPlan

ExitCallback = Callable[[int], None]
log = logging.getLogger("ember.spawner")


class SpawnError(Exception):
    """The zygote could not start an environment (or is gone); the message says why."""


@dataclass(frozen=True)
class Spawned:
    pid: int
    pidfd: int
    cgroup: str | None  # the name of the cgroup the zygote made for it, limited to its MemorySize
    listeners: tuple[int, ...] = ()  # Runtime API and Ember API sockets inside its network namespace


@dataclass(frozen=True)
class ZygoteInfo:
    pid: int
    isolation_error: str | None  # None: environments get their own namespaces and root filesystem
    preloaded: list[str]
    seccomp_error: str | None = None  # None: isolated environments run under the seccomp allowlist


class Spawner:
    def __init__(self, stage: Path, isolate: bool, preload: list[str] | None,
                 cgroups: CgroupTree | None = None, spares: int = 2, network: str = "host") -> None:
        """`preload` None: `--zygote off`, every environment execs a fresh interpreter. The zygote makes
        each environment's cgroup under `cgroups` (the server's tree) when it prepares a spare."""
        self.stage = stage
        self.cgroups = cgroups
        self.spares = spares
        self.isolate = isolate
        self.preload = preload
        self.network = network
        self.info: ZygoteInfo | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[Spawned], ExitCallback]] = {}
        self._exits: dict[int, ExitCallback] = {}
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._ready: asyncio.Future[ZygoteInfo] | None = None
        self._room: asyncio.Future[None] | None = None
        self._restarting = asyncio.Lock()
        self._closed = False

    @property
    def zygote(self) -> bool:
        return self.preload is not None

    async def start(self) -> ZygoteInfo:
        """Start the zygote and wait until it has preloaded; call from the event loop's thread."""
        self.stage.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        modules = ",".join(self.preload) if self.preload is not None else "-"
        cgroups = json.dumps(self.cgroups.to_message()) if self.cgroups is not None else "-"
        argv = [sys.executable, "-P", "-m", "ember.execution.local.zygote", str(theirs.fileno()), str(self.stage),
                "1" if self.isolate else "0", modules, cgroups, str(self.spares), self.network]
        try:
            self._process = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                             start_new_session=True, env=_zygote_environment())
        finally:
            theirs.close()
        self._channel = ours
        ours.setblocking(False)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        loop.add_reader(ours.fileno(), self._on_readable)
        self.info = await self._ready
        return self.info

    async def spawn(self, plan: LaunchPlan, out_fd: int, on_exit: ExitCallback) -> Spawned:
        """Start one environment writing to `out_fd`; `on_exit(status)` follows once."""
        if self._channel is None:
            await self._restart()
        request_id = next(self._ids)
        future: asyncio.Future[Spawned] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, on_exit)
        header = {"op": "spawn", "id": request_id, "tmp_slot": plan.tmp_slot, "tmp_mb": plan.tmp_mb, "uid": plan.uid}
        message = json.dumps(header).encode() + b"\n" + json.dumps(plan.to_message()).encode()
        try:
            await self._send(message, [out_fd])
        except OSError as exc:
            self._pending.pop(request_id, None)
            raise SpawnError(f"the zygote is gone: {exc}") from exc
        return await future

    async def _send(self, message: bytes, fds: list[int]) -> None:
        """Send one message, waiting (not failing) while a burst of spawns has filled the socket."""
        while True:
            if self._channel is None:
                raise BrokenPipeError("the zygote is not running")
            try:
                socket.send_fds(self._channel, [message], fds)
                return
            except BlockingIOError:
                await asyncio.shield(self._writable())

    def _writable(self) -> asyncio.Future[None]:
        """One future for every sender waiting for room in the socket's buffer."""
        if self._room is None or self._room.done():
            loop = asyncio.get_running_loop()
            self._room = room = loop.create_future()
            fd = self._channel.fileno()  # type: ignore[union-attr]

            def ready() -> None:
                loop.remove_writer(fd)
                if not room.done():
                    room.set_result(None)

            loop.add_writer(fd, ready)
        return self._room

    def drop_tmp(self, slots: list[str]) -> None:
        """Unmount /tmp slots no environment will use again (the function changed or went away)."""
        if self._channel is not None and slots:
            try:
                socket.send_fds(self._channel, [json.dumps({"op": "drop_tmp", "slots": slots}).encode()], [])
            except OSError:
                pass

    def close(self) -> None:
        """Stop the zygote; its environments die with it (PR_SET_PDEATHSIG)."""
        self._closed = True
        if self._channel is not None:
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def _on_readable(self) -> None:
        assert self._channel is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._channel, MAX_MESSAGE, 4)
            except BlockingIOError:
                return
            if not data:
                self._lost()
                return
            self._dispatch(json.loads(data), fds)

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:  # the zygote's JSON
        op = message["op"]
        if op == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(ZygoteInfo(int(message["pid"]), message["isolation_error"],
                                              list(message["preloaded"]),
                                              message.get("seccomp_error")))
        elif op == "spawned":
            future, on_exit = self._pending.pop(int(message["id"]))
            if "error" in message:
                future.set_exception(SpawnError(str(message["error"])))
            else:
                pid = int(message["pid"])
                self._exits[pid] = on_exit  # before anyone awaits: the exit may be in the same read
                future.set_result(Spawned(pid, fds[0], message.get("cgroup"), tuple(fds[1:])))
        elif op == "exit":
            callback = self._exits.pop(int(message["pid"]), None)
            if callback is not None:
                callback(int(message["status"]))

    async def _restart(self) -> None:
        """A zygote that died (never on purpose) is replaced by the next spawn; one restart at a time."""
        if self._closed:
            raise SpawnError("the server is shutting down")
        async with self._restarting:
            if self._channel is None:
                log.error("the zygote exited; starting a new one")
                if self._process is not None:
                    self._process.wait()
                await self.start()

    def _lost(self) -> None:
        """The zygote died: every environment died with it."""
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(SpawnError("the zygote exited before it was ready"))
        for future, _ in self._pending.values():
            future.set_exception(SpawnError("the zygote exited"))
        self._pending.clear()
        exits, self._exits = self._exits, {}
        for callback in exits.values():
            callback(9)  # as if SIGKILLed, which is what PR_SET_PDEATHSIG did
        if self._channel is not None:
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
        if self._process is not None:
            self._process.poll()  # reap it if it is already gone


def _zygote_environment() -> dict[str, str]:
    """The zygote's own environment: enough to import Python packages, none of the server's secrets."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONHASHSEED")
    return {name: os.environ[name] for name in keep if name in os.environ}
