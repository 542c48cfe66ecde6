"""The ovs plugin's GC: what it made for VIFs no longer in ``keep``.

What the ovs plugin considers its own (see
``doc/source/operators/leaks.rst``):

* OVS ports whose Interface carries a VIF's ``iface-id``,
  ``attached-mac`` and ``vm-uuid`` (:mod:`os_vif.internal.ovsdb.inventory`),
  unless their device is in the kernel and not os_vif's (an SR-IOV
  representor: the NIC's, and possibly the offload plugin's VIF);
* the hybrid devices ``qbr``/``qvb``/``qvo`` (a bridge, a veth pair) and
  taps that are os_vif's by the ownership rules
  (:mod:`os_vif.internal.unprivileged.inventory`) and on no Linux bridge
  but a ``qbr`` (a tap on another Linux bridge is the linux_bridge
  plugin's).

A ``qbr`` goes only when nothing else is on it once its VIF's devices
are gone.  Kept: every port whose iface-id is a kept VIF's, every device
a kept VIF names (its ``vif_name``, its hybrid names, the names os-vif 5.x
derived from its id).
"""

from __future__ import annotations

from collections.abc import Sequence

from os_vif import exception, host_state
from os_vif.internal import kernel, linkstate, names, operation
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.ovsdb import inventory as ovs_inventory
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import inventory, runner
from os_vif.objects import vif as vif_objects
from os_vif.plugins import collecting, rules
from os_vif.plugins.ovs import naming, plan

__all__ = ["collect", "HYBRID_KINDS"]

#: The hybrid plug's devices, by prefix, and their kind.
HYBRID_KINDS = {
    prefix: kind
    for prefix, kind in names.LEGACY_KINDS.items()
    if kind != "tun"
}
# Removal order within a VIF: ports, devices, bridges last.
_ORDER = {"ovs-port": 0, "tun": 1, "veth": 2, "bridge": 3}


def _raw_id(vif: vif_objects.VIFBase) -> str | None:
    return rules.optional(lambda: vif.id)


def _kept(keep: Sequence[vif_objects.VIFBase]) -> tuple[set[str], set[str]]:
    """The iface-ids and the device names of the VIFs of ``keep``."""
    ids: set[str] = set()
    kept: set[str] = set()
    for vif in keep:
        vid = _raw_id(vif)
        if vid:
            ids.add(str(vid))
            kept.update(names.legacy_names(str(vid)))
        try:
            ids.add(plan.vif_identity(vif)[0])
        except exception.InvalidArgument:
            pass  # a VIF without an identity keeps by its id
        name = rules.vif_name(vif)
        if name:
            kept.add(str(name))
    return ids, kept


def _group(name: str, fallback: str) -> str:
    return inventory.legacy_vif_prefix(name) or fallback


def _id_group(iface_id: str) -> str:
    """The group of a port's removal: the VIF-id part of the names 5.x
    derived from its iface-id, which :func:`_group` reads in a name."""
    qbr = names.hybrid_names(iface_id)[0]
    return names.legacy_vif_prefix(qbr) or iface_id


def _is_ovs_device(device: inventory.OwnedDevice) -> bool:
    link = device.link
    expected = HYBRID_KINDS.get(link.name[:3])
    if expected is not None:
        return link.kind == expected
    # A tap, or a workload's veth in a tap's place (an OVS port, a qbr's).
    return (
        link.kind == "tun" or inventory.is_workload_host_end(device)
    ) and not names.on_linux_bridge(device.master)


def find(
    keep: Sequence[vif_objects.VIFBase],
    table: linkstate.LinkTable,
    ports: list[ovs_inventory.VifPort],
) -> list[collecting.Leak]:
    """What the ovs plugin owns and no VIF of ``keep`` needs, per VIF."""
    kept_ids, kept_names = _kept(keep)
    owned = {d.name: d for d in inventory.owned_devices(table)}
    leaks: dict[str, collecting.Leak] = {}
    order: dict[
        str, list[tuple[int, host_state.Removal, operation.Operation]]
    ] = {}

    def add(
        group: str,
        kind: str,
        removal: host_state.Removal,
        step: operation.Operation,
    ) -> None:
        order.setdefault(group, []).append((_ORDER[kind], removal, step))

    going: set[str] = set()
    for port in ports:
        if port.iface_id in kept_ids or port.name in kept_names:
            kept_names.add(port.name)
            continue
        link = table.by_name.get(port.name)
        if link is not None and port.name not in owned:
            continue  # a representor or another's device: left alone
        group = _group(port.name, _id_group(port.iface_id))
        add(
            group,
            "ovs-port",
            host_state.Removal(
                what="port %s" % port.name,
                kind="ovs-port",
                owner=port.iface_id,
                reason="on bridge %s, iface-id %s: no VIF in keep has it"
                % (port.bridge, port.iface_id),
            ),
            ovs.RemoveOvsPort(
                name=port.name,
                iface_id=port.iface_id,
                mac=port.mac,
                remove_bridge_if_unused=bool(
                    port.bridge and naming.is_trunk_bridge(port.bridge)
                ),
            ),
        )
    for name, device in owned.items():
        if name in kept_names or not _is_ovs_device(device):
            continue
        kind = device.link.kind or ""
        if kind == "bridge":
            continue  # after the devices on it (below)
        prefix = inventory.legacy_vif_prefix(name)
        vif_id = prefix if device.rule != "marked" else None
        going.add(name)
        add(
            _group(name, name),
            kind,
            collecting.device_removal(
                name,
                kind,
                "%s (%s), named by no VIF in keep"
                % (kind, device.rule),
            ),
            kernel.DeleteDevice(name=name, kind=kind, vif_id=vif_id),
        )
    # Master index -> the names of its ports, for every bridge at once.
    on_master: dict[int, list[str]] = {}
    for link in table.by_name.values():
        if link.master_index:
            on_master.setdefault(link.master_index, []).append(link.name)
    for name, device in owned.items():
        if name in kept_names or device.link.kind != "bridge":
            continue
        if not _is_ovs_device(device):
            continue
        others = [
            port
            for port in on_master.get(device.link.index, ())
            if port not in going
        ]
        if others:
            continue  # something else is on it: not a leak
        prefix = inventory.legacy_vif_prefix(name)
        add(
            _group(name, name),
            "bridge",
            collecting.device_removal(
                name,
                "bridge",
                "hybrid bridge (%s), named by no VIF in keep, "
                "nothing else on it" % device.rule,
            ),
            kernel.RemoveBridgeIfUnused(
                name=name,
                vif_id=prefix if device.rule != "marked" else None,
            ),
        )
    for group, entries in order.items():
        leak = leaks.setdefault(group, collecting.Leak(label=group))
        for _, removal, step in sorted(entries, key=lambda e: e[0]):
            leak.add(removal, step)
    return list(leaks.values())


def collect(
    host: runner.HostRunner,
    ovsdb: ovsdb_client.OvsdbClient,
    keep: Sequence[vif_objects.VIFBase],
    dry_run: bool,
) -> host_state.PluginCollection:
    """Find (:func:`find`) and remove what leaked; see the module."""
    table = linkstate.LinkTable.read()
    api = ovsdb.api
    with api.ovsdb_connection.lock:
        ports = ovs_inventory.vif_ports(api)
    leaks = find(keep, table, ports)
    return collecting.remove(host, leaks, dry_run, ovsdb, table)
