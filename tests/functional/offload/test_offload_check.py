"""The offload plugin's check: representor, bridge and VF settings.

The VF table is the fake NIC's (the JSON state the fake daemon answers
from); the caller's unprivileged read of it is pointed at the same state,
as SR-IOV hardware would answer both.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif.internal.kernel import vf as devices
from os_vif.sandbox import vifs
from tests.functional.offload.conftest import OffloadHost

pytestmark = pytest.mark.functional

INSTANCE = vifs.INSTANCE


def test_check_names_vf_and_representor_and_replug_repairs(
    cx5_host: OffloadHost, monkeypatch: Any
) -> None:
    def fake_read(pf: str, vf: int) -> dict[str, Any] | None:
        pfs = cx5_host.state()["pfs"]
        return dict(pfs[pf]["vfs"][vf]) if pf in pfs else None

    monkeypatch.setattr(devices, "read_vf_settings", fake_read)
    vf = cx5_host.layout.vf(0, 1)
    assert vf.representor is not None
    vif = vifs.offload_vif(vf.address, bridge="brq-offcheck")
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
        ("vf %s/1" % pf, "mac", vif.address, "fa:16:3e:99:99:99"),
        ("device %s" % vf.representor, "mtu", 1400, 1300),
    }
    calls = len(cx5_host.vf_calls())
    plugin.plug(vif, INSTANCE)
    assert cx5_host.vf_calls()[calls:][0]["vf"] == {
        "vf": 1,
        "mac": vif.address,
    }
    assert plugin.check(vif, INSTANCE).ok
    plugin.unplug(vif, INSTANCE)
