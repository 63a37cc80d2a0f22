"""An environment's network: a namespace of its own, with its Runtime API and Ember's API inside it.

Modes (`ember serve --network`):
    egress  a veth pair to the host (sandbox 100.64.x.2/30, host side .1), NAT out to the world; no
            packet from a sandbox reaches the host's own addresses or another sandbox (nftables: a
            TCP reset, not an ICMP error, which the kernel rate-limits into silent timeouts)
    none    loopback only
    host    no namespace of its own: every host service and every environment's Runtime API is in
            reach. Only when asked for (a baseline for benchmarks), or where namespaces can't be made

Either way of its own, the Runtime API is at 127.0.0.1:9001 and Ember's API for nested calls at
127.0.0.1:9000, served by the server through listening sockets the spare opens inside its namespace
and hands over, so nothing else on the machine can reach them. A spare does all of this ahead of
any cold start; a veth's host-side name (`emb` + its /30 block in hex) is also what claims the
block, so servers sharing a machine never pick the same addresses.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
from pathlib import Path

from ember.execution.local.linux import CLONE_NEWNET, unshare
from ember.execution.local.netlink import Netlink

MODES = ("egress", "none", "host")
RUNTIME_API = ("127.0.0.1", 9001)
EMBER_API = ("127.0.0.1", 9000)
SANDBOX_NETWORK = ipaddress.IPv4Network("100.64.0.0/10")  # shared address space: never a real host's
BLOCKS = SANDBOX_NETWORK.num_addresses // 4
LINK_PREFIX = "emb"
CLAIM_ATTEMPTS = 32
RULES = f"""
table inet ember {{}}
delete table inet ember
table inet ember {{
    chain refuse {{
        meta l4proto tcp reject with tcp reset
        reject with icmpx admin-prohibited
    }}
    chain input {{
        type filter hook input priority -10; policy accept;
        iifname "{LINK_PREFIX}*" jump refuse
    }}
    chain forward {{
        type filter hook forward priority -10; policy accept;
        iifname "{LINK_PREFIX}*" oifname "{LINK_PREFIX}*" jump refuse
        iifname "{LINK_PREFIX}*" ip daddr {SANDBOX_NETWORK} jump refuse
    }}
    chain postrouting {{
        type nat hook postrouting priority 100; policy accept;
        ip saddr {SANDBOX_NETWORK} oifname != "{LINK_PREFIX}*" masquerade
    }}
}}
"""


class NetworkUnavailable(Exception):
    """The host can't give environments egress; the message says what is missing."""


def prepare_host() -> None:
    """Once per server with `--network egress`: forwarding on, the sandbox rules in place."""
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as forward:
            forward.write("1")
        subprocess.run(["nft", "-f", "-"], input=RULES.encode(), check=True, capture_output=True)
    except FileNotFoundError as exc:
        raise NetworkUnavailable(f"{exc.filename} not found (install nftables)") from exc
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode().strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        raise NetworkUnavailable(f"nftables refused the sandbox rules: {detail}") from exc


def resolver_problem(resolv_conf: Path = Path("/etc/resolv.conf")) -> str | None:
    """Sandboxes see the host's /etc/resolv.conf: a resolver on the host's loopback (systemd-resolved's
    127.0.0.53) is out of their reach, so names would not resolve; say so rather than fail quietly."""
    try:
        servers = [line.split()[1] for line in resolv_conf.read_text().splitlines()
                   if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        return f"{resolv_conf} is unreadable: functions cannot resolve names"
    if servers and all(ipaddress.ip_address(server.split("%")[0]).is_loopback for server in servers):
        return (f"the host's resolvers ({', '.join(servers)}) are on its loopback, which functions cannot "
                f"reach: name its upstream resolver in {resolv_conf} for functions to resolve names")
    return None


def enter_own_network(egress: bool) -> list[socket.socket]:
    """In a spare, as root, still in the host's namespace: leave it for a new one, wire that, and
    open the two listeners inside (the Runtime API's first)."""
    host = Netlink() if egress else None  # made before leaving: it acts in the host's namespace
    host_namespace = os.open("/proc/thread-self/ns/net", os.O_RDONLY) if egress else -1
    try:
        unshare(CLONE_NEWNET)
        local = Netlink()
        local.set_up(1)  # lo
        if host is not None:
            wire(host, local, host_namespace)
        local.close()
    finally:
        if host is not None:
            host.close()
            os.close(host_namespace)
    return [listen(RUNTIME_API), listen(EMBER_API)]


def wire(host: Netlink, local: Netlink, host_namespace: int) -> None:
    """eth0 here, its peer on the host; addresses from the block the peer's name claimed."""
    block = claim_block(local, host_namespace)
    host_side, sandbox_side = addresses(block)
    index = host.index(link_name(block))
    host.add_address(index, host_side, 30)
    host.set_up(index)
    eth0 = local.index("eth0")
    local.add_address(eth0, sandbox_side, 30)
    local.set_up(eth0)
    local.add_default_route(host_side)


def claim_block(local: Netlink, host_namespace: int) -> int:
    """A free /30 block: the host-side link's name is unique, so creating it claims the block."""
    for _ in range(CLAIM_ATTEMPTS):
        block = int.from_bytes(os.urandom(4), "big") % BLOCKS
        try:
            local.add_veth("eth0", link_name(block), host_namespace)
        except FileExistsError:
            continue
        return block
    raise OSError("no free sandbox address block after several tries")


def link_name(block: int) -> str:
    return f"{LINK_PREFIX}{block:05x}"


def addresses(block: int) -> tuple[str, str]:
    """The host side's and the sandbox's address of a /30 block."""
    base = int(SANDBOX_NETWORK.network_address) + 4 * block
    return str(ipaddress.IPv4Address(base + 1)), str(ipaddress.IPv4Address(base + 2))


def listen(address: tuple[str, int]) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    return sock
