"""A fake host "outside" this machine: a network namespace of the test's own, reached from functions
only through their egress NAT (there is no internet here, and the host's loopback is closed to them).

    host ──eo<n> 198.18.n.1/30 ═══ eth0 198.18.n.2/30── outside namespace (servers of the tests)

198.18.0.0/15 is the range reserved for benchmarking networks: nothing real lives there. The
host-side link's name claims the block, so test sessions sharing the machine never collide.
"""

from __future__ import annotations

import ctypes
import os
import random
import socket
import subprocess
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def sweep_dead_sessions() -> None:
    """Remove the outside hosts of test sessions that were killed (their veth pairs go with them)."""
    for name in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
        prefix, _, rest = name.partition("-outside-")
        pid = rest.split("-", 1)[0]
        if prefix == "ember" and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


class OutsideHost:
    def __init__(self) -> None:
        sweep_dead_sessions()
        self.namespace = f"ember-outside-{os.getpid()}-{random.randrange(1 << 30):x}"
        ip("netns", "add", self.namespace)
        self.block = self._claim()
        self.address = f"198.18.{self.block}.2"
        gateway = f"198.18.{self.block}.1"
        ip("addr", "add", f"{gateway}/30", "dev", self.link)
        ip("link", "set", self.link, "up")
        for command in (["addr", "add", f"{self.address}/30", "dev", "eth0"], ["link", "set", "eth0", "up"],
                        ["link", "set", "lo", "up"], ["route", "add", "default", "via", gateway]):
            ip("-n", self.namespace, *command)

    def _claim(self) -> int:
        for block in random.sample(range(256), 256):
            self.link = f"eo{block}"
            try:
                ip("link", "add", self.link, "type", "veth", "peer", "name", "eth0", "netns", self.namespace)
            except subprocess.CalledProcessError:
                continue
            return block
        raise RuntimeError("no free 198.18.x.0/30 block for the outside host")

    def listen(self, port: int = 0) -> socket.socket:
        """A TCP socket listening inside the outside namespace (made by a thread that enters it)."""
        made: list[socket.socket | BaseException] = []

        def enter_and_bind() -> None:
            try:
                fd = os.open(f"/run/netns/{self.namespace}", os.O_RDONLY)
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
                os.close(fd)
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("0.0.0.0", port))
                sock.listen(64)
                made.append(sock)
            except BaseException as exc:  # noqa: B036 - handed to the caller's thread
                made.append(exc)

        thread = threading.Thread(target=enter_and_bind)
        thread.start()
        thread.join()
        if isinstance(made[0], BaseException):
            raise made[0]
        return made[0]

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.link], capture_output=True)
