"""SR-IOV VFs, set on their PF: SetVf, and the one comparison of settings."""

from __future__ import annotations

from typing import Any

from pyroute2 import IPRoute

from os_vif.internal import linkstate, validation
from os_vif.internal.kernel.base import REGISTRY, KernelOperation
from os_vif.internal.operation import Problem

__all__ = [
    "LINK_STATES",
    "SetVf",
    "vf_settings",
    "read_vf_settings",
    "differences",
    "as_arguments",
]


def _vf_index(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 65535, field)


def _optional_vlan(value: Any, field: str) -> int | None:
    return None if value is None else validation.vlan_id(value, field)


#: ``link_state`` names and their netlink numbers.
LINK_STATES = {"auto": 0, "enable": 1, "disable": 2}
_LINK_STATE_NAMES = {number: name for name, number in LINK_STATES.items()}
# IFLA_EXT_MASK flag asking the kernel to include the VF list.
_RTEXT_FILTER_VF = 1
# A driver that cannot report a VF setting reports all bits set.
_VF_UNKNOWN = 0xFFFFFFFF
_VF_ATTRS = (
    ("spoofchk", "IFLA_VF_SPOOFCHK"),
    ("trust", "IFLA_VF_TRUST"),
    ("link_state", "IFLA_VF_LINK_STATE"),
)


def vf_settings(ipr: IPRoute, index: int, vf: int) -> dict[str, Any] | None:
    """Return VF ``vf``'s settings on PF ``index`` as spec keys, or None."""
    link = ipr.link("get", index=index, ext_mask=_RTEXT_FILTER_VF)[0]
    vf_list = link.get_attr("IFLA_VFINFO_LIST")
    if vf_list is None:
        return None
    for info in vf_list.get_attrs("IFLA_VF_INFO"):
        mac = info.get_attr("IFLA_VF_MAC")
        if mac is None or mac.get("vf") != vf:
            continue
        settings: dict[str, Any] = {"mac": mac.get("mac")}
        vlan = info.get_attr("IFLA_VF_VLAN")
        if vlan is not None:
            settings["vlan"] = vlan.get("vlan")
        for key, attr in _VF_ATTRS:
            value = info.get_attr(attr)
            if value is not None and value.get(key) != _VF_UNKNOWN:
                settings[key] = value.get(key)
        return settings
    return None


def read_vf_settings(pf: str, vf: int) -> dict[str, Any] | None:
    """VF ``vf`` of PF ``pf``'s settings, unprivileged (None: unknown)."""
    link = linkstate.read_link(pf)
    if link is None:
        return None
    # A socket of its own: the check of an offloaded VIF is rare.
    with IPRoute() as ipr:
        return vf_settings(ipr, link.index, vf)


def differences(
    spec: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The settings of ``spec`` (``vf`` aside) that ``current`` lacks."""
    return {
        key: value
        for key, value in spec.items()
        if key != "vf" and current.get(key) != value
    }


def as_arguments(settings: dict[str, Any]) -> dict[str, Any]:
    """Netlink spec values as SetVf arguments (an undo's)."""
    found: dict[str, Any] = {}
    for key, value in settings.items():
        if key in ("spoofchk", "trust"):
            value = bool(value)
        elif key == "link_state":
            value = _LINK_STATE_NAMES.get(value)
        found[key] = value
    return found


@REGISTRY.register
class SetVf(KernelOperation):
    """Configure VF ``vf`` of the PF ``name`` (``ip link set PF vf N``).

    The VF is the VIF's own device, so no ownership applies.  The VF's
    current settings are read first: only those that differ are sent, and
    the undo sends the old values back.  A PF that reports no settings for
    the VF gets the whole request and no undo, so plans configure the VF
    last.
    """

    NAME = "set_vf"
    PARAMS = {
        "name": validation.interface_name,
        "vf": _vf_index,
        "mac": validation.optional_mac_address,
        "vlan": _optional_vlan,
        "spoofchk": validation.optional_boolean,
        "trust": validation.optional_boolean,
        "link_state": validation.role(tuple(LINK_STATES)),
    }
    REQUIRED = frozenset({"name", "vf"})

    def spec(self) -> dict[str, Any]:
        """The settings asked for, as netlink spec keys (with ``vf``)."""
        spec: dict[str, Any] = {"vf": self.get("vf")}
        for key in ("mac", "vlan"):
            if self.get(key) is not None:
                spec[key] = self.get(key)
        for key in ("spoofchk", "trust"):
            if self.get(key) is not None:
                spec[key] = int(self.get(key))
        if self.get("link_state") is not None:
            spec["link_state"] = LINK_STATES[self.get("link_state")]
        return spec

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Each VF setting that differs, read from the PF's VF list.

        Reading a link's VF list needs no privilege; a PF that reports
        none (some drivers, a device without SR-IOV) gets one problem,
        ``settings`` found ``None``: whether the VF is as asked is not
        known, and a plug sends the request (the daemon sends only what
        differs).
        """
        spec = self.spec()
        if len(spec) == 1:
            return []
        vf = spec.pop("vf")
        what = "vf %s/%s" % (self.device, vf)
        if linkstate.read_link(self.device) is None:
            return [Problem("device %s" % self.device, "exists", True, False)]
        current = read_vf_settings(self.device, vf)
        if current is None:
            return [Problem(what, "settings", spec, None)]
        return [
            Problem(what, key, value, current.get(key))
            for key, value in differences(spec, current).items()
        ]
