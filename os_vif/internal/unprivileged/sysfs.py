"""SR-IOV and switchdev discovery from sysfs.

Given the PCI address of a virtual function (VF), find what the host knows
about it: its physical function (PF) and that PF's netdev, the VF's index
on the PF, the VF's own netdev when it has one (not when it is bound to
``vfio-pci`` for passthrough), and -- when the PF's embedded switch is in
``switchdev`` mode -- the representor netdev that stands for the VF on the
host, and the PF's uplink representor.

Only reads are made, so discovery needs no privileges and never changes the
host.  The sysfs root is a parameter (default ``/sys``) so that tests and
operators can point it at another tree.

What is read, and why:

* ``bus/pci/devices/<vf>/physfn`` links a VF to its PF; the PF's
  ``virtfn<N>`` links give each VF its index ``N``.
* ``bus/pci/devices/<dev>/net/`` lists the netdevs whose parent is the
  device.  A PF in switchdev mode may list its VF representors there too
  (recent mlx5 kernels), so the PF netdev is the entry that is not a VF
  representor.
* ``class/net/<if>/phys_switch_id`` is the same on a PF and on every
  representor of its embedded switch; it is missing or unreadable
  (``EOPNOTSUPP``) when the PF is in legacy mode.
* ``class/net/<if>/phys_port_name`` says which port a representor stands
  for: ``pf<X>vf<Y>`` on current kernels, ``vf<Y>`` or just ``<Y>`` on
  older ones; ``p<X>`` on an uplink.  Since both PFs of a dual-port NIC can
  share one switch id, the PF number ``X`` is what tells their VFs apart.
* ``class/net/<if>/compat/devlink/mode`` (mlx5 with the vendor driver)
  states the eswitch mode outright when it exists.
"""

from __future__ import annotations

import dataclasses
import os
import re

from os_vif import exception
from os_vif.internal import validation

__all__ = [
    "DEFAULT_SYSFS_ROOT",
    "EswitchMode",
    "PortName",
    "Representor",
    "SwitchdevDiscovery",
    "VirtualFunction",
    "parse_port_name",
]

#: Where sysfs is mounted on a normal host.
DEFAULT_SYSFS_ROOT = "/sys"

_PF_VF = re.compile(r"^pf(\d+)vf(\d+)$")
_VF = re.compile(r"^vf(\d+)$")
_BARE = re.compile(r"^(\d+)$")
_UPLINK = re.compile(r"^p(\d+)$")
# Netdev names are at most 15 bytes and never contain "/" or whitespace;
# names read from sysfs are checked before being joined into paths.
_IFNAME = re.compile(r"^[^/\s]{1,15}$")


class EswitchMode:
    """Modes of a PF's embedded switch, as far as sysfs reveals them."""

    SWITCHDEV = "switchdev"
    LEGACY = "legacy"


@dataclasses.dataclass(frozen=True)
class PortName:
    """A parsed ``phys_port_name``.

    ``kind`` is ``"vf"`` for a VF representor, ``"uplink"`` for a PF's
    uplink port and ``"other"`` for anything else (subfunctions, split
    ports, controller-prefixed names).  ``pf_number`` is ``None`` when the
    name does not carry it (older kernels).
    """

    kind: str
    pf_number: int | None = None
    vf_index: int | None = None


def parse_port_name(name: str | None) -> PortName | None:
    """Parse a ``phys_port_name``; ``None`` when there is none."""
    if not name:
        return None
    match = _PF_VF.match(name)
    if match:
        return PortName("vf", int(match.group(1)), int(match.group(2)))
    match = _VF.match(name) or _BARE.match(name)
    if match:
        return PortName("vf", None, int(match.group(1)))
    match = _UPLINK.match(name)
    if match:
        return PortName("uplink", int(match.group(1)))
    return PortName("other")


@dataclasses.dataclass(frozen=True)
class VirtualFunction:
    """An SR-IOV virtual function and the physical function it belongs to.

    ``netdev`` is the VF's own network device, ``None`` when the VF has no
    netdev on the host (bound to ``vfio-pci`` for passthrough, or to a DPDK
    driver).  ``driver`` is the name of the bound driver, ``None`` when no
    driver is bound.  ``pf_number`` is the PF's port number on its NIC, the
    ``X`` of ``pf<X>vf<Y>`` representor names.
    """

    address: str
    vf_index: int
    pf_address: str
    pf_ifname: str
    pf_number: int
    netdev: str | None
    driver: str | None


@dataclasses.dataclass(frozen=True)
class Representor:
    """A switchdev representor netdev and what it represents."""

    ifname: str
    switch_id: str
    port_name: str | None


