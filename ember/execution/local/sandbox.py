"""What one environment is given: a cgroup, a uid, a /tmp slot, and a launch through the zygote.

Isolation levels (`ember serve --isolation`):
    full     cgroups + own mount/pid/ipc/uts namespaces + read-only root + per-function uid + /tmp slot
    rlimits  no cgroups, no namespaces: RLIMIT_DATA = MemorySize, RLIMIT_FSIZE = EphemeralStorage,
             RLIMIT_NOFILE; no CPU limit (a laptop without root)
`auto` picks `full` when the machine allows it and says once at start when it does not.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ember.execution.local.cgroups import CgroupTree, EnvironmentCgroup
from ember.execution.local.confine import LaunchPlan
from ember.execution.local.network import EMBER_API, RUNTIME_API
from ember.execution.local.process import SandboxProcess
from ember.execution.local.rootfs import OPT_DIR, RUNTIME_DIR, TASK_ROOT
from ember.execution.local.spawner import Spawner
from ember.execution.model import EnvironmentSpec
from ember.runtimes import NODE_RUNTIMES, PROVIDED_RUNTIMES, RUNTIMES_DIR, is_python, runtime_command


class Closeable(Protocol):
    def close(self) -> None: ...


ApiListenerFactory = Callable[[socket.socket], Awaitable[Closeable]]
FIRST_UID = 100_000  # functions run as 100000, 100001, … (one uid per function, never root)
UID_COUNT = 65_536


@dataclass
class TmpSlots:
    """Each function revision's /tmp slots; a released slot is the next one handed out, so the
    environment that replaces a crashed or timed-out one finds the same files (as on AWS). A free
    slot waits for a new environment at most `expire`'s idle time, and a revision keeps at most
    MAX_FREE of them: past that its memory goes back to the host (see ARCHITECTURE.md)."""

    MAX_FREE = 2

    free: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # key -> (slot, released at)
    counts: dict[str, int] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)

    def acquire(self, key: str) -> str:
        free = self.free.get(key)
        if free:
            return free.pop()[0]
        self.counts[key] = self.counts.get(key, 0) + 1
        return f"{hashlib.sha256(key.encode()).hexdigest()[:16]}-{self.counts[key]}"

    def release(self, key: str, slot: str, now: float | None = None) -> list[str]:
        """Back on the free list; returns the slots to unmount now (its revision is retired, or it
        holds more than MAX_FREE free ones: the oldest go)."""
        if key in self.retired:
            return [slot]
        free = self.free.setdefault(key, [])
        free.append((slot, time.monotonic() if now is None else now))
        extra, self.free[key] = free[:-self.MAX_FREE], free[-self.MAX_FREE:]
        return [name for name, _ in extra]

    def expire(self, idle_s: float, now: float | None = None) -> list[str]:
        """Free slots no environment took within `idle_s`: to unmount now."""
        cutoff = (time.monotonic() if now is None else now) - idle_s
        dropped = []
        for key, free in list(self.free.items()):
            dropped += [slot for slot, released in free if released < cutoff]
            self.free[key] = [(slot, released) for slot, released in free if released >= cutoff]
            if not self.free[key]:
                del self.free[key]
        return dropped

    def forget(self, prefix: str) -> list[str]:
        """Retire every key starting with `prefix`; returns their free slots, to unmount now."""
        dropped: list[str] = []
        for key in [key for key in self.counts if key.startswith(prefix)]:
            self.retired.add(key)
            dropped.extend(slot for slot, _ in self.free.pop(key, []))
        return dropped


class Sandboxes:
    """Makes the sandbox of each new environment according to the server's isolation level."""

    def __init__(self, spawner: Spawner, cgroups: CgroupTree | None, isolate: bool, init_burst: bool = True,
                 network: str = "host", freeze: bool = True) -> None:
        self.spawner = spawner
        self.cgroups = cgroups
        self.isolate = isolate
        self.init_burst = init_burst
        self.network = network  # egress, none (a network of its own) or host
        self.freeze = freeze  # idle environments frozen between calls (`--freeze`)
        self.tmp = TmpSlots()
        self.serve_api: ApiListenerFactory | None = None  # Ember's API on a socket inside a sandbox
        self.host_api_url: str | None = None  # Ember's API as the host reaches it (network "host")
        self._uids: dict[str, int] = {}

    @property
    def own_network(self) -> bool:
        return self.network != "host"

    def uid_for(self, function_name: str) -> int:
        if function_name not in self._uids:
            self._uids[function_name] = FIRST_UID + len(self._uids) % UID_COUNT
        return self._uids[function_name]

    def prepare(self, spec: EnvironmentSpec) -> Sandbox:
        return Sandbox(self, spec)

    def forget(self, function_name: str, version: str | None) -> None:
        """A function version changed or went away: its unused /tmp slots are unmounted."""
        prefix = f"{function_name}:{version}:" if version is not None else f"{function_name}:"
        self.spawner.drop_tmp(self.tmp.forget(prefix))

    def expire(self, idle_s: float) -> None:
        """Unmount /tmp slots no environment took within `idle_s` (the keep-alive)."""
        self.spawner.drop_tmp(self.tmp.expire(idle_s))

    def close(self) -> None:
        """Stop the zygote (every environment dies with it), then remove the cgroup tree."""
        self.spawner.close()
        if self.cgroups is not None:
            self.cgroups.remove()


