"""What os_vif owns in the kernel, read without privilege (for a GC).

The ownership rules of :mod:`os_vif.internal.ownership`, applied
to a whole link table at once: a device is os_vif's when it carries the
alias mark, or when its name is one os-vif 5.x derived from a VIF id
(``qbr``/``qvb``/``qvo``/``tap`` and 11 characters of the id) *and* it is
of the kind 5.x made under that prefix.  The daemon checks the same rules
again before it deletes anything.
"""

from __future__ import annotations

import dataclasses

from os_vif.internal import linkstate, names

__all__ = [
    "OwnedDevice",
    "owned_devices",
    "legacy_vif_prefix",
    "is_workload_host_end",
]

#: The VIF-id part of a name 5.x derived (``qvb1234...``), or None.
legacy_vif_prefix = names.legacy_vif_prefix


@dataclasses.dataclass(frozen=True)
class OwnedDevice:
    """A device os_vif owns, with the rule that says so."""

    link: linkstate.Link
    #: ``marked`` or ``made by os-vif 5.x``.
    rule: str
    #: The master device (the bridge it is on), if any.
    master: linkstate.Link | None

    @property
    def name(self) -> str:
        """The device's name."""
        return self.link.name


def owned_devices(table: linkstate.LinkTable) -> list[OwnedDevice]:
    """Every device of ``table`` os_vif owns, by the ownership rules."""
    owned = []
    for link in table.by_name.values():
        if link.alias == linkstate.OS_VIF_ALIAS:
            rule = "marked"
        elif link.kind and names.legacy_kind(link.name) == link.kind:
            rule = "made by os-vif 5.x"
        else:
            continue
        master = (
            table.by_index.get(link.master_index)
            if link.master_index
            else None
        )
        owned.append(OwnedDevice(link, rule, master))
    return owned


def is_workload_host_end(device: OwnedDevice) -> bool:
    """Whether ``device`` is the host end of a workload's veth.

    A veth os_vif marked that is not a hybrid plug's ``qvb``/``qvo``:
    its peer is a workload's interface, in the workload's namespace.  A
    GC treats it as it treats a tap (deleting it takes the workload's
    interface along); once the namespace is gone, the kernel deleted it
    already and only its port is left.
    """
    return (
        device.link.kind == "veth"
        and device.rule == "marked"
        and names.legacy_kind(device.name) != "veth"
    )
