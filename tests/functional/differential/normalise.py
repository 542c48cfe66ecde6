"""Normalise host dumps and compare them.

A raw dump (``tools/host_dump.py``) names rows by UUID and holds MACs the
kernel generated; :func:`normalise` turns it into objects keyed by what
they are (``link qvoX``, ``Bridge br-int``, ``Port tapX``, ``Interface
tapX``, ``QoS[port tapX]``), each a flat mapping of attribute paths
(``mtu``, ``ipv4.arp_ignore``, ``bridge.ageing_time``,
``external_ids:iface-id``) to values, with:

* references to rows replaced by the referenced row's name (a QoS row by
  the port it serves, or ``unreferenced <type> <external_ids:id>``);
* every MAC that is none the scenario chose replaced by
  :data:`GENERATED_MAC`, and the MAC of a bridge nobody gave one by
  :data:`PORTS_MAC`;
* sets sorted, maps flattened (an absent key and an empty map are alike);
* no ifindexes, and no ``ovs-netdev`` (the datapath's own device).

:func:`compare` gives the differences between the reference host and the
subject host as stable strings, e.g. ``link qvoX.promisc: 5.3.0=True
ours=False`` or ``QoS[port tapX] missing in ours``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ABSENT",
    "GENERATED_MAC",
    "PORTS_MAC",
    "Normalised",
    "compare",
    "leftovers",
    "normalise",
    "show",
]

#: What a MAC the kernel or ovs-vswitchd generated becomes.
GENERATED_MAC = "<generated MAC>"
#: How a missing attribute is shown.
ABSENT = "<absent>"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", re.IGNORECASE)
_FIXED_MACS = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
# Devices that are neither os-vif's nor the scenario's.
_IGNORED_LINKS = frozenset({"ovs-netdev"})

#: Objects by key, each a mapping of attribute path to value.
Normalised = dict[str, dict[str, Any]]


def _mac(value: Any, known: frozenset[str]) -> Any:
    if isinstance(value, str) and _MAC.match(value):
        lowered = value.lower()
        if lowered not in known and lowered not in _FIXED_MACS:
            return GENERATED_MAC
        return lowered
    return value


#: What a bridge's MAC becomes when nobody set it (``addr_assign_type``
#: other than 3): the kernel gives such a bridge the lowest MAC of its
#: ports, which depends on the random MACs of its veths.
PORTS_MAC = "<lowest MAC of its ports>"
_NET_ADDR_SET = 3


def _link(entry: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if entry.get("kind") == "bridge" and entry.get(
        "addr_assign_type"
    ) not in (None, _NET_ADDR_SET):
        entry = {**entry, "address": PORTS_MAC}
    flat: dict[str, Any] = {}
    for key, value in entry.items():
        if isinstance(value, Mapping):
            for sub, item in value.items():
                flat["%s.%s" % (key, sub)] = _mac(item, known)
        else:
            flat[key] = _mac(value, known)
    return flat


def _atom(value: Any, labels: Mapping[str, str], known: frozenset[str]) -> Any:
    if isinstance(value, list) and len(value) == 2 and value[0] in (
        "uuid", "named-uuid"
    ):
        return labels.get(value[1], "<row not dumped>")
    return _mac(value, known)


def _column(
    name: str,
    value: Any,
    labels: Mapping[str, str],
    known: frozenset[str],
) -> dict[str, Any]:
    """One OVSDB column as flat attributes."""
    if isinstance(value, list) and len(value) == 2 and value[0] == "map":
        return {
            "%s:%s" % (name, _atom(k, labels, known)): _atom(v, labels, known)
            for k, v in value[1]
        }
    if isinstance(value, list) and len(value) == 2 and value[0] == "set":
        items = [_atom(item, labels, known) for item in value[1]]
        if len(items) == 1:
            return {name: items[0]}
        return {name: sorted(items, key=repr)}
    return {name: _atom(value, labels, known)}


def _qos_labels(ovsdb: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for port in ovsdb.get("Port", {}).values():
        qos = port.get("qos")
        if isinstance(qos, list) and qos[0] == "uuid":
            labels[qos[1]] = "QoS[port %s]" % port["name"]
    for uuid, row in ovsdb.get("QoS", {}).items():
        if uuid in labels:
            continue
        ids = dict(row.get("external_ids", ["map", []])[1])
        label = "QoS[unreferenced type=%s id=%s]" % (
            row.get("type"), ids.get("id", ABSENT)
        )
        while label in labels.values():
            label += "+"
        labels[uuid] = label
    for uuid, row in ovsdb.get("Queue", {}).items():
        labels[uuid] = "Queue[%s]" % show(row.get("external_ids"))
    return labels


def normalise(
    dump: Mapping[str, Any], known_macs: Iterable[str]
) -> Normalised:
    """``dump`` as objects keyed by what they are (see the module)."""
    known = frozenset(mac.lower() for mac in known_macs)
    objects: Normalised = {}
    for name, entry in dump["links"].items():
        if name in _IGNORED_LINKS:
            continue
        objects["link " + name] = _link(entry, known)
    ovsdb = dump.get("ovsdb", {})
    labels = _qos_labels(ovsdb)
    for table in ("Bridge", "Port", "Interface"):
        for uuid, row in ovsdb.get(table, {}).items():
            labels[uuid] = row["name"]
    for table, rows in ovsdb.items():
        for uuid, row in rows.items():
            key = (
                labels[uuid] if table in ("QoS", "Queue")
                else "%s %s" % (table, row["name"])
            )
            flat: dict[str, Any] = {}
            for column, value in row.items():
                flat.update(_column(column, value, labels, known))
            objects[key] = flat
    return objects


def show(value: Any) -> str:
    """A value as reports print it."""
    if isinstance(value, list):
        return "[%s]" % ", ".join(show(item) for item in value)
    return str(value)


def compare(
    reference: Normalised,
    subject: Normalised,
    names: tuple[str, str] = ("5.3.0", "ours"),
) -> list[str]:
    """Differences from ``reference`` to ``subject``, sorted."""
    ref_name, sub_name = names
    found = []
    for key in sorted(set(reference) | set(subject)):
        if key not in subject:
            found.append("%s missing in %s" % (key, sub_name))
            continue
        if key not in reference:
            found.append("%s missing in %s" % (key, ref_name))
            continue
        ref, sub = reference[key], subject[key]
        for attr in sorted(set(ref) | set(sub)):
            a, b = ref.get(attr, ABSENT), sub.get(attr, ABSENT)
            if a != b:
                found.append(
                    "%s.%s: %s=%s %s=%s"
                    % (key, attr, ref_name, show(a), sub_name, show(b))
                )
    return found


def leftovers(
    before: Normalised, after: Normalised, remains: Iterable[str]
) -> list[str]:
    """Objects in ``after`` that were not in ``before``.

    ``remains`` names OVS bridges both releases leave on purpose (the
    network's, made by a plug): their link, bridge, port and interface
    do not count.
    """
    allowed = set()
    for bridge in remains:
        allowed |= {"link " + bridge, "Bridge " + bridge, "Port " + bridge,
                    "Interface " + bridge}
    return sorted(set(after) - set(before) - allowed)
