"""The offload plugin's check: representor, bridge and VF settings.

The VF table is the fake NIC's (the JSON state the fake daemon answers
from); the caller's unprivileged read of it is pointed at the same state,
as SR-IOV hardware would answer both.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif.internal.privileged import devices
from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects
from tests.functional.offload.conftest import OffloadHost

pytestmark = pytest.mark.functional

INSTANCE = instance_info.InstanceInfo(
    uuid="5b5a3c0e-2f4b-4c9e-9d55-0c8e6a1f0a01", name="vm-offload"
)
MAC = "fa:16:3e:11:22:44"


def _vif(address: str) -> vif_objects.VIFHostDevice:
    return vif_objects.VIFHostDevice(
        id="d3c1f0a2-6b8e-4f1d-9a7c-2e5b8c9d0f12",
        address=MAC,
        plugin="offload",
        dev_type="ethernet",
        dev_address=address,
        network=network.Network(
            id="0b7f3c6e-5d1a-4c1e-8d2b-7e9f0a1b2c3d",
            mtu=1400,
            bridge="brq-offcheck",
        ),
        port_profile=vif_objects.VIFPortProfileBase(
            datapath_offload=vif_objects.DatapathOffloadRepresentor(
                representor_address=address
            )
        ),
    )


def test_check_names_vf_and_representor_and_replug_repairs(
    cx5_host: OffloadHost, monkeypatch: Any
) -> None:
    def fake_read(pf: str, vf: int) -> dict[str, Any] | None:
        pfs = cx5_host.state()["pfs"]
        return dict(pfs[pf]["vfs"][vf]) if pf in pfs else None

    monkeypatch.setattr(devices, "read_vf_settings", fake_read)
    vf = cx5_host.layout.vf(0, 1)
    assert vf.representor is not None
    vif = _vif(vf.address)
    plugin = cx5_host.plugin

    report = plugin.check(vif, INSTANCE)
    assert not report.ok
    assert ("device brq-offcheck", "exists") in {
        (p.object, p.what) for p in report.problems
    }
    plugin.plug(vif, INSTANCE)
    assert plugin.check_many([(vif, INSTANCE)])[0].ok

    state = cx5_host.state()
    pf = cx5_host.layout.pfs[0].ifname
    state["pfs"][pf]["vfs"][1]["mac"] = "fa:16:3e:99:99:99"
    cx5_host.write_state(state)
    with IPRoute() as ipr:
        ipr.link(
            "set", index=ipr.link_lookup(ifname=vf.representor)[0], mtu=1300
        )
    report = plugin.check(vif, INSTANCE)
    assert {
        (p.object, p.what, p.expected, p.found) for p in report.problems
    } == {
        ("vf %s/1" % pf, "mac", MAC, "fa:16:3e:99:99:99"),
        ("device %s" % vf.representor, "mtu", 1400, 1300),
    }
    calls = len(cx5_host.vf_calls())
    plugin.plug(vif, INSTANCE)
    assert cx5_host.vf_calls()[calls:][0]["vf"] == {"vf": 1, "mac": MAC}
    assert plugin.check(vif, INSTANCE).ok
    plugin.unplug(vif, INSTANCE)
