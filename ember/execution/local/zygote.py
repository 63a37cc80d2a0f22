"""The zygote: a single-threaded process that forks every environment (`python -m ember.execution.local.zygote`).

With preloads it has already imported Ember's Python runtime and the packages the runtime provides
(boto3), so a new environment starts as a fork, not a fresh interpreter; with none (`--zygote off`)
its children exec the runtime. Either way it is where sandboxes come from: it lives in a private
mount namespace holding every environment's /tmp (a tmpfs per slot, which therefore outlives the
environments that use it and vanishes with the zygote), and children are cloned straight into
their own mount, pid, ipc and uts namespaces.

Protocol: one JSON object per SEQPACKET message, file descriptors alongside.
    server → {"op": "spawn", "id", "tmp_slot", "tmp_mb", "uid"} \n <plan JSON> + [log pipe]
    zygote → {"op": "spawned", "id", "pid", "cgroup"} + [pidfd, Runtime API listener, Ember API listener]
             (the listeners only when environments have a network of their own;
              or {"op": "spawned", "id", "error"})
    server → {"op": "drop_tmp", "slots"}
    zygote → {"op": "exit", "pid", "status"} for every child it reaps
    zygote → {"op": "ready", "pid", "isolation_error", "seccomp_error", "preloaded"} once, first
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
from dataclasses import dataclass

from ember.execution.local import seccomp
from ember.execution.local.cgroups import CgroupError, CgroupTree, EnvironmentCgroup
from ember.execution.local.child import MAX_MESSAGE, run_spare
from ember.execution.local.linux import (
    CLONE_NEWNS,
    MS_NODEV,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    MS_SHARED,
    SANDBOX_NAMESPACES,
    clone_process,
    die_with_parent,
    mount,
    umount,
    unshare,
)


@dataclass
class Spare:
    pid: int
    pidfd: int
    channel: socket.socket  # where its listeners come from and its plan goes
    group: EnvironmentCgroup | None




class Zygote:
    def __init__(self, channel: socket.socket, stage: str, isolate: bool, cgroups: CgroupTree | None,
                 spares: int, network: str = "host") -> None:
        """`spares`: children cloned and prepared ahead, each waiting for a new environment's plan;
        `network`: egress, none or host (ember.execution.local.network)."""
        self.channel = channel
        self.network = network
        self.spare_count = spares
        self.stage = stage
        self.cgroups = cgroups
        self.isolation_error = self._enter_private_namespace() if isolate else "not requested"
        self.isolated = self.isolation_error is None
        self.seccomp_program, self.seccomp_error = seccomp.prepare() if self.isolated else (None, None)
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, int] = {}  # pidfd -> pid
        self.spares: list[Spare] = []
        self.groups: dict[int, EnvironmentCgroup] = {}  # pid -> cgroup, until the server owns it
        self.slots: set[str] = set()

    def _enter_private_namespace(self) -> str | None:
        """Own mount namespace with a tmpfs stage: `root/` where each child mounts its own root, and
        `tmp/`, shared with the children, where /tmp slots are mounted (spares see later ones too)."""
        try:
            unshare(CLONE_NEWNS)
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            mount("tmpfs", self.stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
            os.makedirs(f"{self.stage}/root")
            os.makedirs(f"{self.stage}/tmp")
            mount("tmpfs", f"{self.stage}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            mount(None, f"{self.stage}/tmp", None, MS_SHARED)
        except OSError as exc:
            return str(exc)
        return None

    def serve(self, preloaded: list[str]) -> None:
        """Answer the server; whenever nothing is waiting, top up the spares."""
        self.send({"op": "ready", "pid": os.getpid(), "isolation_error": self.isolation_error,
                   "seccomp_error": self.seccomp_error, "preloaded": preloaded})
        self.selector.register(self.channel, selectors.EVENT_READ)
        refill = True  # until making a spare fails; then again after the next message
        while True:
            events = self.selector.select(0 if refill and len(self.spares) < self.spare_count else None)
            if not events:
                refill = self.top_up()
            for key, _ in events:
                if key.fileobj is self.channel:
                    if not self.handle_message():
                        return
                    refill = True
                else:
                    self.reap(key.fd)

    def handle_message(self) -> bool:
        data, fds, _, _ = socket.recv_fds(self.channel, MAX_MESSAGE, 4)
        if not data:
            return False  # the server is gone
        header, _, plan = data.partition(b"\n")
        message = json.loads(header)
        if message["op"] == "spawn":
            self.spawn(message, plan, fds[0])
        elif message["op"] == "drop_tmp":
            self.drop_slots(message["slots"])
        return True

    def top_up(self) -> bool:
        """One more spare; False (and a line on stderr) if that failed, e.g. at the pids limit."""
        try:
            self.spares.append(self.make_spare())
        except (OSError, CgroupError) as exc:
            print(f"ember zygote: cannot prepare a spare sandbox: {exc}", file=sys.stderr, flush=True)
            return False
        return True

    def make_spare(self) -> Spare:
        """Clone a child into the sandbox's namespaces and its own cgroup (joining one costs up to tens
        of ms on cgroup v1, so it happens here, ahead); it prepares, then waits for a plan."""
        group = self.cgroups.new_environment(0) if self.cgroups is not None else None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = clone_process(SANDBOX_NAMESPACES if self.isolated else 0)
        except OSError:
            ours.close()
            theirs.close()
            if group is not None:
                group.remove()
            raise
        if pid == 0:
            run_spare(theirs, self.isolated, self.network if self.isolated else "host", self.stage, group,
                      self.seccomp_program)  # never returns
        theirs.close()
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = pid
        if group is not None:
            self.groups[pid] = group
        self.selector.register(pidfd, selectors.EVENT_READ)
        return Spare(pid, pidfd, ours, group)

    def spawn(self, request: dict[str, object], plan: bytes, out_fd: int) -> None:
        """Hand the plan to a spare (cloning one if none is ready); it becomes the environment. The plan
        is forwarded as it came: the spare reads it, and every page the zygote writes is a page copied."""
        try:
            if request["tmp_slot"] is not None:
                self.mount_tmp_slot(str(request["tmp_slot"]), int(request["tmp_mb"]), request["uid"])  # type: ignore[call-overload]
            spare, listeners = self.hand_over(plan, out_fd)
        except (OSError, CgroupError) as exc:
            self.send({"op": "spawned", "id": request["id"], "error": str(exc)})
            return
        finally:
            os.close(out_fd)
        self.groups.pop(spare.pid, None)  # the server removes it when the environment is gone
        try:
            self.send({"op": "spawned", "id": request["id"], "pid": spare.pid,
                       "cgroup": spare.group.name if spare.group else None}, [spare.pidfd, *listeners])
        finally:
            for fd in listeners:
                os.close(fd)

    def hand_over(self, plan: bytes, out_fd: int) -> tuple[Spare, list[int]]:
        """A prepared spare and the listeners it opened in its namespace, once it has the plan."""
        for _ in range(3):  # a spare that died meanwhile refuses the message: take the next one
            spare = self.spares.pop() if self.spares else self.make_spare()
            try:
                prepared, listeners, _, _ = socket.recv_fds(spare.channel, 64, 2)
                if not prepared:
                    continue
                socket.send_fds(spare.channel, [plan], [out_fd])
                return spare, listeners
            except OSError:
                continue
            finally:
                spare.channel.close()
        raise OSError("no spare child would take the plan")

    def mount_tmp_slot(self, slot: str, size_mb: int, uid: object) -> None:
        """The slot's tmpfs, mounted on first use and kept for the next environment of the function."""
        if slot not in self.slots:
            path = f"{self.stage}/tmp/{slot}"
            os.makedirs(path, exist_ok=True)
            owner = f",uid={uid},gid={uid}" if uid is not None else ""
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=700{owner}")
            self.slots.add(slot)

    def drop_slots(self, slots: list[str]) -> None:
        for slot in slots:
            if slot in self.slots:
                self.slots.discard(slot)
                umount(f"{self.stage}/tmp/{slot}")
                os.rmdir(f"{self.stage}/tmp/{slot}")

    def reap(self, pidfd: int) -> None:
        pid = self.children.pop(pidfd)
        self.spares = [spare for spare in self.spares if spare.pid != pid]
        group = self.groups.pop(pid, None)  # a spare that died unused
        if group is not None:
            group.remove()
        self.selector.unregister(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        self.send({"op": "exit", "pid": pid, "status": status})

    def abandon(self) -> None:
        """The server is gone: kill every child, then thaw their cgroups (a SIGKILLed task in a frozen
        cgroup can't die until thawed, and no server is left to thaw it). The death signal can arrive
        after the channel's EOF, mid-way through this; it must not cut the thaw short."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for pidfd in list(self.children):
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.cgroups is not None:
            self.cgroups.thaw_all()

    def send(self, message: dict[str, object], fds: list[int] | None = None) -> None:
        socket.send_fds(self.channel, [json.dumps(message).encode()], fds or [])


def _server_gone(signum: int, frame: object) -> None:
    """SIGTERM, the zygote's death signal: leave `serve` for `abandon`. A clone that has not yet reset
    its signals (a spare preparing) takes SIGTERM's default instead."""
    if os.getpid() != ZYGOTE_PID[0]:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise SystemExit(0)


ZYGOTE_PID = [0]


def preload(modules: list[str]) -> list[str]:
    """Import what every environment would import anyway; a missing optional package is skipped."""
    loaded = []
    for name in ["ember.runtimes.python.bootstrap", *modules]:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
    return loaded


def main() -> None:
    fd, stage, isolate, modules, cgroups, spares, network = sys.argv[1:8]
    ZYGOTE_PID[0] = os.getpid()
    signal.signal(signal.SIGTERM, _server_gone)
    die_with_parent(signal.SIGTERM)  # not SIGKILL: its frozen environments must be killed and thawed first
    channel = socket.socket(fileno=int(fd))
    tree = CgroupTree.from_message(json.loads(cgroups)) if cgroups != "-" else None
    zygote = Zygote(channel, stage, isolate == "1", tree, int(spares), network)
    loaded = preload([name for name in modules.split(",") if name]) if modules != "-" else []
    gc.freeze()  # the collector never walks what the children share, so it never copies those pages
    try:
        zygote.serve(loaded)  # returns when the server's end of the channel closes: it is gone
    finally:
        zygote.abandon()


if __name__ == "__main__":
    main()
