"""SR-IOV / switchdev discovery on every fake sysfs layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from os_vif import exception
from os_vif.internal import validation
from os_vif.internal.unprivileged import sysfs
from tests import fake_sysfs


def _snapshot(root: str) -> dict[str, tuple[str, str]]:
    """Every path under ``root`` with its content or link target."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                seen[path] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                seen[path] = ("file", Path(path).read_text())
            else:
                seen[path] = ("dir", "")
    return seen


# -- PCI addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    "address, normalized",
    [
        ("0000:03:00.2", "0000:03:00.2"),
        ("0000:AF:1F.7", "0000:af:1f.7"),
        ("ffff:ff:00.0", "ffff:ff:00.0"),
    ],
)
def test_pci_address_accepted(address: str, normalized: str) -> None:
    assert validation.pci_address(address) == normalized


@pytest.mark.parametrize(
    "address",
    [
        "03:00.2",  # no domain
        "0000:03:20.0",  # slot > 0x1f
        "0000:03:00.8",  # function > 7
        "0000:03:00",
        "0000:03:00.2/../../..",
        "../0000:03:00.2",
        "",
        None,
        42,
    ],
)
def test_pci_address_rejected(address: object) -> None:
    with pytest.raises(exception.InvalidArgument) as caught:
        validation.pci_address(address, "vif.dev_address")
    assert caught.value.kwargs["field"] == "vif.dev_address"
    assert caught.value.kwargs["value"] == address


# -- port names --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, parsed",
    [
        ("pf0vf3", sysfs.PortName("vf", 0, 3)),
        ("pf1vf12", sysfs.PortName("vf", 1, 12)),
        ("vf5", sysfs.PortName("vf", None, 5)),
        ("7", sysfs.PortName("vf", None, 7)),
        ("p1", sysfs.PortName("uplink", 1)),
        ("pf0sf4", sysfs.PortName("other")),
        ("c1pf0vf0", sysfs.PortName("other")),
        ("p0s1", sysfs.PortName("other")),
        (None, None),
        ("", None),
    ],
)
def test_parse_port_name(name: str | None, parsed: object) -> None:
    assert sysfs.parse_port_name(name) == parsed


# -- dual-port ConnectX-5, switchdev, pfXvfY names ---------------------------


@pytest.fixture
def cx5(tmp_path: Path) -> fake_sysfs.Layout:
    return fake_sysfs.connectx5_switchdev(tmp_path, vfio_vfs=((1, 2),))


@pytest.mark.parametrize("pf_index", [0, 1])
@pytest.mark.parametrize("vf_index", range(4))
def test_cx5_every_vf(
    cx5: fake_sysfs.Layout, pf_index: int, vf_index: int
) -> None:
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    expected_pf = cx5.pfs[pf_index]
    expected = cx5.vf(pf_index, vf_index)
    vf, rep = discovery.find_vf_representor(expected.address.upper())
    assert vf == sysfs.VirtualFunction(
        address=expected.address,
        vf_index=vf_index,
        pf_address=expected_pf.address,
        pf_ifname=expected_pf.ifname,
        pf_number=pf_index,
        netdev=expected.netdev,
        driver=expected.driver,
    )
    assert rep == sysfs.Representor(
        expected.representor,
        "b8cef6ffff1a2b3c",
        "pf%dvf%d" % (pf_index, vf_index),
    )
    uplink = discovery.uplink_representor(vf)
    assert uplink.ifname == expected_pf.ifname
    assert uplink.port_name == "p%d" % pf_index


def test_cx5_vfio_vf_has_no_netdev_but_a_representor(
    cx5: fake_sysfs.Layout,
) -> None:
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    assert cx5.vf(1, 2).address == "0000:03:01.0"
    vf, rep = discovery.find_vf_representor("0000:03:01.0")
    assert (vf.netdev, vf.driver, vf.vf_index, vf.pf_ifname) == (
        None,
        "vfio-pci",
        2,
        "enp3s0f1np1",
    )
    assert rep.ifname == "enp3s0f1npf1vf2"


def test_cx5_pf_netdev_is_not_a_representor(cx5: fake_sysfs.Layout) -> None:
    # Representors hang under the PF device too; the PF netdev is "p0".
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    assert (
        len(
            os.listdir(
                os.path.join(cx5.root, "bus/pci/devices/0000:03:00.0/net")
            )
        )
        == 5
    )
    assert discovery.pf_netdev("0000:03:00.0") == "enp3s0f0np0"
    assert discovery.eswitch_mode("enp3s0f0np0") == sysfs.EswitchMode.SWITCHDEV


