"""Plug VIFs as nova builds them, through this os_vif, on a private OVS.

Run by ``tools/check_clients.sh`` with the nova virtualenv's Python, as
root, inside a network namespace made for it: nova's own
``nova.network.os_vif_util`` turns neutron-style network-model VIFs
(hybrid OVS, plain OVS, vhost-user) into os_vif objects, which are then
plugged twice and unplugged twice by this library against a private
ovsdb-server/ovs-vswitchd (userspace datapath).  Prints one line per VIF
and exits non-zero on the first difference from what nova expects.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

from nova.network import model, os_vif_util  # noqa: E402
from oslo_config import cfg  # noqa: E402

import os_vif  # noqa: E402
from os_vif.objects import instance_info  # noqa: E402
from os_vif.sandbox import ovs as ovs_server  # noqa: E402

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21",
    name="instance-1",
    project_id="demo",
)


def nova_vif(
    vif_type: str, details: dict, devname: str, vif_id: str, mac: str
) -> model.VIF:
    network = model.Network(
        id="5c6e8c36-8f1e-4e4b-9c3b-7f0a0f3ddc7a",
        bridge="br-int",
        label="private",
        subnets=[
            model.Subnet(
                cidr="10.0.0.0/24", ips=[model.FixedIP(address="10.0.0.5")]
            )
        ],
        meta={"mtu": 1400},
    )
    return model.VIF(
        id=vif_id,
        address=mac,
        network=network,
        type=vif_type,
        details=details,
        devname=devname,
        ovs_interfaceid=vif_id,
        vnic_type="normal",
        active=True,
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as workdir:
        switch = ovs_server.OvsServer(os.path.join(workdir, "ovs"))
        switch.start()
        try:
            os_vif.initialize()
            cfg.CONF.set_override(
                "ovsdb_connection", switch.connection, "os_vif_ovs"
            )
            netdev = {"datapath_type": "netdev"}
            cases = [
                # (nova VIF, os_vif class, port os_vif makes, or None when
                # libvirt adds it)
                (
                    nova_vif(
                        "ovs",
                        dict(netdev, port_filter=False, ovs_hybrid_plug=True),
                        "tapb2d6c7b4-1a",
                        "b2d6c7b4-1a0f-4a53-8b0c-1d2e3f4a5b6c",
                        "fa:16:3e:11:22:33",
                    ),
                    "VIFBridge",
                    "qvob2d6c7b4-1a",
                ),
                (
                    nova_vif(
                        "ovs",
                        dict(netdev, port_filter=True, ovs_hybrid_plug=False),
                        "tapc3e7d8c5-2b",
                        "c3e7d8c5-2b1a-4b64-9c1d-2e3f4a5b6c7d",
                        "fa:16:3e:11:22:44",
                    ),
                    "VIFOpenVSwitch",
                    None,
                ),
                (
                    nova_vif(
                        "vhostuser",
                        dict(
                            netdev,
                            vhostuser_mode="server",
                            vhostuser_socket=workdir + "/vhu0",
                            vhostuser_ovs_plug=True,
                        ),
                        "vhud4f8e9d6-3c",
                        "d4f8e9d6-3c2b-4c75-8d2e-3f4a5b6c7d8e",
                        "fa:16:3e:11:22:55",
                    ),
                    "VIFVHostUser",
                    "vhud4f8e9d6-3c",
                ),
            ]
            for nova, expected_class, port in cases:
                vif = os_vif_util.nova_to_osvif_vif(nova)
                if type(vif).__name__ != expected_class:
                    print("%s: got %s" % (nova["id"], type(vif).__name__))
                    return 1
                os_vif.plug(vif, INSTANCE)
                os_vif.plug(vif, INSTANCE)
                ports = switch.vsctl("list-ports", "br-int").split()
                if ports != ([port] if port else []):
                    print("%s: ports after plug %s" % (expected_class, ports))
                    return 1
                os_vif.unplug(vif, INSTANCE)
                os_vif.unplug(vif, INSTANCE)
                if switch.vsctl("list-ports", "br-int").split():
                    print("%s: ports left after unplug" % expected_class)
                    return 1
                print(
                    "nova %s VIF -> %s: plug, re-plug, unplug x2: ok"
                    % (nova["type"], expected_class)
                )
        finally:
            switch.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
