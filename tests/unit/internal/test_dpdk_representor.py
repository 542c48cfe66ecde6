"""DPDK representor port names and devargs.

The expected values are what os-vif 5.3.0's ovs plugin wrote to the
database when plugging the same VIF on the same fake sysfs tree (a
``VIFHostDevice`` on a ``datapath_type=netdev`` profile).
"""

from __future__ import annotations

from pathlib import Path

from os_vif.internal.unprivileged import dpdk_representor, sysfs
from tests import fake_sysfs


def test_port_name_is_prefixed_and_truncated() -> None:
    name = dpdk_representor.port_name("8c2b7a5e-6b1c-4b1c-9c1a-111111111111")
    assert name == "vfr8c2b7a5e-6b"
    assert len(name) == 14


def test_devargs_name_pf_and_vf_index(tmp_path: Path) -> None:
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    discovery = sysfs.SwitchdevDiscovery(layout.root)
    vf = discovery.virtual_function("0000:03:00.3")
    assert dpdk_representor.devargs(vf) == "0000:03:00.0,representor=[1]"
    vf = discovery.virtual_function(layout.vf(1, 3).address)
    assert dpdk_representor.devargs(vf) == "0000:03:00.1,representor=[3]"
    assert dpdk_representor.INTERFACE_TYPE == "dpdk"
