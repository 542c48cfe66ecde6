"""os-vif 5.x's ``vif_plug_ovs.linux_net``, kept for third-party plugins.

Deprecated: every function emits a :class:`DeprecationWarning` naming what
to use instead.  A plugin should describe VIFs and let os_vif plug them
(:func:`os_vif.plug`), or make its own devices with its own privileges.

The functions keep 5.x's names, arguments and results, but run on os_vif's
own machinery:

* the ones that change the host build operations of
  :mod:`os_vif.internal.kernel` and run them through the ovs
  plugin's privsep daemon (the ``[vif_plug_ovs_privileged]`` section, as in
  5.x), so they are checked first (a bad name, MTU or MAC is an
  :class:`os_vif.exception.InvalidArgument` before anything changes),
  idempotent, and bound by os_vif's ownership rules
  (``doc/source/operators/ownership.rst``): a device is created, deleted or
  has its MTU or MAC changed only if os_vif made it (the devices these
  functions create are marked as os_vif's); any device named may be
  brought up or down and put on a bridge.  5.x did all of that to any
  device; a refusal here is an :class:`os_vif.exception.HostOperationRefused`
  naming the device;
* the SR-IOV lookups read sysfs through
  :class:`os_vif.internal.unprivileged.sysfs.SwitchdevDiscovery` and raise
  :class:`os_vif.exception.DeviceDiscoveryFailed` where 5.x raised its
  ``RepresentorNotFound`` or ``PciDeviceNotFoundById``.

See ``doc/source/plugins/authors.rst`` for what is not provided.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from os_vif import exception
from os_vif.internal import kernel, linkstate, validation
from os_vif.internal.operation import Operation
from os_vif.internal.unprivileged import (
    dpdk_representor,
    runner,
    sysfs,
)
from os_vif.internal.unprivileged.plan import Plan

__all__ = [
    "NIC_NAME_LEN",
    "create_tap",
    "create_veth_pair",
    "update_veth_pair",
    "delete_net_dev",
    "ensure_bridge",
    "delete_bridge",
    "add_bridge_port",
    "set_device_mtu",
    "set_interface_state",
    "get_function_by_ifname",
    "get_representor_port",
    "get_ifname_by_pci_address",
    "get_vf_num_by_pci_address",
    "get_pf_pci_from_vf",
    "get_dpdk_representor_port_name",
]

#: Longest device name 5.x derived from a VIF id.
NIC_NAME_LEN = 14

#: Where the SR-IOV lookups read sysfs (tests point it at a fake tree).
SYSFS_ROOT = sysfs.DEFAULT_SYSFS_ROOT

_PLUG = "describe the VIF and call os_vif.plug()/os_vif.unplug()"

_F = TypeVar("_F", bound=Callable[..., Any])


def _deprecated(instead: str) -> Callable[[_F], _F]:
    """Make a function warn, on each call, that it is deprecated."""

    def wrap(function: _F) -> _F:
        message = (
            "vif_plug_ovs.linux_net.%s is deprecated and will be removed: %s"
            % (function.__name__, instead)
        )

        @functools.wraps(function)
        def warned(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return function(*args, **kwargs)

        return warned  # type: ignore[return-value]

    return wrap


def _run(*steps: Operation) -> None:
    """Run ``steps`` as one plan of the ovs plugin's daemon.

    All or nothing: every step is admitted before any runs, and a failure
    takes back what the plan did.  Steps the host already satisfies send
    nothing to the daemon.
    """
    if steps:
        runner.OVS.run(Plan(label=steps[0].device).add(*steps))


def _mtu(mtu: Any) -> int | None:
    # 5.x left the MTU alone when it was not given, None or 0.
    return mtu or None


# -- devices -----------------------------------------------------------------


@_deprecated(_PLUG + " (VIFOpenVSwitch with create_tap)")
def create_tap(
    dev: str, mtu: int | None, mac: str, multiqueue: bool = False
) -> None:
    """Create tap ``dev`` (up, with ``mac``, ``mtu``, IPv6 off).

    IPv6 is turned off before the tap comes up, as 5.x does: the kernel
    would otherwise run duplicate address detection for the guest's own
    link-local address into the guest.  An existing tap os_vif made is
    brought in line; any other device of that name is refused.
    """
    _run(
        kernel.EnsureTap(
            name=dev,
            mtu=_mtu(mtu),
            mac=mac,
            multiqueue=bool(multiqueue),
            up=True,
            disable_ipv6=True,
        )
    )


@_deprecated(_PLUG + " (VIFBridge: the plugin makes its veth pair)")
def create_veth_pair(dev1_name: str, dev2_name: str, mtu: int | None) -> None:
    """Create the veth pair ``dev1_name``/``dev2_name``, both ends up.

    Both ends get ``mtu`` and are promiscuous.  An existing pair os_vif
    made is kept and brought in line (5.x deleted and made it again); a
    lone end os_vif made is deleted and the pair made again.
    """
    _run(
        kernel.EnsureVeth(
            name=dev1_name,
            peer=dev2_name,
            mtu=_mtu(mtu),
            up=True,
            promisc=True,
        )
    )


@_deprecated(_PLUG + " (a re-plug sets the MTU the network has now)")
def update_veth_pair(dev1_name: str, dev2_name: str, mtu: int | None) -> None:
    """Set the MTU of both ends of an os_vif veth pair (if ``mtu``)."""
    if not _mtu(mtu):
        return
    _run(
        *(
            kernel.SetLink(name=name, mtu=mtu)
            for name in (dev1_name, dev2_name)
        )
    )


@_deprecated(_PLUG)
def delete_net_dev(dev: str) -> None:
    """Delete ``dev`` if it exists (only a device os_vif owns)."""
    _run(kernel.DeleteDevice(name=dev))


@_deprecated(_PLUG + " (VIFBridge: the plugin makes the qbr bridge)")
def ensure_bridge(bridge: str) -> None:
    """Make Linux bridge ``bridge`` if missing, and set it up as 5.x did.

    A new bridge forgets no MAC (ageing 0), has STP off and forward delay
    0; any bridge of that name gets IPv6 off, ``arp_ignore`` 1 and
    ``arp_announce`` 2 and is brought up.  An existing bridge os_vif did
    not make is used as it is otherwise (never deleted by os_vif).
    """
    _run(
        kernel.EnsureBridge(
            name=bridge,
            up=True,
            disable_ipv6=True,
            ageing=0,
            role="bridge",
        ),
        kernel.SetSysctl(
            name=bridge,
            family="ipv4",
            key="arp_ignore",
            value=1,
            role="bridge",
        ),
        kernel.SetSysctl(
            name=bridge,
            family="ipv4",
            key="arp_announce",
            value=2,
            role="bridge",
        ),
    )


@_deprecated(_PLUG + " (an unplug removes the VIF's bridge)")
def delete_bridge(bridge: str, dev: str | None) -> None:
    """Delete bridge ``bridge`` (os_vif's) and set ``dev`` down.

    Deleting a bridge releases its ports; ``dev``, one of them, is then set
    down when it exists.
    """
    steps: list[Operation] = [kernel.DeleteDevice(name=bridge, kind="bridge")]
    if dev and linkstate.device_exists(dev):
        steps.append(kernel.SetLink(name=dev, up=False, role="uplink"))
    _run(*steps)


@_deprecated(_PLUG)
def add_bridge_port(bridge: str, dev: str) -> None:
    """Put ``dev`` on Linux bridge ``bridge``."""
    _run(kernel.SetLink(name=dev, master=bridge, role="uplink"))


@_deprecated(_PLUG + " (the plugins set the network's MTU)")
def set_device_mtu(dev: str, mtu: int) -> None:
    """Set the MTU of ``dev``, an os_vif device, if it exists."""
    mtu = validation.mtu(mtu, "mtu")
    if linkstate.device_exists(dev):
        _run(kernel.SetLink(name=dev, mtu=mtu))


@_deprecated(_PLUG)
def set_interface_state(interface_name: str, port_state: str) -> None:
    """Bring ``interface_name`` ``"up"`` or ``"down"``, if it exists."""
    if port_state not in ("up", "down"):
        raise exception.InvalidArgument(
            field="port_state", value=port_state, reason="must be up or down"
        )
    if linkstate.device_exists(interface_name):
        _run(
            kernel.SetLink(
                name=interface_name, up=port_state == "up", role="uplink"
            )
        )


# -- SR-IOV lookups ----------------------------------------------------------

_DISCOVERY = "describe the VIF (VIFHostDevice, VIFVHostUser with a " + (
    "representor profile) and let the ovs plugin find its devices"
)


def _discovery() -> sysfs.SwitchdevDiscovery:
    return sysfs.SwitchdevDiscovery(SYSFS_ROOT)


@_deprecated(_DISCOVERY)
def get_function_by_ifname(ifname: str) -> tuple[str | None, bool]:
    """Return the PCI address of ``ifname``'s device and whether it is a
    physical function (one that can have VFs); ``(None, False)`` for a
    device that is not on PCI."""
    path = os.path.join(SYSFS_ROOT, "class", "net", ifname, "device")
    try:
        address = os.path.basename(os.readlink(path))
    except OSError:
        return None, False
    try:
        with open(os.path.join(path, "sriov_totalvfs")) as totalvfs:
            return address, int(totalvfs.read().strip() or 0) > 0
    except (OSError, ValueError):
        return address, False


@_deprecated(_DISCOVERY)
def get_representor_port(pf_ifname: str, vf_num: str | int) -> str:
    """Return the representor netdev of VF ``vf_num`` of ``pf_ifname``."""
    link = os.path.join(
        SYSFS_ROOT, "class", "net", pf_ifname, "device", "virtfn%s" % vf_num
    )
    try:
        vf_address = os.path.basename(os.readlink(link))
    except OSError as err:
        raise exception.DeviceDiscoveryFailed(
            device=pf_ifname,
            looked_for="switchdev representor",
            reason="it has no VF %s (%s)" % (vf_num, err.strerror),
        ) from None
    discovery = _discovery()
    return discovery.vf_representor(
        discovery.virtual_function(vf_address)
    ).ifname


@_deprecated(_DISCOVERY)
def get_ifname_by_pci_address(
    pci_addr: str, pf_interface: bool = False, switchdev: bool = False
) -> str:
    """Return the netdev of the VF at ``pci_addr``, or of its PF.

    With ``pf_interface`` the PF's netdev; with ``switchdev`` too, the
    uplink representor of the PF's switch (the PF netdev on kernels that
    give it no port name).
    """
    discovery = _discovery()
    vf = discovery.virtual_function(pci_addr)
    if pf_interface:
        if switchdev:
            return discovery.uplink_representor(vf).ifname
        return vf.pf_ifname
    if vf.netdev is None or switchdev:
        raise exception.DeviceDiscoveryFailed(
            device=vf.address,
            looked_for="network device",
            reason="the VF has no netdev"
            if vf.netdev is None
            else "a VF's own netdev is no switchdev port",
        )
    return vf.netdev


@_deprecated(_DISCOVERY)
def get_vf_num_by_pci_address(pci_addr: str) -> str:
    """Return the index of the VF at ``pci_addr`` on its PF (a string)."""
    return str(_discovery().virtual_function(pci_addr).vf_index)


@_deprecated(_DISCOVERY)
def get_pf_pci_from_vf(vf_pci: str) -> str:
    """Return the PCI address of the PF of the VF at ``vf_pci``."""
    return _discovery().virtual_function(vf_pci).pf_address


@_deprecated(_DISCOVERY)
def get_dpdk_representor_port_name(port_id: str) -> str:
    """Return the OVS port name of the DPDK representor of VIF ``port_id``."""
    return dpdk_representor.port_name(port_id)