def test_cx5_missing_representor(cx5: fake_sysfs.Layout) -> None:
    rep = cx5.vf(0, 3).representor
    assert rep is not None
    os.unlink(os.path.join(cx5.root, "class", "net", rep))
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    before = _snapshot(cx5.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.find_vf_representor("0000:03:00.5")
    assert caught.value.kwargs["device"] == "0000:03:00.5"
    assert caught.value.kwargs["looked_for"] == "switchdev representor"
    assert "pf0vf3" in caught.value.kwargs["reason"]
    assert _snapshot(cx5.root) == before


def test_unknown_pci_address(cx5: fake_sysfs.Layout) -> None:
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.virtual_function("0000:04:00.2")
    assert caught.value.kwargs["device"] == "0000:04:00.2"
    assert caught.value.kwargs["looked_for"] == "PCI device"


def test_pf_is_not_a_vf(cx5: fake_sysfs.Layout) -> None:
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.virtual_function("0000:03:00.1")
    assert caught.value.kwargs["looked_for"] == "SR-IOV physical function"
    assert "physfn" in str(caught.value)


def test_bad_address_is_invalid_argument(cx5: fake_sysfs.Layout) -> None:
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    with pytest.raises(exception.InvalidArgument):
        discovery.virtual_function("0000:03:00.2/../../../etc")


def test_pf_without_netdev(cx5: fake_sysfs.Layout) -> None:
    # A PF handed to DPDK or vfio has no netdev to configure VFs through.
    net = os.path.join(cx5.root, "bus/pci/devices/0000:03:00.1/net")
    for name in os.listdir(net):
        if not name.startswith("enp3s0f1npf"):
            os.rename(os.path.join(net, name), os.path.join(cx5.root, name))
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.virtual_function("0000:03:00.6")
    assert caught.value.kwargs["device"] == "0000:03:00.1"
    assert caught.value.kwargs["looked_for"] == "physical function netdev"


def test_vf_not_listed_by_its_pf(cx5: fake_sysfs.Layout) -> None:
    os.unlink(os.path.join(cx5.root, "bus/pci/devices/0000:03:00.0/virtfn1"))
    discovery = sysfs.SwitchdevDiscovery(cx5.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.virtual_function("0000:03:00.3")
    assert caught.value.kwargs["looked_for"] == "VF index"


# -- older kernel: vfY and bare Y names, one switch id per PF ----------


@pytest.mark.parametrize("style", ["vf", "bare"])
@pytest.mark.parametrize("pf_index", [0, 1])
@pytest.mark.parametrize("vf_index", range(4))
def test_older_kernel_every_vf(
    tmp_path: Path, style: str, pf_index: int, vf_index: int
) -> None:
    layout = fake_sysfs.older_kernel(tmp_path, style=style)
    expected = layout.vf(pf_index, vf_index)
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    vf, rep = discovery.find_vf_representor(expected.address)
    assert (vf.pf_ifname, vf.vf_index, vf.netdev, vf.pf_number) == (
        layout.pfs[pf_index].ifname,
        vf_index,
        expected.netdev,
        pf_index,
    )
    assert rep.ifname == expected.representor
    assert rep.switch_id == layout.pfs[pf_index].switch_id
    # No "p<X>" uplink on these kernels: the PF netdev is the uplink.
    assert discovery.uplink_representor(vf) == sysfs.Representor(
        layout.pfs[pf_index].ifname, layout.pfs[pf_index].switch_id, None
    )


def test_old_names_with_shared_switch_id_are_ambiguous(tmp_path: Path) -> None:
    layout = fake_sysfs.older_kernel(tmp_path, style="vf")
    # Give PF1 and its representors PF0's switch id: vf0 is now ambiguous.
    shared = layout.pfs[0].switch_id
    assert shared is not None
    for name in ["ens1f1"] + [vf.representor for vf in layout.pfs[1].vfs]:
        assert name is not None
        Path(layout.root, "class/net", name, "phys_switch_id").write_text(
            shared
        )
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        discovery.find_vf_representor(layout.vf(0, 0).address)
    assert "eth0" in caught.value.kwargs["reason"]
    assert "eth4" in caught.value.kwargs["reason"]


# -- PF in legacy mode -------------------------------------------------------


@pytest.mark.parametrize("devlink_compat", [False, True])
def test_legacy_mode(tmp_path: Path, devlink_compat: bool) -> None:
    layout = fake_sysfs.legacy_mode(tmp_path, devlink_compat=devlink_compat)
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    vf = discovery.virtual_function("0000:03:00.3")
    assert (vf.pf_ifname, vf.vf_index, vf.netdev) == (
        "enp3s0f0np0",
        1,
        "enp3s0f0v1",
    )
    assert discovery.eswitch_mode("enp3s0f0np0") == sysfs.EswitchMode.LEGACY
    before = _snapshot(layout.root)
    for query in (discovery.vf_representor, discovery.uplink_representor):
        with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
            query(vf)
        assert caught.value.kwargs["device"] == "0000:03:00.3"
        assert caught.value.kwargs["looked_for"] == "switchdev representor"
        assert "not in switchdev mode" in caught.value.kwargs["reason"]
        assert "enp3s0f0np0" in caught.value.kwargs["reason"]
    assert _snapshot(layout.root) == before


def test_compat_mode_overrides_switch_id(tmp_path: Path) -> None:
    # The vendor attribute wins: a switch id alone does not make switchdev.
    layout = fake_sysfs.legacy_mode(tmp_path, devlink_compat=True)
    Path(layout.root, "class/net/enp3s0f0np0/phys_switch_id").write_text(
        "ab\n"
    )
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    assert discovery.eswitch_mode("enp3s0f0np0") == sysfs.EswitchMode.LEGACY


def test_default_root_is_sys() -> None:
    assert sysfs.SwitchdevDiscovery().root == "/sys"


def test_unreadable_attribute_reads_as_none(tmp_path: Path) -> None:
    # On a real host an unsupported attribute exists but read() fails with
    # EOPNOTSUPP; a directory in its place makes read() fail too.
    layout = fake_sysfs.legacy_mode(tmp_path)
    Path(layout.root, "class/net/enp3s0f0v0/phys_switch_id").mkdir()
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    assert discovery.switch_id("enp3s0f0v0") is None
    assert discovery.port_name("enp3s0f0v0") is None