class SwitchdevDiscovery:
    """Read-only queries about SR-IOV devices under one sysfs root."""

    def __init__(self, root: str = DEFAULT_SYSFS_ROOT) -> None:
        """Query the sysfs tree mounted (or built) at ``root``."""
        self.root = root

    # -- low-level reads -------------------------------------------------

    def _pci_path(self, address: str, *parts: str) -> str:
        return os.path.join(
            self.root, "bus", "pci", "devices", address, *parts
        )

    def _net_path(self, ifname: str, *parts: str) -> str:
        return os.path.join(self.root, "class", "net", ifname, *parts)

    @staticmethod
    def _read(path: str) -> str | None:
        """Return the stripped content of a sysfs attribute, or ``None``.

        The kernel refuses to read attributes a driver does not implement
        (``EOPNOTSUPP``, ``EINVAL``), and some are simply absent; both mean
        "no value", and so does an empty attribute.
        """
        try:
            with open(path, encoding="utf-8", errors="replace") as attr:
                value = attr.read().strip()
        except OSError:
            return None
        return value or None

    @staticmethod
    def _link_target(path: str) -> str | None:
        """Return the base name a sysfs link points at, or ``None``."""
        try:
            return os.path.basename(os.readlink(path).rstrip("/"))
        except OSError:
            return None

    @staticmethod
    def _list(path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def _netdevs_of(self, address: str) -> list[str]:
        return [
            name
            for name in self._list(self._pci_path(address, "net"))
            if _IFNAME.match(name)
        ]

    def switch_id(self, ifname: str) -> str | None:
        """Return ``ifname``'s ``phys_switch_id``, ``None`` without one."""
        return self._read(self._net_path(ifname, "phys_switch_id"))

    def port_name(self, ifname: str) -> str | None:
        """Return ``ifname``'s ``phys_port_name``, ``None`` without one."""
        return self._read(self._net_path(ifname, "phys_port_name"))

    def all_netdevs(self) -> list[str]:
        """Return the names of every netdev under ``class/net``."""
        return [
            name
            for name in self._list(os.path.join(self.root, "class", "net"))
            if _IFNAME.match(name)
        ]

    # -- PCI devices -------------------------------------------------------

    def pci_device_exists(self, address: str) -> bool:
        """Say whether sysfs has a PCI device at ``address`` (normalised)."""
        return os.path.isdir(self._pci_path(address))

    def _require_device(self, address: str) -> None:
        if not self.pci_device_exists(address):
            raise exception.DeviceDiscoveryFailed(
                device=address,
                looked_for="PCI device",
                reason="%s does not exist" % self._pci_path(address),
            )

    def virtual_function(self, address: object) -> VirtualFunction:
        """Describe the VF at PCI ``address``.

        Raise :class:`os_vif.exception.InvalidArgument` when ``address`` is
        not a PCI address and :class:`os_vif.exception.DeviceDiscoveryFailed`
        when there is no such device, it is not a VF, or its PF has no
        netdev.
        """
        vf_address = validation.pci_address(address, "dev_address")
        self._require_device(vf_address)
        pf_address = self._link_target(self._pci_path(vf_address, "physfn"))
        if pf_address is None:
            raise exception.DeviceDiscoveryFailed(
                device=vf_address,
                looked_for="SR-IOV physical function",
                reason="the device has no physfn link, so it is not a "
                "virtual function",
            )
        pf_address = validation.pci_address(pf_address, "physfn")
        vf_index = self._vf_index(pf_address, vf_address)
        pf_ifname = self.pf_netdev(pf_address)
        vf_netdevs = self._netdevs_of(vf_address)
        return VirtualFunction(
            address=vf_address,
            vf_index=vf_index,
            pf_address=pf_address,
            pf_ifname=pf_ifname,
            pf_number=self._pf_number(pf_address, pf_ifname),
            netdev=vf_netdevs[0] if vf_netdevs else None,
            driver=self._link_target(self._pci_path(vf_address, "driver")),
        )

    def _vf_index(self, pf_address: str, vf_address: str) -> int:
        for entry in self._list(self._pci_path(pf_address)):
            if not entry.startswith("virtfn") or not entry[6:].isdigit():
                continue
            target = self._link_target(self._pci_path(pf_address, entry))
            if target is not None and target.lower() == vf_address:
                return int(entry[6:])
        raise exception.DeviceDiscoveryFailed(
            device=vf_address,
            looked_for="VF index",
            reason="no virtfn<N> link of the physical function %s points "
            "at it" % pf_address,
        )

    def pf_netdev(self, pf_address: str) -> str:
        """Return the netdev of the PF at ``pf_address``.

        On recent kernels the VF representors hang under the PF device as
        well; the PF's netdev is the one whose port name is an uplink
        (``p<X>``) or absent.
        """
        candidates = []
        for name in self._netdevs_of(pf_address):
            parsed = parse_port_name(self.port_name(name))
            if parsed is None or parsed.kind == "uplink":
                candidates.append((parsed is None, name))
        if not candidates:
            raise exception.DeviceDiscoveryFailed(
                device=pf_address,
                looked_for="physical function netdev",
                reason="%s lists no netdev that is not a representor (is "
                "the PF bound to its network driver?)"
                % self._pci_path(pf_address, "net"),
            )
        # An explicit uplink port name beats a missing one.
        return sorted(candidates)[0][1]

    def _pf_number(self, pf_address: str, pf_ifname: str) -> int:
        parsed = parse_port_name(self.port_name(pf_ifname))
        if parsed is not None and parsed.kind == "uplink":
            assert parsed.pf_number is not None
            return parsed.pf_number
        # Older kernels give the uplink no port name; the NIC's ports are
        # then its PCI functions, which is how mlx5 numbers them too.
        return int(pf_address.rsplit(".", 1)[1])

    # -- switchdev ---------------------------------------------------------

    def eswitch_mode(self, pf_ifname: str) -> str:
        """Return :attr:`EswitchMode.SWITCHDEV` or :attr:`EswitchMode.LEGACY`.

        The vendor's ``compat/devlink/mode`` attribute decides when it
        exists; otherwise a PF with a ``phys_switch_id`` is in switchdev
        mode.
        """
        stated = self._read(
            self._net_path(pf_ifname, "compat", "devlink", "mode")
        )
        if stated in (EswitchMode.SWITCHDEV, EswitchMode.LEGACY):
            return stated
        if self.switch_id(pf_ifname) is None:
            return EswitchMode.LEGACY
        return EswitchMode.SWITCHDEV

    def _require_switchdev(self, vf: VirtualFunction) -> str:
        switch_id = self.switch_id(vf.pf_ifname)
        mode = self.eswitch_mode(vf.pf_ifname)
        if switch_id is None or mode != EswitchMode.SWITCHDEV:
            raise exception.DeviceDiscoveryFailed(
                device=vf.address,
                looked_for="switchdev representor",
                reason="its physical function %s (%s) is not in switchdev "
                "mode (eswitch mode %s, phys_switch_id %s); see "
                "'devlink dev eswitch show pci/%s'"
                % (
                    vf.pf_ifname,
                    vf.pf_address,
                    mode,
                    "unset" if switch_id is None else switch_id,
                    vf.pf_address,
                ),
            )
        return switch_id

    def vf_representor(self, vf: VirtualFunction) -> Representor:
        """Return the representor netdev of ``vf``.

        Raise :class:`os_vif.exception.DeviceDiscoveryFailed` when the PF is
        not in switchdev mode or no (or more than one) netdev of the PF's
        switch represents the VF.
        """
        switch_id = self._require_switchdev(vf)
        found = []
        for name in self.all_netdevs():
            if name == vf.pf_ifname or self.switch_id(name) != switch_id:
                continue
            port_name = self.port_name(name)
            parsed = parse_port_name(port_name)
            if parsed is None or parsed.kind != "vf":
                continue
            if parsed.vf_index != vf.vf_index:
                continue
            if parsed.pf_number not in (None, vf.pf_number):
                continue
            found.append(Representor(name, switch_id, port_name))
        if len(found) == 1:
            return found[0]
        wanted = "pf%dvf%d, vf%d or %d" % (
            vf.pf_number,
            vf.vf_index,
            vf.vf_index,
            vf.vf_index,
        )
        if not found:
            reason = (
                "no netdev with phys_switch_id %s has phys_port_name %s "
                "(physical function %s, VF index %d)"
                % (switch_id, wanted, vf.pf_ifname, vf.vf_index)
            )
        else:
            reason = "several netdevs match (%s): cannot tell which one" % (
                ", ".join(rep.ifname for rep in found)
            )
        raise exception.DeviceDiscoveryFailed(
            device=vf.address,
            looked_for="switchdev representor",
            reason=reason,
        )

    def uplink_representor(self, vf: VirtualFunction) -> Representor:
        """Return the uplink representor of ``vf``'s physical function.

        That is the netdev of the PF's switch whose port name is
        ``p<X>``; on kernels that give the uplink no port name it is the
        PF netdev itself.
        """
        switch_id = self._require_switchdev(vf)
        wanted = "p%d" % vf.pf_number
        for name in self.all_netdevs():
            if self.switch_id(name) != switch_id:
                continue
            if self.port_name(name) == wanted:
                return Representor(name, switch_id, wanted)
        if self.port_name(vf.pf_ifname) is None:
            return Representor(vf.pf_ifname, switch_id, None)
        raise exception.DeviceDiscoveryFailed(
            device=vf.pf_address,
            looked_for="uplink representor",
            reason="no netdev with phys_switch_id %s has phys_port_name %s"
            % (switch_id, wanted),
        )

    def find_vf_representor(
        self, address: object
    ) -> tuple[VirtualFunction, Representor]:
        """Return the VF at PCI ``address`` and its representor."""
        vf = self.virtual_function(address)
        return vf, self.vf_representor(vf)
