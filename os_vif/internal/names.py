"""The device names os-vif 5.x derives from a VIF id, in one place.

5.x names a VIF's kernel devices and OVS ports with a short prefix and the
VIF's id, cut to 14 characters (one short of the kernel's limit on an
interface name).  nova, neutron's agents and operators' tools find the
devices by these names, and os_vif 6 owns the ones 5.x made (see
:mod:`os_vif.internal.ownership`), so every module that makes,
recognises or groups such a name uses the rules here: forward
(:func:`port_name`, :func:`hybrid_names`, :func:`legacy_names`), inverse
(:func:`legacy_vif_prefix`) and prefix -> kind (:data:`LEGACY_KINDS`).

This module imports nothing of os_vif: the daemon and the caller's side
both read it.
"""

from __future__ import annotations

from typing import Protocol

__all__ = [
    "NAME_LENGTH",
    "HYBRID_BRIDGE_PREFIX",
    "LEGACY_KINDS",
    "port_name",
    "hybrid_names",
    "legacy_names",
    "legacy_kind",
    "legacy_vif_prefix",
    "is_hybrid_bridge",
    "on_linux_bridge",
]

#: Length of the names derived from a VIF id.
NAME_LENGTH = 14
#: Prefix of the Linux bridge of the ovs plugin's hybrid plug.
HYBRID_BRIDGE_PREFIX = "qbr"
#: Prefixes os-vif 5.x put before a VIF id for a kernel device, and the
#: kind of device it made under each.
LEGACY_KINDS = {
    HYBRID_BRIDGE_PREFIX: "bridge",
    "qvb": "veth",
    "qvo": "veth",
    "tap": "tun",
}
# Every prefix above is three letters long.
_PREFIX_LENGTH = 3


def port_name(prefix: str, vif_id: str, max_length: int = NAME_LENGTH) -> str:
    """Return ``prefix`` + ``vif_id``, cut to a device name's length."""
    return (prefix + vif_id)[:max_length]


def hybrid_names(vif_id: str) -> tuple[str, str, str]:
    """Return the ``qbr`` bridge and ``qvb``/``qvo`` veth ends of a VIF."""
    return (
        port_name(HYBRID_BRIDGE_PREFIX, vif_id),
        port_name("qvb", vif_id),
        port_name("qvo", vif_id),
    )


def legacy_names(vif_id: str | None) -> dict[str, str]:
    """Return {name: kind} of the devices os-vif 5.x made for ``vif_id``."""
    if not vif_id:
        return {}
    return {
        port_name(prefix, vif_id): kind
        for prefix, kind in LEGACY_KINDS.items()
    }


def legacy_vif_prefix(name: str) -> str | None:
    """The VIF-id part of a name 5.x derived (``qvb1234...``), or None."""
    if len(name) == NAME_LENGTH and name[:_PREFIX_LENGTH] in LEGACY_KINDS:
        return name[_PREFIX_LENGTH:]
    return None


def legacy_kind(name: str) -> str | None:
    """The kind of device 5.x made under ``name``, if it is a 5.x name."""
    if legacy_vif_prefix(name) is None:
        return None
    return LEGACY_KINDS[name[:_PREFIX_LENGTH]]


def is_hybrid_bridge(name: str) -> bool:
    """Say whether ``name`` is a hybrid plug's ``qbr`` bridge."""
    return name.startswith(HYBRID_BRIDGE_PREFIX)


class _Device(Protocol):
    """What :func:`on_linux_bridge` reads of a device."""

    @property
    def name(self) -> str: ...  # noqa: D102 - the protocol's own field

    @property
    def kind(self) -> str | None: ...  # noqa: D102 - the protocol's own field


def on_linux_bridge(master: _Device | None) -> bool:
    """Say whether a tap whose master is ``master`` is linux_bridge's.

    A tap on a Linux bridge other than a hybrid ``qbr`` belongs to the
    linux_bridge plugin; any other tap (on no master, on OVS, on a ``qbr``)
    to the ovs plugin.  Both plugins ask this, so they never both claim,
    nor both miss, a tap.
    """
    return (
        master is not None
        and master.kind == "bridge"
        and not is_hybrid_bridge(master.name)
    )
