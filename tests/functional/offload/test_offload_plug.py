"""The offload plugin on stand-in representors: plug, re-plug, unplug, fail.

Everything but the VF netlink calls is real: the privsep daemon, the
veths standing in for representors, the Linux bridge and Open vSwitch.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.internal import linkstate as netdev
from os_vif.sandbox import vifs
from tests import fake_sysfs
from tests.functional.offload.conftest import FRESH_VF, OffloadHost

pytestmark = pytest.mark.functional

INSTANCE = vifs.INSTANCE
#: The MAC the set_vf operation tests give a VF.
MAC = "fa:16:3e:11:22:33"
IFF_PROMISC = 0x100


def _wait_released_by_vswitchd(name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with IPRoute() as ipr:
        while True:
            flags = ipr.link("get", ifname=name)[0]["flags"]
            if not flags & IFF_PROMISC:
                return
            assert time.monotonic() < deadline, "%s still promiscuous" % name
            time.sleep(0.05)


def _device(name: str) -> netdev.DeviceInfo:
    device = netdev.get_device(name)
    assert device is not None, name
    return device


# -- Linux bridge ------------------------------------------------------------


def test_plug_replug_unplug_linux_bridge(cx5_host: OffloadHost) -> None:
    # A NIC that takes VF VLANs in switchdev mode: tag in the VF too.
    cx5_host.conf.config(vf_vlan="always", group="os_vif_offload")
    vf = cx5_host.layout.vf(0, 1)
    assert vf.representor is not None
    vif = vifs.offload_vif(vf.address, vlan=100)
    mac = vif.address
    before = cx5_host.snapshot()

    cx5_host.plugin.plug(vif, INSTANCE)

    rep = _device(vf.representor)
    assert (rep.up, rep.mtu, rep.master) == (True, 1400, "brq-offload")
    assert _device("brq-offload").made_by_os_vif
    assert cx5_host.vf_calls() == [
        {
            "pf": "enp3s0f0np0",
            "index": cx5_host.pf_index(0),
            "vf": {"vf": 1, "mac": mac, "vlan": 100, "spoofchk": 1},
        }
    ]
    assert cx5_host.vf_state(0, 1) == dict(
        FRESH_VF, mac=mac, vlan=100, spoofchk=1
    )
    # Nothing else on the NIC moved.
    assert cx5_host.vf_state(0, 0) == FRESH_VF

    # Re-plug (nova-compute restart): nothing is sent again.
    cx5_host.plugin.plug(vif, INSTANCE)
    assert len(cx5_host.vf_calls()) == 1

    cx5_host.plugin.unplug(vif, INSTANCE)
    rep = _device(vf.representor)
    assert (rep.up, rep.master) == (False, None)
    assert netdev.get_device("brq-offload") is None
    assert cx5_host.vf_calls()[1] == {
        "pf": "enp3s0f0np0",
        "index": cx5_host.pf_index(0),
        "vf": {"vf": 1, "mac": "00:00:00:00:00:00", "vlan": 0},
    }
    # Unplugging again is not an error and sends nothing.
    cx5_host.plugin.unplug(vif, INSTANCE)
    assert len(cx5_host.vf_calls()) == 2
    after = cx5_host.snapshot()
    # Only the representor's MTU stays as the network set it, and the VF
    # keeps the spoof checking the plug turned on.
    before["links"][vf.representor] = (1400,) + before["links"][
        vf.representor
    ][1:]
    before["vfs"]["enp3s0f0np0"]["vfs"][1]["spoofchk"] = 1
    assert after == before


def test_operators_bridge_is_kept(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(1, 0)
    with IPRoute() as ipr:
        ipr.link("add", ifname="brq-offload", kind="bridge")
    vif = vifs.offload_vif(vf.address, vlan=100)
    cx5_host.plugin.plug(vif, INSTANCE)
    assert _device(vf.representor or "").master == "brq-offload"
    assert not _device("brq-offload").made_by_os_vif
    cx5_host.plugin.unplug(vif, INSTANCE)
    # Not os_vif's bridge: it stays, without the representor.
    assert netdev.bridge_ports("brq-offload") == []


def test_a_bridge_with_another_port_is_kept_as_it_was(
    cx5_host: OffloadHost,
) -> None:
    vf = cx5_host.layout.vf(1, 1)
    with IPRoute() as ipr:
        ipr.link("add", ifname="brq-offload", kind="bridge")
        ipr.link("add", ifname="hostport0", kind="veth", peer="hostport1")
        bridge = ipr.link_lookup(ifname="brq-offload")[0]
        ipr.link("set", index=bridge, state="up")
        ipr.link(
            "set", index=ipr.link_lookup(ifname="hostport0")[0], master=bridge
        )
    before = _device("brq-offload")
    vif = vifs.offload_vif(vf.address, vlan=100)
    cx5_host.plugin.plug(vif, INSTANCE)
    assert netdev.bridge_ports("brq-offload") == sorted(
        ["hostport0", vf.representor or ""]
    )
    cx5_host.plugin.unplug(vif, INSTANCE)
    assert netdev.bridge_ports("brq-offload") == ["hostport0"]
    assert _device("brq-offload") == before


def test_vfio_vf_without_netdev(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(1, 3)
    assert vf.netdev is None and vf.representor is not None
    vif = vifs.offload_vif(vf.address, bridge="brq-vfio")
    cx5_host.plugin.plug(vif, INSTANCE)
    assert _device(vf.representor).master == "brq-vfio"
    assert cx5_host.vf_calls()[-1]["vf"] == {
        "vf": 3,
        "mac": vif.address,
        "spoofchk": 1,
    }
    cx5_host.plugin.unplug(vif, INSTANCE)
    assert _device(vf.representor).master is None


def test_vif_direct_on_a_vf(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(0, 2)
    vif = vifs.offload_direct_vif(vf.address)
    cx5_host.plugin.plug(vif, INSTANCE)
    assert _device(vf.representor or "").master == "brq-offload"
    assert cx5_host.vf_calls()[-1]["vf"] == {
        "vf": 2,
        "mac": vif.address,
        "spoofchk": 1,
    }
    cx5_host.plugin.unplug(vif, INSTANCE)


# -- failures: named exception, host as it was --------------------------------


def test_vf_refused_rolls_everything_back(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(0, 3)
    cx5_host.fail_vf_attribute(0, "spoofchk", errno.EOPNOTSUPP)
    before = cx5_host.snapshot()
    with pytest.raises(exception.HostOperationFailed) as caught:
        cx5_host.plugin.plug(vifs.offload_vif(vf.address, vlan=100), INSTANCE)
    # Raised in the daemon: the message names the step and the PF.
    assert "set vf on enp3s0f0np0" in str(caught.value)
    assert cx5_host.snapshot() == before


def test_missing_representor_changes_nothing(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(0, 0)
    assert vf.representor is not None
    os.unlink(Path(cx5_host.layout.root, "class", "net", vf.representor))
    before = cx5_host.snapshot()
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        cx5_host.plugin.plug(vifs.offload_vif(vf.address, vlan=100), INSTANCE)
    assert caught.value.kwargs["device"] == vf.address
    assert caught.value.kwargs["looked_for"] == "switchdev representor"
    assert cx5_host.snapshot() == before
    assert cx5_host.vf_calls() == []


def test_unknown_pci_address(cx5_host: OffloadHost) -> None:
    before = cx5_host.snapshot()
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        cx5_host.plugin.plug(
            vifs.offload_vif("0000:81:00.2", vlan=100), INSTANCE
        )
    assert caught.value.kwargs["device"] == "0000:81:00.2"
    assert cx5_host.snapshot() == before
    # Unplugging a VF that is gone is not an error.
    cx5_host.plugin.unplug(
        vifs.offload_vif("0000:81:00.2", vlan=100), INSTANCE
    )
    assert cx5_host.snapshot() == before


def test_gone_vf_with_ovs_unreachable(
    cx5_host: OffloadHost, caplog: pytest.LogCaptureFixture
) -> None:
    # The VF left sysfs and its port cannot be looked for: OVSDB is not
    # there.  The unplug still succeeds, and says what it could not do.
    cx5_host.conf.config(
        ovsdb_connection="tcp:127.0.0.1:1", ovsdb_timeout=2,
        group="os_vif_offload",
    )
    vif = vifs.offload_vif(
        "0000:81:00.2", profile="ovs_representor", vlan=100
    )
    before = cx5_host.snapshot()
    cx5_host.plugin.unplug(vif, INSTANCE)
    assert cx5_host.snapshot() == before
    assert "could not look for its OVS port" in caplog.text
    assert vif.port_profile.interface_id in caplog.text


def test_bad_mtu_before_any_host_operation(cx5_host: OffloadHost) -> None:
    vf = cx5_host.layout.vf(0, 0)
    before = cx5_host.snapshot()
    vif = vifs.offload_vif(vf.address, mtu=9)
    with pytest.raises(exception.InvalidArgument) as caught:
        cx5_host.plugin.plug(vif, INSTANCE)
    assert caught.value.kwargs["field"] == "vif.network.mtu"
    assert cx5_host.snapshot() == before


# -- legacy mode -------------------------------------------------------------


def test_legacy_mode_configures_the_vf_only(legacy_host: OffloadHost) -> None:
    vf = legacy_host.layout.vf(0, 2)
    vif = vifs.offload_vif(vf.address, profile=None, bridge=None, vlan=42)
    legacy_host.plugin.plug(vif, INSTANCE)
    assert legacy_host.vf_calls() == [
        {
            "pf": "enp3s0f0np0",
            "index": legacy_host.pf_index(0),
            "vf": {"vf": 2, "mac": vif.address, "vlan": 42, "spoofchk": 1},
        }
    ]
    legacy_host.plugin.unplug(vif, INSTANCE)
    assert legacy_host.vf_state(0, 2) == dict(FRESH_VF, spoofchk=1)


def test_legacy_mode_with_offload_profile_fails(
    legacy_host: OffloadHost,
) -> None:
    vf = legacy_host.layout.vf(0, 1)
    before = legacy_host.snapshot()
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        legacy_host.plugin.plug(
            vifs.offload_vif(vf.address, vlan=100), INSTANCE
        )
    assert "not in switchdev mode" in caught.value.kwargs["reason"]
    assert legacy_host.snapshot() == before


# -- Open vSwitch ------------------------------------------------------------


@pytest.mark.ovs
def test_plug_unplug_ovs(cx5_ovs_host: tuple[OffloadHost, Any]) -> None:
    host, ovs = cx5_ovs_host
    vf = host.layout.vf(1, 2)
    assert vf.representor is not None
    # The profile's representor_name is not the representor's: the port
    # is named by what discovery found.
    vif = vifs.offload_vif(
        vf.address,
        profile="ovs_representor",
        bridge="br-offload",
        representor_name="tap7e0d1c2b-3a",
    )
    host.plugin.plug(vif, INSTANCE)
    assert ovs.vsctl("port-to-br", vf.representor).strip() == "br-offload"
    ids = ovs.vsctl("get", "Interface", vf.representor, "external_ids").strip()
    for pair in (
        'attached-mac="%s"' % vif.address,
        'iface-id="%s"' % vif.port_profile.interface_id,
        "iface-status=active",
        'vm-uuid="%s"' % INSTANCE.uuid,
    ):
        assert pair in ids
    # ovs-vswitchd opened the stand-in representor for real (it does so
    # after the commit, on its own time).
    deadline = time.monotonic() + 10
    ofport = ovs.vsctl("get", "Interface", vf.representor, "ofport").strip()
    while ofport == "[]" and time.monotonic() < deadline:
        time.sleep(0.05)
        ofport = ovs.vsctl(
            "get", "Interface", vf.representor, "ofport"
        ).strip()
    assert int(ofport) > 0
    rep = _device(vf.representor)
    assert (rep.up, rep.mtu) == (True, 1400)
    assert host.vf_calls()[-1]["vf"] == {
        "vf": 2,
        "mac": vif.address,
        "spoofchk": 1,
    }

    host.plugin.plug(vif, INSTANCE)  # idempotent
    assert len(host.vf_calls()) == 1

    host.plugin.unplug(vif, INSTANCE)
    assert vf.representor not in ovs.vsctl("list-ports", "br-offload")
    # The userspace datapath (the only one this kernel offers) made the
    # stand-in promiscuous when it opened it, and restores its flags when
    # it closes it, after the transaction returned and from its cached
    # copy of them: the device may come back up.  (The kernel datapath
    # real representors use changes no flags.)  Wait for the release;
    # unplugging again, which must be harmless, leaves the device down.
    _wait_released_by_vswitchd(vf.representor)
    host.plugin.unplug(vif, INSTANCE)
    assert _device(vf.representor).up is False
    assert len(host.vf_calls()) == 2


@pytest.mark.ovs
def test_unplug_after_the_vf_left_sysfs_removes_its_port(
    cx5_ovs_host: tuple[OffloadHost, Any],
) -> None:
    host, ovs = cx5_ovs_host
    vf, other = host.layout.vf(0, 1), host.layout.vf(0, 2)
    assert vf.representor is not None and other.representor is not None

    gone = vifs.offload_vif(
        vf.address, 0, profile="ovs_representor", bridge="br-offload"
    )
    stays = vifs.offload_vif(
        other.address, 1, profile="ovs_representor", bridge="br-offload"
    )
    host.plugin.plug(gone, INSTANCE)
    host.plugin.plug(stays, INSTANCE)
    # The driver was reloaded: the VF left sysfs, its representor can no
    # longer be named from the VIF.
    shutil.rmtree(
        fake_sysfs.FakeSysfs(host.layout.root).device_dir(vf.address)
    )
    host.plugin.unplug(gone, INSTANCE)
    ports = ovs.vsctl("list-ports", "br-offload").split()
    assert vf.representor not in ports and other.representor in ports
    host.plugin.unplug(gone, INSTANCE)  # again: nothing left, no error
    host.plugin.unplug(stays, INSTANCE)
    assert ovs.vsctl("list-ports", "br-offload").split() == []


@pytest.mark.ovs
def test_ovs_plug_failure_removes_port_and_bridge(
    cx5_ovs_host: tuple[OffloadHost, Any],
) -> None:
    host, ovs = cx5_ovs_host
    vf = host.layout.vf(0, 0)
    host.fail_vf_attribute(0, "mac", errno.EINVAL)
    before = host.snapshot(stand_ins_only=True)
    assert len(before["links"]) == 2 * (2 + 4 + 4)
    with pytest.raises(exception.HostOperationFailed):
        host.plugin.plug(
            vifs.offload_vif(
                vf.address,
                profile="ovs_offload",
                bridge="br-failing",
            ),
            INSTANCE,
        )
    assert "br-failing" not in ovs.bridges()
    assert host.snapshot(stand_ins_only=True) == before


# -- the set_vf host operation itself -----------------------------------


def test_set_vf_is_undone_when_a_later_step_fails(
    cx5_host: OffloadHost,
) -> None:
    from os_vif.internal import kernel as devices
    from os_vif.internal.unprivileged import plan, runner

    before = cx5_host.vf_state(1, 1)
    with pytest.raises(exception.ExceptionBase):
        runner.OVS.run(
            plan.Plan().add(
                devices.SetVf(
                    name="enp3s0f1np1", vf=1, mac=MAC, vlan=7, trust=True
                ),
                devices.SetLink(name="no-such-dev", up=True, role="uplink"),
            )
        )
    index = cx5_host.pf_index(1)
    assert [call["vf"] for call in cx5_host.vf_calls()] == [
        {"vf": 1, "mac": MAC, "vlan": 7, "trust": 1},
        {"vf": 1, "mac": "00:00:00:00:00:00", "vlan": 0, "trust": 0},
    ]
    assert {call["index"] for call in cx5_host.vf_calls()} == {index}
    assert cx5_host.vf_state(1, 1) == before


def test_set_vf_on_a_device_without_sriov(cx5_host: OffloadHost) -> None:
    from os_vif.internal import kernel as devices
    from os_vif.internal.unprivileged import plan, runner

    # The representor is a veth, which has no VFs: the kernel's answer.
    rep = cx5_host.layout.vf(0, 0).representor or ""
    with pytest.raises(exception.HostOperationFailed) as caught:
        runner.OVS.run(plan.Plan().add(devices.SetVf(name=rep, vf=0, vlan=5)))
    assert "Operation not supported" in str(caught.value)
