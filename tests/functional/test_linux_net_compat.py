"""os-vif 5.x's ``vif_plug_ovs.linux_net`` on a real kernel, in a netns.

The deprecated shims go through the ovs plugin's privsep daemon (started in
the test's namespace); what they leave is read back with pyroute2 and
``/proc/sys``.
"""

from __future__ import annotations

import warnings

import pytest
from pyroute2 import IPRoute

from os_vif import exception

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from vif_plug_ovs import linux_net

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAC = "fa:16:3e:12:34:56"


def link(name):
    with IPRoute() as ipr:
        found = ipr.link("get", ifname=name)[0]
    return found


def exists(name):
    with IPRoute() as ipr:
        return bool(ipr.link_lookup(ifname=name))


def sysctl(name, family, key):
    with open("/proc/sys/net/%s/conf/%s/%s" % (family, name, key)) as f:
        return int(f.read())


def test_tap_bridge_and_veth_as_5x_made_them(netns):
    linux_net.create_tap("tapc0", 1450, MAC)
    tap = link("tapc0")
    assert tap.get_attr("IFLA_ADDRESS") == MAC
    assert tap.get_attr("IFLA_MTU") == 1450
    assert tap.get_attr("IFLA_OPERSTATE") in ("UP", "DOWN", "UNKNOWN")
    assert tap["flags"] & 1  # IFF_UP
    assert sysctl("tapc0", "ipv6", "disable_ipv6") == 1
    # Again: nothing to do, no error.
    linux_net.create_tap("tapc0", 1450, MAC)

    linux_net.ensure_bridge("qbrc0")
    assert sysctl("qbrc0", "ipv6", "disable_ipv6") == 1
    assert sysctl("qbrc0", "ipv4", "arp_ignore") == 1
    assert sysctl("qbrc0", "ipv4", "arp_announce") == 2
    bridge = link("qbrc0")
    data = bridge.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    assert data.get_attr("IFLA_BR_AGEING_TIME") == 0

    linux_net.create_veth_pair("qvbc0", "qvoc0", 1400)
    for end in ("qvbc0", "qvoc0"):
        assert link(end).get_attr("IFLA_MTU") == 1400
    linux_net.add_bridge_port("qbrc0", "qvbc0")
    assert link("qvbc0").get_attr("IFLA_MASTER") == bridge["index"]
    linux_net.update_veth_pair("qvbc0", "qvoc0", 1300)
    assert link("qvoc0").get_attr("IFLA_MTU") == 1300
    linux_net.set_interface_state("qvoc0", "down")
    assert not link("qvoc0")["flags"] & 1

    linux_net.delete_bridge("qbrc0", "qvbc0")
    assert not exists("qbrc0")
    assert not link("qvbc0")["flags"] & 1
    for name in ("qvbc0", "tapc0"):
        linux_net.delete_net_dev(name)
        assert not exists(name)
    assert not exists("qvoc0")  # went with its peer
    linux_net.delete_net_dev("tapc0")  # absent: fine


def test_devices_os_vif_did_not_make_are_not_deleted(netns):
    with IPRoute() as ipr:
        ipr.link("add", ifname="brother0", kind="bridge")
    with pytest.raises(exception.HostOperationRefused):
        linux_net.delete_net_dev("brother0")
    with pytest.raises(exception.HostOperationRefused):
        linux_net.delete_bridge("brother0", None)
    assert exists("brother0")
    # It may still be used as a bridge and have ports put on it, as in 5.x.
    linux_net.ensure_bridge("brother0")
    linux_net.create_tap("tapc1", None, MAC)
    linux_net.add_bridge_port("brother0", "tapc1")
    assert link("tapc1").get_attr("IFLA_MASTER") == link("brother0")["index"]
    linux_net.delete_net_dev("tapc1")
    assert exists("brother0")
