"""Time os-vif 5.3.0's ovs plugin; run by bench_ovs.py in the oracle venv.

Usage: python oracle_ovs_worker.py CONFIG_FILE KIND N
Prints one JSON object: seconds spent in plug, re-plug and unplug of N
VIFs of KIND ("ovs" or "hybrid").  Only os-vif's public API is used.
"""

import json
import sys
import time
import uuid

from oslo_config import cfg

import os_vif
from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects


def make_vif(kind: str, n: int) -> vif_objects.VIFBase:
    vid = str(uuid.UUID(int=(0xB0000000 + n) << 96 | 0x5678))
    net = network.Network(
        id="a1b2c3d4-0000-4000-8000-000000000001", bridge="br-int", mtu=1450
    )
    mac = "fa:16:3e:10:%02x:%02x" % (n >> 8 & 0xFF, n & 0xFF)
    if kind == "ovs":
        return vif_objects.VIFOpenVSwitch(
            id=vid,
            address=mac,
            network=net,
            plugin="ovs",
            vif_name=("tap" + vid)[:14],
            bridge_name="br-int",
            port_profile=vif_objects.VIFPortProfileOpenVSwitch(
                interface_id=vid,
                datapath_type="netdev",
                create_port=True,
                create_tap=True,
            ),
        )
    return vif_objects.VIFBridge(
        id=vid,
        address=mac,
        network=net,
        plugin="ovs",
        vif_name=("tap" + vid)[:14],
        bridge_name=("qbr" + vid)[:14],
        has_traffic_filtering=True,
        port_profile=vif_objects.VIFPortProfileOpenVSwitch(
            interface_id=vid, datapath_type="netdev"
        ),
    )


def main() -> None:
    config_file, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg.CONF(["--config-file", config_file])
    os_vif.initialize()
    inst = instance_info.InstanceInfo(
        uuid="d2c1b38e-4b6e-4a57-9b41-95e3e4e7a0f1", name="vm", project_id="p"
    )
    vifs = [make_vif(kind, n) for n in range(count)]
    # Warm up: privsep daemon and OVSDB connection, outside the timing.
    warm = make_vif(kind, 9999)
    os_vif.plug(warm, inst)
    os_vif.unplug(warm, inst)
    result: dict[str, float] = {}
    for op, func in (
        ("plug", os_vif.plug),
        ("replug", os_vif.plug),
        ("unplug", os_vif.unplug),
    ):
        start = time.perf_counter()
        for vif in vifs:
            func(vif, inst)
        result[op] = time.perf_counter() - start
    print(json.dumps(result))


if __name__ == "__main__":
    main()
