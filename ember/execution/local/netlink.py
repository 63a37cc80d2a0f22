"""The rtnetlink requests a sandbox's network needs: a veth pair, an address, a link up, a default route.

A handful of fixed-layout messages (include/uapi/linux/rtnetlink.h, if_link.h, veth.h), sent on a
NETLINK_ROUTE socket of the network namespace they act in; each request asks for an ACK and an
error ACK is raised as the OSError it carries. Small enough that a library would cost the zygote
more memory than these lines.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import struct

RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 18, 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR = 2
IFLA_IFNAME, IFLA_LINKINFO, IFLA_NET_NS_FD = 3, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_GATEWAY = 5
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1
IFF_UP = 0x1
CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
_sequence = itertools.count(1)


def attribute(kind: int, value: bytes) -> bytes:
    """One rtattr, padded to 4 bytes."""
    length = 4 + len(value)
    return struct.pack("=HH", length, kind) + value + b"\0" * (-length % 4)


def name_attribute(name: str) -> bytes:
    return attribute(IFLA_IFNAME, name.encode() + b"\0")


class Netlink:
    """A NETLINK_ROUTE socket of the network namespace this process is in when it is made."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))

    def close(self) -> None:
        self.sock.close()

    def request(self, kind: int, flags: int, body: bytes) -> bytes:
        """Send one request and return the kernel's answer (an ACK's payload, or the first reply)."""
        sequence = next(_sequence)
        self.sock.send(_HEADER.pack(_HEADER.size + len(body), kind, flags, sequence, 0) + body)
        while True:
            data = self.sock.recv(65536)
            length, reply_kind, _, reply_sequence, _ = _HEADER.unpack_from(data)
            if reply_sequence != sequence:
                continue
            if reply_kind == NLMSG_ERROR:
                (code,) = struct.unpack_from("=i", data, _HEADER.size)
                if code:
                    raise OSError(-code, os.strerror(-code))
            return data[_HEADER.size:length]

    def add_veth(self, name: str, peer: str, peer_namespace_fd: int) -> None:
        """A veth pair: `name` here, `peer` in the namespace `peer_namespace_fd` refers to."""
        peer_info = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + name_attribute(peer) + \
            attribute(IFLA_NET_NS_FD, struct.pack("=I", peer_namespace_fd))
        link_info = attribute(IFLA_INFO_KIND, b"veth\0") + \
            attribute(IFLA_INFO_DATA, attribute(VETH_INFO_PEER, peer_info))
        body = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + name_attribute(name) + \
            attribute(IFLA_LINKINFO, link_info)
        self.request(RTM_NEWLINK, CREATE, body)

    def index(self, name: str) -> int:
        reply = self.request(RTM_GETLINK, NLM_F_REQUEST, _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) +
                             name_attribute(name))
        _, _, index, _, _ = _IFINFO.unpack_from(reply)
        if index <= 0:
            raise OSError(errno.ENODEV, f"no link named {name}")
        return index

    def set_up(self, index: int) -> None:
        self.request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP))

    def add_address(self, index: int, address: str, prefix: int) -> None:
        packed = socket.inet_aton(address)
        body = _IFADDR.pack(socket.AF_INET, prefix, 0, RT_SCOPE_UNIVERSE, index) + \
            attribute(IFA_LOCAL, packed) + attribute(IFA_ADDRESS, packed)
        self.request(RTM_NEWADDR, CREATE, body)

    def add_default_route(self, gateway: str) -> None:
        body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0) + \
            attribute(RTA_GATEWAY, socket.inet_aton(gateway))
        self.request(RTM_NEWROUTE, CREATE, body)
