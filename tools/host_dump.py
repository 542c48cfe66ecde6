"""Dump what a host's networking looks like: links, sysctls, OVSDB rows.

The differential suite (``tests/functional/differential``) calls
:func:`dump` inside its workers (``tools/oracle_worker.py --session``),
which run under the python of os-vif 5.3.0's virtualenv and under this
project's, each in its host's network namespace, so that ``/proc/sys``
and ``/sys/class/net`` are the namespace's.  Hence this module imports
only the standard library and pyroute2 (both virtualenvs have it) and
reads OVSDB with ``ovsdb-client``; never os_vif.

The dump is raw: names, UUIDs, ifindexes and MACs are kept as the host
has them; the suite's normaliser decides what is compared.  Its form::

    {"links": {name: {"kind", "mtu", "up", "operstate", "master",
                      "peer", "promisc", "address", "alias", "txqlen",
                      "ipv4": {sysctl: value}, "ipv6": {...},
                      "bridge": {attribute: value},     # bridges only
                      "brport": {attribute: value},     # bridge ports
                      "tun": {"tun_flags": ..., ...}}}, # tun/tap only
     "ovsdb": {table: {uuid: {column: value}}}}

OVSDB values are in the database's JSON notation (``["uuid", u]``,
``["set", [...]]``, ``["map", [[k, v]...]]``); the columns that
ovs-vswitchd writes to report state (:data:`STATUS_COLUMNS`) are left out,
except ``Interface.error``, which says why a port could not be made.

Usage (for a look at a host by hand)::

    ip netns exec NS python tools/host_dump.py unix:/path/db.sock
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

__all__ = [
    "OVSDB_TABLES",
    "STATUS_COLUMNS",
    "dump",
    "links",
    "ovsdb",
    "settle",
]

#: The OVSDB tables dumped.
OVSDB_TABLES = ("Bridge", "Port", "Interface", "QoS", "Queue")

#: Columns ovs-vswitchd writes to report state, by table: not dumped.
STATUS_COLUMNS: dict[str, frozenset[str]] = {
    "Bridge": frozenset(
        {"_version", "datapath_id", "datapath_version", "status",
         "rstp_status"}
    ),
    "Port": frozenset(
        {"_version", "statistics", "status", "rstp_status",
         "rstp_statistics", "bond_active_slave"}
    ),
    "Interface": frozenset(
        {"_version", "statistics", "status", "ofport", "ifindex",
         "mac_in_use", "link_state", "admin_state", "link_resets",
         "link_speed", "duplex", "mtu", "lacp_current", "bfd_status",
         "cfm_fault", "cfm_fault_status", "cfm_health", "cfm_flap_count",
         "cfm_remote_mpids", "cfm_remote_opstate"}
    ),
    "QoS": frozenset({"_version"}),
    "Queue": frozenset({"_version"}),
}

# Bridge attributes (/sys/class/net/X/bridge/*) that are configuration;
# the timers and ids there change by themselves or embed MACs.
_BRIDGE_ATTRS = (
    "stp_state", "forward_delay", "ageing_time", "multicast_snooping",
    "hello_time", "max_age", "priority", "vlan_filtering",
    "group_fwd_mask", "multicast_querier", "multicast_router",
    "nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables",
)
# Bridge port attributes (/sys/class/net/X/brport/*).
_BRPORT_ATTRS = (
    "hairpin_mode", "learning", "unicast_flood", "multicast_flood",
    "broadcast_flood", "path_cost", "priority", "bpdu_guard",
    "proxyarp", "isolated",
)
_TUN_ATTRS = ("tun_flags", "owner", "group")
_IFF_UP = 0x1
_IFF_PROMISC = 0x100
# Sysctls that cannot be read (stable_secret without a secret) or that
# move by themselves.
_SKIP_SYSCTLS = frozenset({"stable_secret"})


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


def _value(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _attrs(directory: str, names: tuple[str, ...]) -> dict[str, Any]:
    found = {}
    for name in names:
        text = _read(os.path.join(directory, name))
        if text is not None:
            found[name] = _value(text)
    return found


def _sysctls(family: str, device: str) -> dict[str, Any]:
    directory = "/proc/sys/net/%s/conf/%s" % (family, device)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return {}
    found = {}
    for name in names:
        if name in _SKIP_SYSCTLS:
            continue
        text = _read(os.path.join(directory, name))
        if text is not None:
            found[name] = _value(text)
    return found


def links() -> dict[str, dict[str, Any]]:
    """Every link of the calling thread's network namespace, by name."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        raw = ipr.get_links()
    names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in raw}
    found: dict[str, dict[str, Any]] = {}
    for link in raw:
        name = link.get_attr("IFLA_IFNAME")
        info = link.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info else None
        master = link.get_attr("IFLA_MASTER")
        peer = link.get_attr("IFLA_LINK")
        if link.get_attr("IFLA_LINK_NETNSID") is not None:
            # The peer is in another namespace: its index means nothing
            # here.
            peer = None
        flags = link["flags"]
        entry: dict[str, Any] = {
            "kind": kind,
            "mtu": link.get_attr("IFLA_MTU"),
            "up": bool(flags & _IFF_UP),
            "operstate": link.get_attr("IFLA_OPERSTATE"),
            "master": names.get(master) if master else None,
            "peer": names.get(peer) if peer != link["index"] else None,
            "promisc": bool(flags & _IFF_PROMISC),
            "address": link.get_attr("IFLA_ADDRESS"),
            "alias": link.get_attr("IFLA_IFALIAS"),
            "txqlen": link.get_attr("IFLA_TXQLEN"),
            "ipv4": _sysctls("ipv4", name),
            "ipv6": _sysctls("ipv6", name),
        }
        sysfs = "/sys/class/net/" + name
        # How the MAC was chosen: 3 (set) is someone's choice; otherwise
        # a bridge takes the lowest MAC of its ports, random for a veth.
        text = _read(sysfs + "/addr_assign_type")
        entry["addr_assign_type"] = None if text is None else _value(text)
        if kind == "bridge":
            entry["bridge"] = _attrs(sysfs + "/bridge", _BRIDGE_ATTRS)
        if master:
            entry["brport"] = _attrs(sysfs + "/brport", _BRPORT_ATTRS)
        if kind == "tun":
            entry["tun"] = _attrs(sysfs, _TUN_ATTRS)
        found[name] = entry
    return found


