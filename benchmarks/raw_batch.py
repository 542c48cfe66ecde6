"""The bulk floor: many VIFs' host changes, as few requests as they take.

Shared by ``bench_bulk.py`` and ``bench_host_state.py``; no os_vif code
runs here.  Kernel changes go to the kernel in batches: every RTM_NEWLINK
of a step encoded by pyroute2's ``IPBatch`` and sent in one ``send()`` on
a raw rtnetlink socket, the acknowledgements read back together;
deletions are one RTM_DELLINK naming a link group (``IFLA_GROUP``, set
when a device is made), which the kernel serves with one
``unregister_netdevice_many`` (one RCU grace period for all).  Taps are
made with the tun ioctls (rtnetlink cannot make them).  OVSDB changes are
one ovsdbapp transaction for all ports.  Nothing is validated and nothing
is read back beyond what the next step needs (one link dump for the
indexes).
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import os
import socket
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from bench_ovs import BRIDGE, INSTANCE, MTU, _FloorIdl  # noqa: F401
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import idlutils
from pyroute2 import IPBatch
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

#: The link group of every device the floor makes.
GROUP = 4242

_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_RTM_NEWLINK = 16
_RTM_GETLINK = 18
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_IFLA_IFNAME = 3
_IFLA_MTU = 4
_IFLA_MASTER = 10
_IFLA_IFALIAS = 20
_IFLA_EXT_MASK = 29
_RTEXT_FILTER_SKIP_STATS = 1 << 3
_IFF_UP = 0x1
_NLM_F_DUMP_INTR = 0x10
_RTM_DELLINK = 17
_NLM_F_REQUEST_ACK = 0x1 | 0x4
_TUNSETIFF = 0x400454CA
_TUNSETPERSIST = 0x400454CB
_IFF_TAP_NO_PI = 0x0002 | 0x1000
_SO_SNDBUFFORCE = 32
_SO_RCVBUFFORCE = 33


@dataclasses.dataclass
class Link:
    """What a check reads of a link."""

    name: str
    index: int
    up: bool
    mtu: int | None = None
    master: int | None = None
    alias: str | None = None


def _parse_link(chunk: bytes, offset: int, length: int) -> Link:
    index, flags = struct.unpack_from("=4xiI", chunk, offset + 16)
    values: dict[int, bytes] = {}
    position, end = offset + 32, offset + length
    while position + 4 <= end:
        size, kind = struct.unpack_from("=HH", chunk, position)
        if size < 4:
            break
        if kind in (_IFLA_IFNAME, _IFLA_MTU, _IFLA_MASTER, _IFLA_IFALIAS):
            values[kind] = chunk[position + 4 : position + size]
        position += (size + 3) & ~3

    def text(kind: int) -> str | None:
        raw = values.get(kind)
        return None if raw is None else raw.split(b"\0", 1)[0].decode()

    def number(kind: int) -> int | None:
        raw = values.get(kind)
        return None if raw is None else struct.unpack("=I", raw[:4])[0]

    return Link(
        name=text(_IFLA_IFNAME) or "",
        index=index,
        up=bool(flags & _IFF_UP),
        mtu=number(_IFLA_MTU),
        master=number(_IFLA_MASTER),
        alias=text(_IFLA_IFALIAS),
    )


class Netlink:
    """A raw rtnetlink socket sending batches and counting their acks."""

    def __init__(self) -> None:
        self.sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE
        )
        # Root may exceed wmem_max: a batch of 1000 messages is one send.
        self.sock.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, 1 << 24)
        self.sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 1 << 24)
        self.sock.bind((0, 0))
        #: Dumps made again because the kernel marked them inconsistent.
        self.retries = 0

    def send(
        self, data: bytes, count: int, ignore: frozenset[int] = frozenset()
    ) -> None:
        """Send ``count`` messages at once; raise if any was refused.

        Error numbers in ``ignore`` count as success.
        """
        self.sock.send(data)
        acked, errors = 0, []
        while acked < count:
            chunk = self.sock.recv(1 << 22)
            offset = 0
            while offset < len(chunk):
                length, kind = struct.unpack_from("=IH", chunk, offset)
                if kind == _NLMSG_ERROR:
                    code = struct.unpack_from("=i", chunk, offset + 16)[0]
                    if code and -code not in ignore:
                        errors.append(os.strerror(-code))
                    acked += 1
                offset += (length + 3) & ~3
        if errors:
            raise OSError(
                "%d of %d refused: %s" % (len(errors), count, errors[0])
            )

    def batch(self, requests: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """``IPRoute.link(command, **kwargs)`` for each, in one send."""
        encoder = IPBatch()
        count = 0
        for command, kwargs in requests:
            encoder.link(command, **kwargs)
            count += 1
        if count:
            self.send(bytes(encoder.batch), count)
        encoder.close()

    def set_group(self, indexes: Iterable[int], group: int = GROUP) -> None:
        """Put the links ``indexes`` in ``group``: one send.

        Encoded by pyroute2's message class: ``IPBatch`` runs each message
        through pyroute2's request machinery (about 0.2 ms a message),
        which a floor must not pay.
        """
        data = []
        for index in indexes:
            msg = ifinfmsg()
            msg["index"] = index
            msg["attrs"] = [("IFLA_GROUP", group)]
            msg["header"]["type"] = _RTM_NEWLINK
            msg["header"]["flags"] = _NLM_F_REQUEST_ACK
            msg.encode()
            data.append(bytes(msg.data))
        if data:
            self.send(b"".join(data), len(data), frozenset({errno.ENODEV}))

    def links(self) -> dict[str, Link]:
        """Every link of the namespace by name: one RTM_GETLINK dump.

        Parsed as little as a check needs (name, index, MTU, master, alias,
        up), statistics left out by the kernel (``IFLA_EXT_MASK``): the
        least a dump costs, where pyroute2 parses every attribute.  A dump
        the kernel marks inconsistent (links changed meanwhile, as
        ovs-vswitchd does to the ports it opens) is made again.
        """
        while True:
            found, consistent = self._dump_links()
            if consistent:
                return found
            self.retries += 1

    def _dump_links(self) -> tuple[dict[str, Link], bool]:
        request = struct.pack(
            "=IHHII BxHiII HHI",
            16 + 16 + 8,
            _RTM_GETLINK,
            _NLM_F_REQUEST_DUMP,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            8,
            _IFLA_EXT_MASK,
            _RTEXT_FILTER_SKIP_STATS,
        )
        self.sock.send(request)
        found: dict[str, Link] = {}
        consistent = True
        while True:
            chunk = self.sock.recv(1 << 22)
            offset = 0
            while offset < len(chunk):
                length, kind, flags = struct.unpack_from("=IHH", chunk, offset)
                if flags & _NLM_F_DUMP_INTR:
                    consistent = False
                if kind == _NLMSG_DONE:
                    return found, consistent
                if kind == _NLMSG_ERROR:
                    code = struct.unpack_from("=i", chunk, offset + 16)[0]
                    raise OSError(-code, os.strerror(-code))
                if kind == _RTM_NEWLINK:
                    link = _parse_link(chunk, offset, length)
                    found[link.name] = link
                offset += (length + 3) & ~3

    def delete_group(self, group: int = GROUP) -> None:
        """Delete every device of ``group``: one RTM_DELLINK.

        An empty group (ENODEV) is nothing to delete.
        """
        msg = ifinfmsg()
        msg["index"] = 0
        msg["attrs"] = [("IFLA_GROUP", group)]
        msg["header"]["type"] = _RTM_DELLINK
        msg["header"]["flags"] = _NLM_F_REQUEST_ACK
        msg.encode()
        self.send(bytes(msg.data), 1, frozenset({errno.ENODEV}))

    def close(self) -> None:
        self.sock.close()


def make_taps(names: Sequence[str]) -> None:
    """Make persistent taps (the tun ioctls: one open and two ioctls each)."""
    for name in names:
        fd = os.open("/dev/net/tun", os.O_RDWR)
        try:
            ifr = struct.pack("16sH22x", name.encode(), _IFF_TAP_NO_PI)
            fcntl.ioctl(fd, _TUNSETIFF, ifr)
            fcntl.ioctl(fd, _TUNSETPERSIST, 1)
        finally:
            os.close(fd)


def indexes(nl: Netlink) -> dict[str, int]:
    """Name -> index of every link: one dump."""
    return {name: link.index for name, link in nl.links().items()}


def ovsdb_api(connection: str) -> Any:
    """An ovsdbapp API whose transactions return once committed."""
    helper = idlutils.get_schema_helper(connection, "Open_vSwitch")
    for table in ("Open_vSwitch", "Bridge", "Port", "Interface"):
        helper.register_table(table)
    idl = ovs_connection.OvsdbIdl(connection, helper)
    return _FloorIdl(ovs_connection.Connection(idl, timeout=300))


def add_ports(api: Any, ports: Sequence[tuple[str, str, str]]) -> None:
    """One transaction: the bridge, and a port per ``(name, id, mac)``."""
    with api.transaction(check_error=True) as txn:
        txn.add(api.add_br(BRIDGE, datapath_type="netdev"))
        for name, vif_id, mac in ports:
            txn.add(api.add_port(BRIDGE, name))
            txn.add(
                api.db_set(
                    "Interface",
                    name,
                    (
                        "external_ids",
                        {
                            "iface-id": vif_id,
                            "iface-status": "active",
                            "attached-mac": mac,
                            "vm-uuid": INSTANCE.uuid,
                        },
                    ),
                    ("mtu_request", MTU),
                )
            )


def del_ports(api: Any, names: Iterable[str]) -> None:
    """One transaction, one mutation: ``names`` out of the bridge's ports.

    ovsdb-server then drops the Port and Interface rows nothing refers to.
    (ovsdbapp's ``del_port`` per port converts the bridge's whole port
    list twice per port: quadratic in a batch, so not a floor.)
    """
    wanted = set(names)
    # By UUID: db_list_rows gives ovsdbapp RowViews, which python-ovs's
    # delvalue does not recognise as the rows they wrap (it then removes
    # nothing, silently).
    uuids = [
        row.uuid
        for row in api.db_list_rows("Port").execute(check_error=True)
        if row.name in wanted
    ]
    if uuids:
        api.db_remove("Bridge", BRIDGE, "ports", *uuids).execute(
            check_error=True
        )


def port_names(api: Any) -> set[str]:
    """The names of every Port row (to verify a floor's deletions)."""
    return {
        row["name"]
        for row in api.db_list("Port", columns=["name"]).execute(
            check_error=True
        )
    }


def interfaces(api: Any) -> dict[str, dict[str, Any]]:
    """Name -> {external_ids, mtu_request} of every Interface: the cache."""
    rows = api.db_list(
        "Interface", columns=["name", "external_ids", "mtu_request"]
    ).execute(check_error=True)
    return {row["name"]: row for row in rows}
