"""VIF objects for the ovs plugin's tests (unit and functional) and benchmarks.

Shared by both kinds of tests, so it lives outside ``tests/functional``.
"""

from __future__ import annotations

import uuid
from typing import Any

from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects

INSTANCE = instance_info.InstanceInfo(
    uuid="d2c1b38e-4b6e-4a57-9b41-95e3e4e7a0f1", name="vm1", project_id="p1"
)


def vif_id(n: int = 0) -> str:
    """A deterministic VIF id; ``n`` tells VIFs apart in the first 11."""
    return str(uuid.UUID(int=(0xE5F60000 + n) << 96 | 0x1234))


def _network(bridge: str, mtu: int | None) -> network.Network:
    net = network.Network(id="a1b2c3d4-0000-4000-8000-000000000001")
    net.bridge = bridge
    if mtu is not None:
        net.mtu = mtu
    return net


def _profile(vid: str, **extra: Any) -> vif_objects.VIFPortProfileOpenVSwitch:
    return vif_objects.VIFPortProfileOpenVSwitch(
        interface_id=vid, datapath_type="netdev", **extra
    )


def ovs_vif(
    n: int = 0,
    *,
    bridge: str = "br-int",
    mtu: int | None = 1450,
    create_tap: bool = True,
    multiqueue: bool = False,
) -> vif_objects.VIFOpenVSwitch:
    vid = vif_id(n)
    return vif_objects.VIFOpenVSwitch(
        id=vid,
        address="fa:16:3e:00:%02x:%02x" % (n >> 8 & 0xFF, n & 0xFF),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=("tap" + vid)[:14],
        bridge_name=bridge,
        port_profile=_profile(
            vid,
            create_port=True,
            create_tap=create_tap,
            multiqueue=multiqueue,
        ),
    )


def hybrid_vif(
    n: int = 0, *, bridge: str = "br-int", mtu: int | None = 1450
) -> vif_objects.VIFBridge:
    vid = vif_id(n)
    return vif_objects.VIFBridge(
        id=vid,
        address="fa:16:3e:01:%02x:%02x" % (n >> 8 & 0xFF, n & 0xFF),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=("tap" + vid)[:14],
        bridge_name=("qbr" + vid)[:14],
        has_traffic_filtering=True,
        port_profile=_profile(vid),
    )


def vhostuser_vif(
    n: int = 0, *, mode: str = "server", path: str = "/tmp/vhu.sock"
) -> vif_objects.VIFVHostUser:
    vid = vif_id(n)
    return vif_objects.VIFVHostUser(
        id=vid,
        address="fa:16:3e:02:00:%02x" % (n & 0xFF),
        network=_network("br-int", 1500),
        plugin="ovs",
        vif_name=("vhu" + vid)[:14],
        mode=mode,
        path=path,
        port_profile=_profile(vid),
    )


def representor_vif(vf_address: str, n: int = 0) -> vif_objects.VIFHostDevice:
    vid = vif_id(n)
    return vif_objects.VIFHostDevice(
        id=vid,
        address="fa:16:3e:03:00:%02x" % (n & 0xFF),
        network=_network("br-int", 1400),
        plugin="ovs",
        dev_type="ethernet",
        dev_address=vf_address,
        port_profile=vif_objects.VIFPortProfileOVSRepresentor(
            interface_id=vid,
            datapath_type="netdev",
            representor_address=vf_address,
        ),
    )