def ovsdb(connection: str, timeout: int = 30) -> dict[str, dict[str, Any]]:
    """The rows of :data:`OVSDB_TABLES`, by table and UUID.

    One ``ovsdb-client transact`` of one ``select`` per table: a single
    consistent snapshot, in one process.
    """
    client = shutil.which("ovsdb-client") or "/usr/bin/ovsdb-client"
    request = ["Open_vSwitch"] + [
        {"op": "select", "table": table, "where": []}
        for table in OVSDB_TABLES
    ]
    out = subprocess.run(
        [client, "--timeout=%d" % timeout, "transact", connection,
         json.dumps(request)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answers = json.loads(out)
    tables: dict[str, dict[str, Any]] = {}
    for table, answer in zip(OVSDB_TABLES, answers, strict=False):
        if "error" in answer:
            raise RuntimeError("ovsdb-client: %s: %s" % (table, answer))
        skip = STATUS_COLUMNS[table]
        rows = {}
        for row in answer["rows"]:
            uuid = row["_uuid"][1]
            rows[uuid] = {
                column: value
                for column, value in row.items()
                if column != "_uuid" and column not in skip
            }
        tables[table] = rows
    return tables


def settle(connection: str, timeout: int = 30) -> None:
    """Return once ovs-vswitchd has applied the database as it is now.

    A transaction that changes nothing is not waited for, so this one
    changes a key of the ``Open_vSwitch`` row's ``external_ids`` that
    nothing reads; ovs-vsctl then waits for ovs-vswitchd's reconfiguration
    (ports opened, ``Interface.error`` written) before it exits.
    """
    vsctl = shutil.which("ovs-vsctl") or "/usr/bin/ovs-vsctl"
    subprocess.run(
        [vsctl, "--db=" + connection, "--timeout=%d" % timeout, "set",
         "Open_vSwitch", ".",
         "external_ids:os-vif-host-dump=%d" % time.monotonic_ns()],
        capture_output=True,
        text=True,
        check=True,
    )


def dump(connection: str | None) -> dict[str, Any]:
    """Links and (given an OVSDB ``connection``) OVSDB rows of this host."""
    return {
        "links": links(),
        "ovsdb": ovsdb(connection) if connection else {},
    }


if __name__ == "__main__":
    json.dump(dump(sys.argv[1] if len(sys.argv) > 1 else None), sys.stdout,
              indent=1, sort_keys=True)
    sys.stdout.write("\n")
