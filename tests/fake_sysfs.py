"""Fake sysfs trees of SR-IOV NICs, for tests that have no such hardware.

The trees mimic what the kernel shows (checked against the kernel's sysfs
ABI documentation and the mlx5 switchdev documentation):

* PCI devices live under ``devices/pci0000:00/<bridge>/<address>/`` and are
  linked from ``bus/pci/devices/<address>``;
* a PF has ``sriov_totalvfs``, ``sriov_numvfs`` and ``virtfn<N>`` links
  (``../<vf address>``); a VF has ``physfn`` (``../<pf address>``);
* a device's ``driver`` links to ``bus/pci/drivers/<name>``;
* netdevs live under their parent device's ``net/<ifname>/`` (virtual
  ones under ``devices/virtual/net/``) and are linked from
  ``class/net/<ifname>``; a netdev has ``address``, ``ifindex``, ``mtu``
  and, when the driver supports them, ``phys_switch_id`` and
  ``phys_port_name``.  An attribute the driver does not implement reads as
  ``EOPNOTSUPP`` on a real host; here it is simply absent, which readers
  must treat the same way.

Layout builders return a :class:`Layout` so tests can check discovery
against what was built rather than against repeated literals.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

__all__ = [
    "FakeSysfs",
    "FakeVF",
    "FakePF",
    "Layout",
    "connectx5_switchdev",
    "older_kernel",
    "legacy_mode",
]

MELLANOX = "0x15b3"
CX5_PF = "0x1017"
CX5_VF = "0x1018"
BRIDGE = "0000:00:02.0"


@dataclasses.dataclass
class FakeVF:
    address: str
    index: int
    netdev: str | None
    representor: str | None
    driver: str | None


@dataclasses.dataclass
class FakePF:
    address: str
    ifname: str
    number: int
    switch_id: str | None
    vfs: list[FakeVF]


@dataclasses.dataclass
class Layout:
    root: str
    pfs: list[FakePF]

    def vf(self, pf: int, index: int) -> FakeVF:
        return self.pfs[pf].vfs[index]


class FakeSysfs:
    """Builds a sysfs-like tree under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._ifindex = 1
        for sub in ("bus/pci/devices", "class/net", "devices/virtual/net"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.add_driver("mlx5_core")
        self.add_driver("vfio-pci")

    # -- helpers -----------------------------------------------------------

    @staticmethod
    def _write(path: Path, value: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")

    @staticmethod
    def _link(path: Path, target: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.symlink_to(target)

    def device_dir(self, address: str) -> Path:
        return self.root / "devices" / "pci0000:00" / BRIDGE / address

    def add_driver(self, name: str) -> None:
        (self.root / "bus" / "pci" / "drivers" / name).mkdir(
            parents=True, exist_ok=True
        )

    # -- devices -----------------------------------------------------------

    def add_pci_device(
        self, address: str, device_id: str, driver: str | None
    ) -> Path:
        path = self.device_dir(address)
        path.mkdir(parents=True, exist_ok=True)
        self._write(path / "vendor", MELLANOX)
        self._write(path / "device", device_id)
        self._write(path / "class", "0x020000")
        if driver is not None:
            self.add_driver(driver)
            self._link(
                path / "driver", "../../../../bus/pci/drivers/" + driver
            )
        self._link(
            self.root / "bus" / "pci" / "devices" / address,
            "../../../devices/pci0000:00/%s/%s" % (BRIDGE, address),
        )
        return path

    def add_pf(self, address: str, total_vfs: int = 8) -> Path:
        path = self.add_pci_device(address, CX5_PF, "mlx5_core")
        self._write(path / "sriov_totalvfs", str(total_vfs))
        self._write(path / "sriov_numvfs", "0")
        return path

    def add_vf(
        self, pf_address: str, index: int, address: str, driver: str | None
    ) -> Path:
        pf_path = self.device_dir(pf_address)
        path = self.add_pci_device(address, CX5_VF, driver)
        self._link(path / "physfn", "../" + pf_address)
        self._link(pf_path / ("virtfn%d" % index), "../" + address)
        numvfs = sum(
            1 for p in pf_path.iterdir() if p.name.startswith("virtfn")
        )
        self._write(pf_path / "sriov_numvfs", str(numvfs))
        return path

    def add_netdev(
        self,
        ifname: str,
        parent: str | None,
        *,
        mac: str = "00:00:00:00:00:00",
        switch_id: str | None = None,
        port_name: str | None = None,
        devlink_mode: str | None = None,
    ) -> Path:
        """Add a netdev under PCI device ``parent`` (virtual if ``None``)."""
        if parent is None:
            path = self.root / "devices" / "virtual" / "net" / ifname
            class_target = "../../devices/virtual/net/" + ifname
        else:
            path = self.device_dir(parent) / "net" / ifname
            class_target = "../../devices/pci0000:00/%s/%s/net/%s" % (
                BRIDGE,
                parent,
                ifname,
            )
            self._link(path / "device", "../../../" + parent)
        path.mkdir(parents=True, exist_ok=True)
        # Every netdev links back to its class, as the kernel does.
        self._link(
            path / "subsystem",
            os.path.relpath(self.root / "class" / "net", path),
        )
        self._write(path / "address", mac)
        self._write(path / "ifindex", str(self._ifindex))
        self._ifindex += 1
        self._write(path / "mtu", "1500")
        if switch_id is not None:
            self._write(path / "phys_switch_id", switch_id)
        if port_name is not None:
            self._write(path / "phys_port_name", port_name)
        if devlink_mode is not None:
            self._write(path / "compat" / "devlink" / "mode", devlink_mode)
        self._link(self.root / "class" / "net" / ifname, class_target)
        return path


def _vf_address(pf_index: int, vf_index: int) -> str:
    # VF routing IDs follow the PFs: first VF offset 2, stride 1, so PF0's
    # VFs are 03:00.2-03:00.5 and PF1's 03:00.6-03:01.1.
    rid = 2 + pf_index * 4 + vf_index
    return "0000:03:%02x.%d" % (rid // 8, rid % 8)


def connectx5_switchdev(
    root: str | os.PathLike[str],
    vfs_per_pf: int = 4,
    vfio_vfs: tuple[tuple[int, int], ...] = (),
) -> Layout:
    """A dual-port ConnectX-5, both PFs in switchdev mode (kernel >= 5.x).

    Both ports share one switch id (the NIC's system image GUID), so the
    representors' ``pf<X>vf<Y>`` port names are what tells the PFs apart.
    Representors hang under the PF device, as mlx5 parents them, and are
    named as systemd's udev rules name them.  VFs listed in ``vfio_vfs``
    as ``(pf, vf)`` are bound to ``vfio-pci`` and have no netdev.
    """
    fake = FakeSysfs(root)
    switch_id = "b8cef6ffff1a2b3c"
    pfs = []
    for pf_index in range(2):
        pf_address = "0000:03:00.%d" % pf_index
        pf_ifname = "enp3s0f%dnp%d" % (pf_index, pf_index)
        fake.add_pf(pf_address)
        fake.add_netdev(
            pf_ifname,
            pf_address,
            mac="b8:ce:f6:1a:2b:%02x" % (0x3C + pf_index),
            switch_id=switch_id,
            port_name="p%d" % pf_index,
        )
        vfs = []
        for vf_index in range(vfs_per_pf):
            address = _vf_address(pf_index, vf_index)
            vfio = (pf_index, vf_index) in vfio_vfs
            fake.add_vf(
                pf_address,
                vf_index,
                address,
                "vfio-pci" if vfio else "mlx5_core",
            )
            netdev = None
            if not vfio:
                netdev = "enp3s0f%dv%d" % (pf_index, vf_index)
                fake.add_netdev(netdev, address)
            port_name = "pf%dvf%d" % (pf_index, vf_index)
            representor = "enp3s0f%dn%s" % (pf_index, port_name)
            fake.add_netdev(
                representor,
                pf_address,
                switch_id=switch_id,
                port_name=port_name,
            )
            vfs.append(
                FakeVF(
                    address,
                    vf_index,
                    netdev,
                    representor,
                    "vfio-pci" if vfio else "mlx5_core",
                )
            )
        pfs.append(FakePF(pf_address, pf_ifname, pf_index, switch_id, vfs))
    return Layout(str(root), pfs)


def older_kernel(
    root: str | os.PathLike[str], style: str = "vf", vfs_per_pf: int = 4
) -> Layout:
    """A dual-port NIC on an older kernel (4.x mlx5).

    Representors are plain virtual netdevs (``eth<N>``) with port names
    ``vf<Y>`` (``style="vf"``) or just ``<Y>`` (``style="bare"``); the PF
    netdevs have no port name, and each PF has its own switch id.
    """
    if style not in ("vf", "bare"):
        raise ValueError(style)
    fake = FakeSysfs(root)
    pfs = []
    eth = 0
    for pf_index in range(2):
        pf_address = "0000:03:00.%d" % pf_index
        pf_ifname = "ens1f%d" % pf_index
        switch_id = "248a07a1b2c%d" % pf_index
        fake.add_pf(pf_address)
        fake.add_netdev(pf_ifname, pf_address, switch_id=switch_id)
        vfs = []
        for vf_index in range(vfs_per_pf):
            address = _vf_address(pf_index, vf_index)
            fake.add_vf(pf_address, vf_index, address, "mlx5_core")
            netdev = "ens1f%dv%d" % (pf_index, vf_index)
            fake.add_netdev(netdev, address)
            representor = "eth%d" % eth
            eth += 1
            fake.add_netdev(
                representor,
                None,
                switch_id=switch_id,
                port_name=("vf%d" if style == "vf" else "%d") % vf_index,
            )
            vfs.append(
                FakeVF(address, vf_index, netdev, representor, "mlx5_core")
            )
        pfs.append(FakePF(pf_address, pf_ifname, pf_index, switch_id, vfs))
    return Layout(str(root), pfs)


def legacy_mode(
    root: str | os.PathLike[str],
    vfs_per_pf: int = 4,
    devlink_compat: bool = False,
) -> Layout:
    """One ConnectX-5 PF whose eswitch is in legacy mode: no representors.

    The PF reports no switch id (reading it gives ``EOPNOTSUPP`` on a real
    host).  With ``devlink_compat`` the vendor driver's
    ``compat/devlink/mode`` attribute says ``legacy`` as well.
    """
    fake = FakeSysfs(root)
    pf_address = "0000:03:00.0"
    pf_ifname = "enp3s0f0np0"
    fake.add_pf(pf_address)
    fake.add_netdev(
        pf_ifname,
        pf_address,
        port_name="p0",
        devlink_mode="legacy" if devlink_compat else None,
    )
    vfs = []
    for vf_index in range(vfs_per_pf):
        address = _vf_address(0, vf_index)
        fake.add_vf(pf_address, vf_index, address, "mlx5_core")
        netdev = "enp3s0f0v%d" % vf_index
        fake.add_netdev(netdev, address)
        vfs.append(FakeVF(address, vf_index, netdev, None, "mlx5_core"))
    return Layout(str(root), [FakePF(pf_address, pf_ifname, 0, None, vfs)])
