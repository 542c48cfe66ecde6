"""A workload's end: its creation, link, addresses and routes, one send.

The daemon makes a workload's end and brings it to what a plan asks with
a handful of rtnetlink requests (create the end, mark it, bring ``lo``
up, add each address, then each route).  pyroute2's ``IPRoute.link``,
``addr`` and ``route`` spend about a millisecond of Python each in their
request machinery, and even its message classes take a tenth of one to
encode a request: more than the kernel's work for most of these.  These
few fixed shapes are encoded here with :mod:`struct` (the layouts of
``linux/rtnetlink.h``, ``if_link.h``, ``if_addr.h``) in microseconds, and
a :class:`Requests` is sent at once with
:func:`~os_vif.internal.privileged.netlink.send_batch`, which answers one
error per request, in order.  The kernel handles a send's requests in
order: an address is there before a route through its subnet's gateway.

:meth:`Requests.send` raises :class:`Refused` naming the first request
refused (or returns the refusals, for an undo that goes on).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct

from os_vif.internal.privileged import netlink

__all__ = ["Refused", "Requests"]

# rtnetlink constants (linux/rtnetlink.h, linux/netlink.h).
_RTM_NEWLINK = 16
_RTM_NEWADDR = 20
_RTM_DELADDR = 21
_RTM_NEWROUTE = 24
_RTM_DELROUTE = 25
_NLM_F_REQUEST_ACK = 0x1 | 0x4
_NLM_F_REPLACE = 0x100
_NLM_F_EXCL = 0x200
_NLM_F_CREATE = 0x400
_IFF_UP = 0x1
# linux/if_link.h
_IFLA_ADDRESS = 1
_IFLA_IFNAME = 3
_IFLA_MTU = 4
_IFLA_LINK = 5
_IFLA_MASTER = 10
_IFLA_LINKINFO = 18
_IFLA_IFALIAS = 20
_IFLA_NET_NS_FD = 28
_IFLA_INFO_KIND = 1
_IFLA_INFO_DATA = 2
_VETH_INFO_PEER = 1
_IFLA_MACVLAN_MODE = 1
_IFLA_VLAN_ID = 1
_MACVLAN_MODE_BRIDGE = 4
# linux/if_addr.h, linux/rtnetlink.h
_IFA_ADDRESS = 1
_IFA_LOCAL = 2
_RTA_DST = 1
_RTA_OIF = 4
_RTA_GATEWAY = 5
# No duplicate address detection: the address is the VIF's, which Neutron
# gave this port alone; a tentative address would make the routes through
# its subnet's gateway fail for a second or so.
_IFA_F_NODAD = 0x02
_MAIN_TABLE = 254
# RTPROT_STATIC: what pyroute2's route requests (used before) set, so a
# route os_vif adds reads as before.
_PROTO_STATIC = 4
_SCOPE_UNIVERSE = 0
_SCOPE_LINK = 253
_RTN_UNICAST = 1

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTATTR = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_U16 = struct.Struct("=H")


def _attr(kind: int, payload: bytes) -> bytes:
    length = _RTATTR.size + len(payload)
    return _RTATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def _text(kind: int, value: str) -> bytes:
    return _attr(kind, value.encode() + b"\0")


def _mac(value: str) -> bytes:
    return _attr(_IFLA_ADDRESS, bytes.fromhex(value.replace(":", "")))


def _ifinfomsg(index: int = 0, up: bool | None = None) -> bytes:
    flags = change = 0
    if up is not None:
        flags, change = (_IFF_UP if up else 0), _IFF_UP
    return _IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, flags, change)


def _link_attrs(
    name: str | None = None,
    *,
    alias: str | None = None,
    mtu: int | None = None,
    mac: str | None = None,
    netns_fd: int | None = None,
) -> bytes:
    """The ``IFLA_*`` attributes of a link request, those given."""
    parts = []
    if name is not None:
        parts.append(_text(_IFLA_IFNAME, name))
    if alias is not None:
        # An empty one removes the alias.
        parts.append(
            _text(_IFLA_IFALIAS, alias) if alias else _attr(_IFLA_IFALIAS, b"")
        )
    if mtu is not None:
        parts.append(_attr(_IFLA_MTU, _U32.pack(mtu)))
    if mac is not None:
        parts.append(_mac(mac))
    if netns_fd is not None:
        parts.append(_attr(_IFLA_NET_NS_FD, _U32.pack(netns_fd)))
    return b"".join(parts)


def _linkinfo(kind: str, data: bytes) -> bytes:
    info = _text(_IFLA_INFO_KIND, kind)
    if data:
        info += _attr(_IFLA_INFO_DATA, data)
    return _attr(_IFLA_LINKINFO, info)


class Refused(Exception):
    """A request of a batch the kernel refused: ``what`` and its errno."""

    def __init__(self, what: str, code: int) -> None:
        super().__init__("%s: %s" % (what, os.strerror(code)))
        self.what = what
        self.code = code


class Requests:
    """Link, address and route requests to send together (in order).

    ``index`` is the link the address and route requests are about (in
    the namespace where :meth:`send` is called).
    """

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self._data: list[bytes] = []
        self._what: list[str] = []
        #: Error numbers of each request that still mean done (an address
        #: or a route already gone, for an undo).
        self._fine: list[tuple[int, ...]] = []

    def __len__(self) -> int:
        return len(self._data)

    def _add(
        self,
        kind: int,
        flags: int,
        body: bytes,
        what: str,
        fine: tuple[int, ...] = (),
    ) -> None:
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(body), kind, flags, len(self._data) + 1, 0
        )
        self._data.append(header + body)
        self._what.append(what)
        self._fine.append(fine)

    def new_veth(
        self,
        host: str,
        peer: str,
        *,
        netns_fd: int,
        mtu: int | None,
        mac: str | None,
        master: int | None,
    ) -> None:
        """Create the veth ``host`` (up, on ``master``) and its ``peer``
        in the namespace ``netns_fd`` (down: it is marked and brought up
        there), both of ``mtu``, the peer with ``mac``."""
        peer_msg = _ifinfomsg() + _link_attrs(
            peer, mtu=mtu, mac=mac, netns_fd=netns_fd
        )
        attrs = _link_attrs(host, mtu=mtu)
        if master is not None:
            attrs += _attr(_IFLA_MASTER, _U32.pack(master))
        attrs += _linkinfo("veth", _attr(_VETH_INFO_PEER, peer_msg))
        self._add(
            _RTM_NEWLINK,
            _NLM_F_REQUEST_ACK | _NLM_F_CREATE | _NLM_F_EXCL,
            _ifinfomsg(up=True) + attrs,
            "create veth %s" % host,
        )

    def new_nested(
        self,
        name: str,
        kind: str,
        *,
        lower: int,
        netns_fd: int,
        mtu: int | None,
        mac: str | None,
        vlan: int | None = None,
    ) -> None:
        """Create the ``macvlan`` (bridge mode) or ``vlan`` ``name`` of
        link ``lower`` directly in the namespace ``netns_fd`` (down)."""
        data = (
            _attr(_IFLA_MACVLAN_MODE, _U32.pack(_MACVLAN_MODE_BRIDGE))
            if kind == "macvlan"
            else _attr(_IFLA_VLAN_ID, _U16.pack(vlan or 0))
        )
        attrs = _link_attrs(name, mtu=mtu, mac=mac, netns_fd=netns_fd)
        attrs += _attr(_IFLA_LINK, _U32.pack(lower))
        attrs += _linkinfo(kind, data)
        self._add(
            _RTM_NEWLINK,
            _NLM_F_REQUEST_ACK | _NLM_F_CREATE | _NLM_F_EXCL,
            _ifinfomsg() + attrs,
            "create %s %s" % (kind, name),
        )

    def set_link(
        self,
        index: int | None = None,
        *,
        name: str | None = None,
        alias: str | None = None,
        mtu: int | None = None,
        mac: str | None = None,
        up: bool | None = None,
    ) -> None:
        """Change what is given of link ``index`` (default: :attr:`index`),
        or of the link called ``name`` (one made earlier in this send)."""
        if name is not None:
            index = 0
        elif index is None:
            index = self.index
        self._add(
            _RTM_NEWLINK,
            _NLM_F_REQUEST_ACK,
            _ifinfomsg(index, up)
            + _link_attrs(name, alias=alias, mtu=mtu, mac=mac),
            "set link %s" % (name or index),
        )

    def _address(self, text: str) -> bytes:
        interface = ipaddress.ip_interface(text)
        v6 = interface.version == 6
        packed = interface.ip.packed
        return (
            _IFADDRMSG.pack(
                socket.AF_INET6 if v6 else socket.AF_INET,
                interface.network.prefixlen,
                _IFA_F_NODAD if v6 else 0,
                0,
                self.index,
            )
            + _attr(_IFA_LOCAL, packed)
            + _attr(_IFA_ADDRESS, packed)
        )

    def add_address(self, text: str) -> None:
        """Add the address ``text`` (``10.0.0.5/24``) to the link."""
        self._add(
            _RTM_NEWADDR,
            _NLM_F_REQUEST_ACK | _NLM_F_CREATE | _NLM_F_EXCL,
            self._address(text),
            "add address %s" % text,
        )

    def delete_address(self, text: str) -> None:
        """Remove the address ``text`` from the link (gone: done)."""
        self._add(
            _RTM_DELADDR,
            _NLM_F_REQUEST_ACK,
            self._address(text),
            "delete address %s" % text,
            (errno.EADDRNOTAVAIL, errno.ENODEV),
        )

    def _route(self, destination: str, gateway: str | None) -> bytes:
        network = ipaddress.ip_network(destination)
        body = _RTMSG.pack(
            socket.AF_INET6 if network.version == 6 else socket.AF_INET,
            network.prefixlen,
            0,
            0,
            _MAIN_TABLE,
            _PROTO_STATIC,
            _SCOPE_UNIVERSE if gateway is not None else _SCOPE_LINK,
            _RTN_UNICAST,
            0,
        )
        if network.prefixlen:
            body += _attr(_RTA_DST, network.network_address.packed)
        if gateway is not None:
            body += _attr(_RTA_GATEWAY, ipaddress.ip_address(gateway).packed)
        return body + _attr(_RTA_OIF, _U32.pack(self.index))

    def replace_route(self, destination: str, gateway: str | None) -> None:
        """Route ``destination`` through the link (via ``gateway``)."""
        self._add(
            _RTM_NEWROUTE,
            _NLM_F_REQUEST_ACK | _NLM_F_CREATE | _NLM_F_REPLACE,
            self._route(destination, gateway),
            "route %s via %s" % (destination, gateway or "the link"),
        )

    def delete_route(self, destination: str, gateway: str | None) -> None:
        """Remove that route through the link (gone: done)."""
        self._add(
            _RTM_DELROUTE,
            _NLM_F_REQUEST_ACK,
            self._route(destination, gateway),
            "delete route %s via %s" % (destination, gateway or "the link"),
            (errno.ESRCH, errno.ENODEV),
        )

    def send(self, *, strict: bool = True) -> list[Refused]:
        """Send them all at once, in the calling thread's namespace.

        Every request is answered.  ``strict``: raise :class:`Refused` for
        the first one refused; else return the refusals (an undo goes on).
        """
        if not self._data:
            return []
        codes = netlink.send_batch(b"".join(self._data), len(self._data))
        answers = zip(self._what, codes, self._fine, strict=True)
        refused = [
            Refused(what, code)
            for what, code, fine in answers
            if code and code not in fine
        ]
        if refused and strict:
            raise refused[0]
        return refused