class Sandbox:
    """One environment's share: created before it starts, released when it is destroyed."""

    def __init__(self, owner: Sandboxes, spec: EnvironmentSpec) -> None:
        self.owner = owner
        self.spec = spec
        self.cgroup: EnvironmentCgroup | None = None  # the zygote made it; known once launched
        self.process: SandboxProcess | None = None
        self.isolated = owner.isolate
        self.task_root = TASK_ROOT if self.isolated else str(spec.code_dir)
        self.runtime_dir = RUNTIME_DIR if self.isolated else str(RUNTIMES_DIR)
        self.opt_dir = OPT_DIR if self.isolated or spec.opt_dir is None else str(spec.opt_dir)
        self._tmp_key = f"{spec.function_name}:{spec.version}:{spec.revision}"
        self._tmp_slot = owner.tmp.acquire(self._tmp_key) if self.isolated else None
        own_network = owner.own_network
        self.runtime_address = f"{RUNTIME_API[0]}:{RUNTIME_API[1]}" if own_network else None
        self.api_url = f"http://{EMBER_API[0]}:{EMBER_API[1]}" if own_network else owner.host_api_url
        self._runtime_socket: socket.socket | None = None
        self._api_listener: Closeable | None = None

    async def launch(self, env: dict[str, str], on_line: Callable[[str], None],
                     on_exit: Callable[[int], None]) -> None:
        """Start the runtime in this sandbox; `on_exit` gets its exit code once it is gone."""
        read_fd, write_fd = os.pipe()
        process: SandboxProcess | None = None
        early: list[int] = []  # an exit heard before the spawn reply was handled

        def exited(status: int) -> None:
            if process is None:
                early.append(status)
            else:
                process.exited(status)

        try:
            spawned = await self.owner.spawner.spawn(self._plan(env), write_fd, exited)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        if spawned.cgroup is not None and self.owner.cgroups is not None:
            self.cgroup = self.owner.cgroups.adopt(spawned.cgroup, self.spec.memory_mb)
        process = self.process = SandboxProcess(spawned.pid, spawned.pidfd, read_fd, on_line, on_exit,
                                                own_pid_namespace=self.isolated)
        await self._serve_listeners(spawned.listeners)
        if early:  # after the caller holds the process, as for any other exit
            asyncio.get_running_loop().call_soon(process.exited, early[0])

    async def _serve_listeners(self, fds: tuple[int, ...]) -> None:
        """Keep the Runtime API's socket for the environment; serve Ember's API on the other."""
        sockets = [socket.socket(fileno=fd) for fd in fds]
        if len(sockets) != 2:
            for sock in sockets:
                sock.close()
            return
        self._runtime_socket, api = sockets
        if self.owner.serve_api is None:
            api.close()
        else:
            self._api_listener = await self.owner.serve_api(api)

    def take_runtime_socket(self) -> socket.socket | None:
        sock, self._runtime_socket = self._runtime_socket, None
        return sock

    def flush_output(self) -> None:
        if self.process is not None:
            self.process.drain_output()
            self.process.flush_partial()

    def end_init_burst(self) -> None:
        if self.cgroup is not None:
            self.cgroup.throttle()

    def peak_memory_bytes(self) -> int | None:
        """What the environment really occupies at its peak: the larger of its cgroup's high-water mark
        (every process, page cache and /tmp included) and its runtime's peak resident set (VmHWM), which
        counts the pages it shares with the zygote that no cgroup charges it for (ARCHITECTURE.md)."""
        peak = self.cgroup.peak_memory_bytes() if self.cgroup is not None else None
        peak_kb = self.process.peak_rss_kb() if self.process is not None else None
        if peak_kb is not None:
            peak = max(peak or 0, peak_kb * 1024)
        return peak

    def cpu_usage_ns(self) -> int | None:
        return self.cgroup.cpu_usage_ns() if self.cgroup is not None else None

    def oom_killed(self) -> bool:
        return self.cgroup is not None and self.cgroup.oom_killed()

    def freeze(self) -> None:
        """The runtime waits for its next event: stop everything inside until then."""
        if self.cgroup is not None and self.owner.freeze:
            self.cgroup.freeze()

    def thaw(self) -> None:
        if self.cgroup is not None:
            self.cgroup.thaw()

    def kill(self) -> None:
        """Kill the runtime (thawed after the SIGKILL, or it could not die) and give the /tmp slot back
        at once: the environment that replaces a timed-out one finds the same files. Its nested-call
        listener closes with it."""
        if self.process is not None:
            self.process.kill()
        self.thaw()
        self._give_back_tmp()
        self._close_listeners()

    def _close_listeners(self) -> None:
        if self._api_listener is not None:
            self._api_listener.close()
            self._api_listener = None
        if self._runtime_socket is not None:
            self._runtime_socket.close()
            self._runtime_socket = None

    def release(self) -> None:
        """The runtime is gone: stop reading its output and remove its cgroup."""
        self._give_back_tmp()
        self._close_listeners()
        if self.process is not None:
            self.process.close()
        if self.cgroup is not None:
            self.cgroup.remove()

    def _give_back_tmp(self) -> None:
        """Idempotent; the next environment of this revision gets the slot."""
        if self._tmp_slot is not None:
            self.owner.spawner.drop_tmp(self.owner.tmp.release(self._tmp_key, self._tmp_slot))
            self._tmp_slot = None

    def _plan(self, env: dict[str, str]) -> LaunchPlan:
        spec = self.spec
        argv = self._exec_argv()
        if not self.isolated:
            return LaunchPlan(env=env, cwd=str(spec.code_dir), argv=argv, memory_mb=spec.memory_mb,
                              tmp_mb=spec.ephemeral_mb, rlimit_memory=self.owner.cgroups is None,
                              throttle_init=not self.owner.init_burst)
        return LaunchPlan(env=env, cwd=TASK_ROOT, argv=argv, isolate=True, code_dir=str(spec.code_dir),
                          opt_dir=str(spec.opt_dir or ""), links=layer_links(spec), tmp_slot=self._tmp_slot,
                          tmp_mb=spec.ephemeral_mb,
                          uid=self.owner.uid_for(spec.function_name), memory_mb=spec.memory_mb,
                          rlimit_memory=self.owner.cgroups is None, throttle_init=not self.owner.init_burst)

    def _exec_argv(self) -> list[str] | None:
        """None: the zygote runs its preloaded Python runtime itself; else what to exec."""
        if self.owner.spawner.zygote and is_python(self.spec.runtime):
            return None
        if self.spec.runtime in PROVIDED_RUNTIMES:
            return [f"{self._bootstrap_dirs()[1]}/bootstrap"]
        return runtime_command(self.spec.runtime, self.task_root, self.runtime_dir, self.spec.memory_mb)

    def _bootstrap_dirs(self) -> tuple[Path, str]:
        """Where a custom runtime's `bootstrap` is, on the host and in the sandbox: the function's code, else a
        layer's (/opt/bootstrap), as on AWS; a missing one is the code's (and exits 127)."""
        opt = self.spec.opt_dir
        if not os.path.lexists(self.spec.code_dir / "bootstrap") and opt and os.path.lexists(opt / "bootstrap"):
            return opt, self.opt_dir
        return self.spec.code_dir, self.task_root

    def entrypoint_problem(self) -> str | None:
        """Why a custom runtime's `bootstrap` can't be started (Runtime.InvalidEntrypoint), if it can't;
        a missing one is left to fail as AWS's does, with exit status 127."""
        if self.spec.runtime not in PROVIDED_RUNTIMES:
            return None
        host_dir, sandbox_dir = self._bootstrap_dirs()
        try:  # never through a symlink on the host: a link is resolved inside the sandbox, at exec
            mode = os.lstat(host_dir / "bootstrap").st_mode
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(mode):
            return None
        others_may_exec = mode & (0o001 if self.isolated else 0o111)  # the function's uid is not the owner
        return None if others_may_exec else f"fork/exec {sandbox_dir}/bootstrap: permission denied"


def layer_links(spec: EnvironmentSpec) -> dict[str, str]:
    """An ES module's `import` finds packages by walking up from the importing file, never through NODE_PATH,
    yet AWS's Node.js 18+ runtimes find layers' packages for it: here a handler in /var/task walks up to
    /var/node_modules (the runtime's own nodejs/nodeNN/node_modules) and then /node_modules
    (nodejs/node_modules), NODE_PATH's order, at no cost to a cold start."""
    if spec.runtime not in NODE_RUNTIMES or spec.opt_dir is None:
        return {}
    major = spec.runtime.removeprefix("nodejs").split(".")[0]
    return {"/var/node_modules": f"{OPT_DIR}/nodejs/node{major}/node_modules",
            "/node_modules": f"{OPT_DIR}/nodejs/node_modules"}
