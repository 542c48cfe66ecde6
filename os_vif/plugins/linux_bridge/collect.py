"""The linux_bridge plugin's GC: taps and bridges of VIFs not in ``keep``.

What the linux_bridge plugin considers its own (see
``doc/source/operators/leaks.rst``):

* taps that are os_vif's by the ownership rules
  (:mod:`os_vif.internal.unprivileged.inventory`) and on a Linux bridge
  other than a hybrid ``qbr`` (those, and taps on no Linux bridge, are the
  ovs plugin's), and workloads' veths in a tap's place
  (:func:`~os_vif.internal.unprivileged.inventory.is_workload_host_end`);
* bridges os_vif made (marked), not ``qbr``, that no VIF of ``keep``
  names and that are empty once those taps are gone -- or hold only the
  VLAN devices os_vif made for them, which go with them, as with unplug.
  A bridge that still holds anything else (a host interface, a device of
  someone else) is left.  The bridge's forwarding rules go with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from os_vif import host_state
from os_vif.internal import kernel, linkstate, names, ownership
from os_vif.internal.unprivileged import inventory, runner
from os_vif.objects import vif as vif_objects
from os_vif.plugins import collecting, rules

__all__ = ["collect", "find"]


def _kept(keep: Sequence[vif_objects.VIFBase]) -> set[str]:
    kept: set[str] = set()
    for vif in keep:
        for name in (rules.vif_name(vif), rules.bridge_name(vif)):
            if name:
                kept.add(str(name))
    return kept


def find(
    keep: Sequence[vif_objects.VIFBase], table: linkstate.LinkTable
) -> list[collecting.Leak]:
    """What the linux_bridge plugin owns and ``keep`` does not need."""
    kept = _kept(keep)
    owned = inventory.owned_devices(table)
    leaks: list[collecting.Leak] = []
    going: set[str] = set()
    for device in owned:
        master = device.master
        # A tap, or a workload's veth in a tap's place.
        kind = "veth" if inventory.is_workload_host_end(device) else "tun"
        if (
            device.link.kind != kind
            or device.name in kept
            or master is None
            or not names.on_linux_bridge(master)
        ):
            continue
        going.add(device.name)
        leak = collecting.Leak(label=device.name)
        leak.add(
            collecting.device_removal(
                device.name,
                kind,
                "%s on bridge %s (%s), named by no VIF in keep"
                % ("tap" if kind == "tun" else "workload's veth",
                   master.name, device.rule),
            ),
            kernel.DeleteDevice(
                name=device.name,
                kind=kind,
                vif_id=inventory.legacy_vif_prefix(device.name)
                if device.rule != "marked"
                else None,
            ),
        )
        leaks.append(leak)
    for device in owned:
        link = device.link
        if (
            link.kind != "bridge"
            or device.rule != "marked"
            or device.name in kept
            or names.is_hybrid_bridge(device.name)
        ):
            continue
        on_it = [
            other
            for other in table.by_name.values()
            if other.master_index == link.index and other.name not in going
        ]
        if any(
            other.kind != "vlan" or other.alias != ownership.OS_VIF_ALIAS
            for other in on_it
        ):
            continue  # a host interface or someone's device: in use
        leak = collecting.Leak(label=device.name)
        leak.add(
            collecting.device_removal(
                device.name,
                "bridge",
                "bridge os_vif made, named by no VIF in keep, "
                "empty once its taps are gone",
            ),
            kernel.RemoveBridgeIfUnused(
                name=device.name, uplinks=[other.name for other in on_it]
            ),
            kernel.RevokeBridgeForwarding(name=device.name, if_absent=True),
        )
        for other in on_it:
            leak.removals.append(
                collecting.device_removal(
                    other.name,
                    "vlan",
                    "VLAN uplink os_vif made for bridge %s"
                    % device.name,
                )
            )
        leaks.append(leak)
    return leaks


def collect(
    host: runner.HostRunner,
    keep: Sequence[vif_objects.VIFBase],
    dry_run: bool,
) -> host_state.PluginCollection:
    """Find (:func:`find`) and remove what leaked; see the module."""
    table = linkstate.LinkTable.read()
    leaks = find(keep, table)
    # The taps (and veths) first: a bridge is empty only once they are
    # gone.
    taps = [leak for leak in leaks if leak.removals[0].kind != "bridge"]
    bridges = [leak for leak in leaks if leak.removals[0].kind == "bridge"]
    first = collecting.remove(host, taps, dry_run, links=table)
    second = collecting.remove(host, bridges, dry_run)
    return host_state.PluginCollection(
        removals=first.removals + second.removals
    )
