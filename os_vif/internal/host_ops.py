"""Host operations as plugins call them: plans run in a privsep daemon.

A plugin builds a plan from the step builders of this module and runs it
with the :class:`HostOperations` of its family, in one privileged call::

    from os_vif.internal import host_ops

    host_ops.LINUX_BRIDGE.run([
        host_ops.ensure_bridge("br-int0", mtu=1450, disable_ipv6=True),
        host_ops.ensure_tap("tap0", mtu=1450, master="br-int0"),
    ])

The plan is validated here first (a bad argument raises
:class:`os_vif.exception.InvalidArgument` naming ``<operation>.<argument>``
before anything is sent), then again by the daemon, which runs all the
steps and, if one fails, undoes the earlier ones before raising.

Families: :data:`LINUX_BRIDGE` (``[vif_plug_linux_bridge_privileged]``) and
:data:`OVS` (``[vif_plug_ovs_privileged]``, also used by the offload
plugin).  Both offer the same operations; only the daemon differs.

Steps (see :mod:`os_vif.internal.netdev` and
:mod:`os_vif.internal.firewall` for their semantics): :func:`ensure_bridge`,
:func:`ensure_tap`, :func:`ensure_veth`, :func:`ensure_macvlan`,
:func:`ensure_vlan`, :func:`set_link`, :func:`set_sysctl`,
:func:`disable_ipv6`, :func:`delete_device`,
:func:`remove_bridge_if_unused`, :func:`move_to_netns`, :func:`set_vf`,
:func:`allow_bridge_forwarding`, :func:`revoke_bridge_forwarding`.

Read-only lookups need no privilege and run in the caller's process:
:func:`get_device`, :func:`device_exists`, :func:`bridge_ports`,
:func:`read_sysctl`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from os_vif.internal import netdev, operations, privsep

__all__ = [
    "Step",
    "HostOperations",
    "LINUX_BRIDGE",
    "OVS",
    "ensure_bridge",
    "ensure_tap",
    "ensure_veth",
    "ensure_macvlan",
    "ensure_vlan",
    "set_link",
    "set_sysctl",
    "disable_ipv6",
    "delete_device",
    "remove_bridge_if_unused",
    "move_to_netns",
    "set_vf",
    "allow_bridge_forwarding",
    "revoke_bridge_forwarding",
    "get_device",
    "device_exists",
    "bridge_ports",
    "read_sysctl",
    "DeviceInfo",
    "validate",
]

DeviceInfo = netdev.DeviceInfo
get_device = netdev.get_device
device_exists = netdev.device_exists
bridge_ports = netdev.bridge_ports
read_sysctl = netdev.read_sysctl


class Step(NamedTuple):
    """One step of a plan: an operation name and its arguments."""

    operation: str
    arguments: dict[str, Any]


def _step(operation: str, **arguments: Any) -> Step:
    # None means "leave alone" everywhere: leave it out of the message.
    return Step(
        operation, {k: v for k, v in arguments.items() if v is not None}
    )


def ensure_bridge(
    name: str,
    *,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
    disable_ipv6: bool = False,
) -> Step:
    """Bridge ``name`` exists (STP off, forward delay 0 if created)."""
    return _step(
        "ensure_bridge",
        name=name,
        mtu=mtu,
        mac=mac,
        up=up,
        disable_ipv6=disable_ipv6,
    )


def ensure_tap(
    name: str,
    *,
    multiqueue: bool = False,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> Step:
    """Persistent tap ``name`` exists, optionally attached to ``master``."""
    return _step(
        "ensure_tap",
        name=name,
        multiqueue=multiqueue,
        mtu=mtu,
        mac=mac,
        up=up,
        master=master,
    )


def ensure_veth(
    name: str,
    peer: str,
    *,
    mtu: int | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> Step:
    """The veth pair ``name``/``peer`` exists, ``name`` on ``master``.

    Both ends get the MTU and state.
    """
    return _step(
        "ensure_veth", name=name, peer=peer, mtu=mtu, up=up, master=master
    )


def ensure_macvlan(
    name: str,
    link: str,
    *,
    mode: str = "bridge",
    macvtap: bool = False,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
) -> Step:
    """A macvlan (or macvtap) ``name`` exists on ``link``."""
    return _step(
        "ensure_macvlan",
        name=name,
        link=link,
        mode=mode,
        macvtap=macvtap,
        mtu=mtu,
        mac=mac,
        up=up,
    )


def ensure_vlan(
    name: str,
    link: str,
    vlan: int,
    *,
    mtu: int | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> Step:
    """The 802.1Q device ``name`` for ``vlan`` exists on ``link``."""
    return _step(
        "ensure_vlan",
        name=name,
        link=link,
        vlan=vlan,
        mtu=mtu,
        up=up,
        master=master,
    )


def set_link(
    name: str,
    *,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = None,
    master: str | None = None,
    nomaster: bool = False,
) -> Step:
    """Set MTU, MAC, admin state, master (or release it) of ``name``."""
    return _step(
        "set_link",
        name=name,
        mtu=mtu,
        mac=mac,
        up=up,
        master=master,
        nomaster=nomaster,
    )


def set_sysctl(name: str, family: str, key: str, value: int) -> Step:
    """Set ``net.<family>.conf.<name>.<key>`` (see netdev.SYSCTLS)."""
    return _step("set_sysctl", name=name, family=family, key=key, value=value)


def disable_ipv6(name: str) -> Step:
    """Turn IPv6 off on ``name`` (``net.ipv6.conf.<name>.disable_ipv6``)."""
    return set_sysctl(name, "ipv6", "disable_ipv6", 1)


def delete_device(name: str) -> Step:
    """Delete ``name``; absent is fine.  Not undone: put deletions last."""
    return _step("delete_device", name=name)


def remove_bridge_if_unused(name: str, uplinks: Sequence[str] = ()) -> Step:
    """Delete bridge ``name`` if os_vif made it and only uplinks remain."""
    return _step("remove_bridge_if_unused", name=name, uplinks=list(uplinks))


def move_to_netns(name: str, netns: str) -> Step:
    """Move ``name`` into ``netns`` (a name or /proc/<pid>/ns/net)."""
    return _step("move_to_netns", name=name, netns=netns)


def set_vf(
    name: str,
    vf: int,
    *,
    mac: str | None = None,
    vlan: int | None = None,
    spoofchk: bool | None = None,
    trust: bool | None = None,
    link_state: str | None = None,
) -> Step:
    """Configure VF ``vf`` of the PF ``name`` (link_state: auto/enable/
    disable)."""
    return _step(
        "set_vf",
        name=name,
        vf=vf,
        mac=mac,
        vlan=vlan,
        spoofchk=spoofchk,
        trust=trust,
        link_state=link_state,
    )


def allow_bridge_forwarding(
    name: str, *, peers: Sequence[str] = (), drop_action: str = "DROP"
) -> Step:
    """Let traffic in and out of bridge ``name`` past the host firewall.

    With ``peers``, only to and from those interfaces (and within the
    bridge); the rest gets ``drop_action`` (``DROP`` or ``REJECT``).
    """
    return _step(
        "allow_bridge_forwarding",
        name=name,
        peers=list(peers),
        drop_action=drop_action,
    )


def revoke_bridge_forwarding(name: str, *, if_absent: bool = False) -> Step:
    """Remove what :func:`allow_bridge_forwarding` added for ``name``.

    With ``if_absent``, only if the bridge does not exist (any more).
    """
    return _step("revoke_bridge_forwarding", name=name, if_absent=if_absent)


def _wire(plan: Sequence[Step]) -> list[list[Any]]:
    return [[step.operation, dict(step.arguments)] for step in plan]


def validate(plan: Sequence[Step]) -> None:
    """Check ``plan`` exactly as the daemon will, without running it.

    :raises InvalidArgument: naming ``<operation>.<argument>``.
    """
    operations.validate_plan(_wire(plan))


class HostOperations:
    """Runs plans in the privsep daemon of one plugin family."""

    def __init__(
        self, name: str, entrypoint: Callable[[Any], list[bool]]
    ) -> None:
        self.name = name
        self._entrypoint = entrypoint

    def __repr__(self) -> str:
        return "HostOperations(%s)" % self.name

    def run(self, plan: Sequence[Step]) -> list[bool]:
        """Validate ``plan``, run it in one privileged call.

        Return, per step, whether it changed the host.  On failure the
        daemon has undone the plan's changes; the exception is raised here.
        """
        wire = _wire(plan)
        operations.validate_plan(wire)
        if not wire:
            return []
        try:
            return list(self._entrypoint(wire))
        except privsep.RemoteError as err:
            raise privsep.rebuild(err) from None

    def run_step(self, step: Step) -> bool:
        """Run a plan of one step; return whether it changed the host."""
        return self.run([step])[0]


#: Host operations of the linux_bridge plugin's daemon.
LINUX_BRIDGE = HostOperations("linux_bridge", privsep.linux_bridge_execute)
#: Host operations of the ovs (and offload) plugins' daemon.
OVS = HostOperations("ovs", privsep.ovs_execute)
