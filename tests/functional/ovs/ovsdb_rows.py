"""Read OVSDB rows back through ovs-vsctl, independently of os_vif."""

from __future__ import annotations

import json
from typing import Any

from os_vif.sandbox.ovs import OvsServer


def _value(datum: Any) -> Any:
    if isinstance(datum, list) and len(datum) == 2:
        kind, payload = datum
        if kind == "map":
            return {k: _value(v) for k, v in payload}
        if kind == "set":
            return [_value(v) for v in payload]
        if kind in ("uuid", "named-uuid"):
            return payload
    return datum


def rows(ovs: OvsServer, table: str, **match: Any) -> list[dict[str, Any]]:
    """Return the rows of ``table`` whose columns equal ``match``."""
    conditions = ["%s=%s" % (k, json.dumps(v)) for k, v in match.items()]
    out = ovs.vsctl("--format=json", "--data=json", "find", table, *conditions)
    doc = json.loads(out)
    return [
        {
            name: _value(value)
            for name, value in zip(doc["headings"], data, strict=True)
        }
        for data in doc["data"]
    ]


def row(ovs: OvsServer, table: str, name: str) -> dict[str, Any] | None:
    """Return the row of ``table`` named ``name``, or None."""
    found = rows(ovs, table, name=name)
    return found[0] if found else None


def bridge_ports(ovs: OvsServer, bridge: str) -> list[str]:
    """Names of the ports of ``bridge`` (its own port included)."""
    return sorted(ovs.vsctl("list-ports", bridge).split() + [bridge])


def port_bridge(ovs: OvsServer, port: str) -> str | None:
    """The bridge ``port`` is on, or None."""
    for bridge in ovs.bridges():
        if port in ovs.vsctl("list-ports", bridge).split():
            return bridge
    return None


def next_cfg(ovs: OvsServer) -> int:
    """Open_vSwitch.next_cfg: every ovsdbapp write transaction bumps it."""
    return int(ovs.vsctl("get", "Open_vSwitch", ".", "next_cfg").strip())


def block_interface_name(ovs: OvsServer, name: str) -> None:
    """Make OVSDB refuse a port ``name``: another port holds its Interface.

    The name index of Interface is unique, so a plug's transaction that
    adds it fails (after its kernel call, for a hybrid plug).
    """
    ovs.vsctl(
        "add-br",
        "br-other",
        "--",
        "set",
        "Bridge",
        "br-other",
        "datapath_type=netdev",
        "--",
        "add-bond",
        "br-other",
        "bond9",
        name,
        "spare9",
    )
