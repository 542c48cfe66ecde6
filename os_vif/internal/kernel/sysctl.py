"""Per-device sysctls: the allow-list, the one comparison, SetSysctl."""

from __future__ import annotations

import os
from typing import Any

from os_vif import exception
from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel.base import (
    OWNER_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem

__all__ = [
    "SYSCTLS",
    "differs",
    "problems",
    "ipv6_problems",
    "SetSysctl",
    "disable_ipv6",
]

#: Per-device sysctls a plan may set: (family, key) -> allowed values.
SYSCTLS: dict[tuple[str, str], tuple[int, ...]] = {
    ("ipv6", "disable_ipv6"): (0, 1),
    ("ipv4", "arp_ignore"): tuple(range(9)),
    ("ipv4", "arp_announce"): (0, 1, 2),
    ("ipv4", "arp_filter"): (0, 1),
}


def differs(family: str, wanted: int, found: int | None) -> bool:
    """Whether a sysctl read as ``found`` (None: absent) needs a write.

    An IPv6 sysctl of a kernel without IPv6 does not: there is nothing to
    turn off.
    """
    if found is None:
        return family != "ipv6" or os.path.isdir("/proc/sys/net/ipv6")
    return found != wanted


def problems(
    name: str, family: str, key: str, wanted: int, label: str | None = None
) -> list[Problem]:
    """The check's view of :func:`differs` for one device's sysctl.

    The problem's attribute is ``label``, by default ``<family>.<key>``.
    """
    found = linkstate.read_sysctl(name, family, key)
    if not differs(family, wanted, found):
        return []
    return [
        Problem(
            "device %s" % name, label or "%s.%s" % (family, key), wanted, found
        )
    ]


def ipv6_problems(name: str) -> list[Problem]:
    """A problem unless IPv6 is off on ``name`` (or not in the kernel)."""
    return problems(name, "ipv6", "disable_ipv6", 1, label="disable_ipv6")


def _sysctl_family(value: Any, field: str) -> str:
    return str(validation.one_of(value, ("ipv4", "ipv6"), field))


_SYSCTL_KEYS = tuple(sorted({key for _family, key in SYSCTLS}))


def _sysctl_key(value: Any, field: str) -> str:
    return str(validation.one_of(value, _SYSCTL_KEYS, field))


def _sysctl_value(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 8, field)


@REGISTRY.register
class SetSysctl(KernelOperation):
    """Set ``net.<family>.conf.<name>.<key>`` (see :data:`SYSCTLS`)."""

    NAME = "set_sysctl"
    PARAMS = params(
        OWNER_PARAMS,
        name=validation.interface_name,
        family=_sysctl_family,
        key=_sysctl_key,
        value=_sysctl_value,
        role=validation.role(("owned", "bridge")),
    )
    REQUIRED = frozenset({"name", "family", "key", "value"})

    def __init__(self, /, **arguments: Any) -> None:
        """Validate; the value must be allowed for that sysctl."""
        super().__init__(**arguments)
        allowed = SYSCTLS.get((self.get("family"), self.get("key")))
        if allowed is None or self.get("value") not in allowed:
            raise exception.InvalidArgument(
                field="set_sysctl.value",
                value=self.get("value"),
                reason="net.%s.conf.*.%s may not be set to that"
                % (self.get("family"), self.get("key")),
            )

    def admit(self, scope: ownership.Scope) -> None:
        """The device must be os_vif's, or a network's bridge."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        if self.get("role", "owned") == "bridge":
            ownership.require_kind(link, "bridge", "set up a bridge")
            return
        ownership.require_owned(scope, link, "change", self.get("vif_id"))

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the sysctl with what is asked."""
        return problems(
            self.device, self.get("family"), self.get("key"), self.get("value")
        )


def disable_ipv6(name: str, **owner: Any) -> SetSysctl:
    """Turn IPv6 off on ``name`` (``net.ipv6.conf.<name>.disable_ipv6``)."""
    return SetSysctl(
        name=name, family="ipv6", key="disable_ipv6", value=1, **owner
    )
