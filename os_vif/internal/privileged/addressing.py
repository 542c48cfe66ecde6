"""A workload's end: its creation, link, addresses and routes, one send.

The daemon makes a workload's end and brings it to what a plan asks with
a handful of rtnetlink requests (create the end, mark it, bring ``lo``
up, add each address, then each route).  pyroute2's ``IPRoute.link``,
``addr`` and ``route`` spend about a millisecond of Python each in their
request machinery, and even its message classes take a tenth of one to
encode a request: more than the kernel's work for most of these.  These
few fixed shapes are encoded here (in the wire format of
:mod:`os_vif.internal.rtnl`) in microseconds, and
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

from os_vif.internal import rtnl
from os_vif.internal.privileged import netlink

__all__ = ["Refused", "Requests"]

_CREATE = rtnl.NLM_F_REQUEST_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
# No duplicate address detection: the address is the VIF's, which Neutron
# gave this port alone; a tentative address would make the routes through
# its subnet's gateway fail for a second or so.
_IPV6_ADDRESS_FLAGS = rtnl.IFA_F_NODAD
# RTPROT_STATIC: what pyroute2's route requests (used before) set, so a
# route os_vif adds reads as before.
_ROUTE_PROTOCOL = rtnl.RTPROT_STATIC


def _mac(value: str) -> bytes:
    return rtnl.attr(rtnl.IFLA_ADDRESS, bytes.fromhex(value.replace(":", "")))


def _ifinfomsg(index: int = 0, up: bool | None = None) -> bytes:
    flags = change = 0
    if up is not None:
        flags, change = (rtnl.IFF_UP if up else 0), rtnl.IFF_UP
    return rtnl.IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, flags, change)


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
        parts.append(rtnl.text_attr(rtnl.IFLA_IFNAME, name))
    if alias is not None:
        # An empty one removes the alias.
        parts.append(
            rtnl.text_attr(rtnl.IFLA_IFALIAS, alias)
            if alias
            else rtnl.attr(rtnl.IFLA_IFALIAS, b"")
        )
    if mtu is not None:
        parts.append(rtnl.attr(rtnl.IFLA_MTU, rtnl.U32.pack(mtu)))
    if mac is not None:
        parts.append(_mac(mac))
    if netns_fd is not None:
        parts.append(rtnl.attr(rtnl.IFLA_NET_NS_FD, rtnl.U32.pack(netns_fd)))
    return b"".join(parts)


def _linkinfo(kind: str, data: bytes) -> bytes:
    info = rtnl.text_attr(rtnl.IFLA_INFO_KIND, kind)
    if data:
        info += rtnl.attr(rtnl.IFLA_INFO_DATA, data)
    return rtnl.attr(rtnl.IFLA_LINKINFO, info)


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
        header = rtnl.NLMSGHDR.pack(
            rtnl.NLMSGHDR.size + len(body), kind, flags, len(self._data) + 1, 0
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
            attrs += rtnl.attr(rtnl.IFLA_MASTER, rtnl.U32.pack(master))
        attrs += _linkinfo("veth", rtnl.attr(rtnl.VETH_INFO_PEER, peer_msg))
        self._add(
            rtnl.RTM_NEWLINK,
            _CREATE,
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
            rtnl.attr(
                rtnl.IFLA_MACVLAN_MODE, rtnl.U32.pack(rtnl.MACVLAN_MODE_BRIDGE)
            )
            if kind == "macvlan"
            else rtnl.attr(rtnl.IFLA_VLAN_ID, rtnl.U16.pack(vlan or 0))
        )
        attrs = _link_attrs(name, mtu=mtu, mac=mac, netns_fd=netns_fd)
        attrs += rtnl.attr(rtnl.IFLA_LINK, rtnl.U32.pack(lower))
        attrs += _linkinfo(kind, data)
        self._add(
            rtnl.RTM_NEWLINK,
            _CREATE,
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
            rtnl.RTM_NEWLINK,
            rtnl.NLM_F_REQUEST_ACK,
            _ifinfomsg(index, up)
            + _link_attrs(name, alias=alias, mtu=mtu, mac=mac),
            "set link %s" % (name or index),
        )

    def _address(self, text: str) -> bytes:
        interface = ipaddress.ip_interface(text)
        v6 = interface.version == 6
        packed = interface.ip.packed
        return (
            rtnl.IFADDRMSG.pack(
                socket.AF_INET6 if v6 else socket.AF_INET,
                interface.network.prefixlen,
                _IPV6_ADDRESS_FLAGS if v6 else 0,
                0,
                self.index,
            )
            + rtnl.attr(rtnl.IFA_LOCAL, packed)
            + rtnl.attr(rtnl.IFA_ADDRESS, packed)
        )

    def add_address(self, text: str) -> None:
        """Add the address ``text`` (``10.0.0.5/24``) to the link."""
        self._add(
            rtnl.RTM_NEWADDR,
            _CREATE,
            self._address(text),
            "add address %s" % text,
        )

    def delete_address(self, text: str) -> None:
        """Remove the address ``text`` from the link (gone: done)."""
        self._add(
            rtnl.RTM_DELADDR,
            rtnl.NLM_F_REQUEST_ACK,
            self._address(text),
            "delete address %s" % text,
            (errno.EADDRNOTAVAIL, errno.ENODEV),
        )

    def _route(self, destination: str, gateway: str | None) -> bytes:
        network = ipaddress.ip_network(destination)
        body = rtnl.RTMSG.pack(
            socket.AF_INET6 if network.version == 6 else socket.AF_INET,
            network.prefixlen,
            0,
            0,
            rtnl.RT_TABLE_MAIN,
            _ROUTE_PROTOCOL,
            (
                rtnl.RT_SCOPE_UNIVERSE
                if gateway is not None
                else rtnl.RT_SCOPE_LINK
            ),
            rtnl.RTN_UNICAST,
            0,
        )
        if network.prefixlen:
            body += rtnl.attr(rtnl.RTA_DST, network.network_address.packed)
        if gateway is not None:
            body += rtnl.attr(
                rtnl.RTA_GATEWAY, ipaddress.ip_address(gateway).packed
            )
        return body + rtnl.attr(rtnl.RTA_OIF, rtnl.U32.pack(self.index))

    def replace_route(self, destination: str, gateway: str | None) -> None:
        """Route ``destination`` through the link (via ``gateway``)."""
        self._add(
            rtnl.RTM_NEWROUTE,
            rtnl.NLM_F_REQUEST_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_REPLACE,
            self._route(destination, gateway),
            "route %s via %s" % (destination, gateway or "the link"),
        )

    def delete_route(self, destination: str, gateway: str | None) -> None:
        """Remove that route through the link (gone: done)."""
        self._add(
            rtnl.RTM_DELROUTE,
            rtnl.NLM_F_REQUEST_ACK,
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
