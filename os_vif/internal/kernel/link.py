"""Any device's link attributes: the one comparison, SetLink, DeleteDevice.

:func:`differences` compares a device as netlink gives it
(:class:`~os_vif.internal.linkstate.Link`) with the attributes an
operation wants; every device family uses it, the caller's ``check``
(:func:`problems`, which turns the differences into Problems) and the
daemon's apply alike (which turns them into one netlink request).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel.base import (
    DEVICE_PARAMS,
    OWNER_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem

__all__ = [
    "Difference",
    "differences",
    "problems",
    "SetLink",
    "DeleteDevice",
]


@dataclasses.dataclass(frozen=True)
class Difference:
    """One attribute of a device that is not as wanted.

    ``master`` is compared by name: ``wanted`` None means "no master",
    ``found`` None that it has none (or that its master just vanished).
    """

    key: str
    wanted: Any
    found: Any


def differences(
    link: linkstate.Link,
    *,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = None,
    master: str | None = None,
    nomaster: bool = False,
    alias: str | None = None,
) -> list[Difference]:
    """What differs between ``link`` and the wanted attributes.

    A wanted None is "leave alone"; ``nomaster`` asks for no master.
    """
    found: list[Difference] = []
    if alias is not None and link.alias != alias:
        found.append(Difference("alias", alias, link.alias))
    if mtu is not None and link.mtu != mtu:
        found.append(Difference("mtu", mtu, link.mtu))
    if mac is not None and (link.mac or "").lower() != mac:
        found.append(Difference("mac", mac, link.mac))
    if up is not None and link.up != up:
        found.append(Difference("up", up, link.up))
    if master is not None or (nomaster and link.master_index):
        current = linkstate.master_name(link)
        # A master index whose device cannot be read any more is still
        # one to release.
        if current != master or (master is None and link.master_index):
            found.append(Difference("master", master, current))
    return found


def problems(
    name: str,
    link: linkstate.Link | None,
    kind: str | None,
    **wanted: Any,
) -> list[Problem]:
    """The check's view of :func:`differences`: existence, kind, the rest."""
    what = "device %s" % name
    if link is None:
        return [Problem(what, "exists", True, False)]
    found = []
    if kind is not None and link.kind != kind:
        found.append(Problem(what, "kind", kind, link.kind))
    return found + [
        Problem(what, diff.key, diff.wanted, diff.found)
        for diff in differences(link, **wanted)
    ]


@REGISTRY.register
class SetLink(KernelOperation):
    """Set the MTU, MAC, admin state or master of an existing device.

    ``role`` says how the device relates to the VIF (see
    :data:`.ownership.ROLES`): a device os_vif does not own may be changed
    only in what its role allows.  With ``optional`` a device that is not
    there is fine (the VIF's device a hypervisor makes later).
    """

    NAME = "set_link"
    PARAMS = params(
        DEVICE_PARAMS,
        nomaster=validation.boolean,
        role=validation.role(ownership.ROLES),
        optional=validation.boolean,
    )

    def wanted(self) -> dict[str, Any]:
        """The attributes :func:`differences` compares."""
        return {
            "mtu": self.get("mtu"),
            "mac": self.get("mac"),
            "up": self.get("up"),
            "master": self.get("master"),
            "nomaster": self.get("nomaster", False),
        }

    def admit(self, scope: ownership.Scope) -> None:
        """Refuse changes the device's role does not allow."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        role = self.get("role", "owned")
        if ownership.owner_rule(scope, link, self.get("vif_id")) is not None:
            return
        if role == "owned":
            ownership.require_owned(scope, link, "change", self.get("vif_id"))
        if role == "bridge":
            ownership.require_kind(link, "bridge", "set up a bridge")
        asked = {
            key
            for key in ("mtu", "mac", "up", "master", "nomaster")
            if self.get(key) not in (None, False)
        }
        allowed = ownership.ROLE_FIELDS[role]
        extra = sorted(asked - allowed)
        if extra:
            raise ownership.refuse(
                "set %s of" % ", ".join(extra),
                self.device,
                "os_vif does not own it, and as %s it may only have its %s "
                "set" % (role, ", ".join(sorted(allowed))),
            )

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the device with what is asked."""
        link = linkstate.read_link(self.device)
        if link is None and self.get("optional", False):
            return []
        return problems(self.device, link, None, **self.wanted())


@REGISTRY.register
class DeleteDevice(KernelOperation):
    """Delete ``name`` if os_vif owns it; absent is fine.

    With ``kind``, the device must be of that kind.  Not undone: plans
    delete last.
    """

    NAME = "delete_device"
    PARAMS = params(
        OWNER_PARAMS,
        name=validation.interface_name,
        kind=validation.role(("bridge", "tun", "veth", "vlan")),
    )

    def doomed(self, link: linkstate.Link | None) -> bool:
        """Whether ``link`` (the device, as read) is to be deleted.

        A device of another kind than asked is not: an undo (which the
        daemon runs without admission) must not delete what took the name
        meanwhile.
        """
        kind = self.get("kind")
        return link is not None and kind in (None, link.kind)

    def admit(self, scope: ownership.Scope) -> None:
        """The device, if there, must be os_vif's (and of ``kind``)."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        kind = self.get("kind")
        if kind is not None:
            ownership.require_kind(link, kind, "delete a %s" % kind)
        ownership.require_owned(scope, link, "delete", self.get("vif_id"))

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """The device should be absent.

        A device of another kind under the name is a problem too: sent,
        it is refused by :meth:`admit`, so that an unplug says so.
        """
        if linkstate.read_link(self.device) is None:
            return []
        return [Problem("device %s" % self.device, "exists", False, True)]
