"""os-vif's network configuration and the VIF each attachment gets."""

from __future__ import annotations

import pytest

from os_vif import serialization
from os_vif.cni import network, protocol
from os_vif.cni.protocol import CniError, ErrorCode
from os_vif.objects import vif as vif_objects

CALL = protocol.Call.from_environ({
    "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c0ffee", "CNI_NETNS":
    "/run/netns/pod", "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni"})

IPAM = protocol.Result.parse({
    "cniVersion": "1.0.0",
    "ips": [{"address": "10.1.0.5/24", "gateway": "10.1.0.1"},
            {"address": "fd00::5/64"}],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.7.0/24",
                                      "gw": "10.1.0.254"}],
    "dns": {"nameservers": ["10.1.0.1"]}})


def _conf(**extra):
    doc = {"cniVersion": "1.1.0", "name": "net1", "type": "os-vif-cni",
           "ipam": {"type": "host-local"}}
    doc.update(extra)
    conf = protocol.NetConf.parse(doc)
    return conf, network.OsVifConf.parse(conf)


def test_an_ovs_vif_with_neutron_s_identity_and_the_ipam_subnets():
    conf, osvif = _conf(plugin="ovs", mtu=1400)
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    assert isinstance(vif, vif_objects.VIFOpenVSwitch)
    assert vif.bridge_name == "br-int"
    assert vif.vif_name == "tap" + vif.id[:11]
    assert vif.port_profile.interface_id == vif.id
    assert vif.network.mtu == 1400
    v4, v6 = vif.network.subnets.objects
    assert (str(v4.cidr), str(v4.gateway)) == ("10.1.0.0/24", "10.1.0.1")
    assert [str(ip.address) for ip in v4.ips.objects] == ["10.1.0.5"]
    assert [(str(r.cidr), str(r.gateway)) for r in v4.routes.objects] == [
        ("0.0.0.0/0", "10.1.0.1"), ("192.168.7.0/24", "10.1.0.254")]
    # The v6 subnet has no gateway, and that is fine.
    assert not v6.obj_attr_is_set("gateway")
    # The VIF is written and read back with the public serialisation.
    assert serialization.loads(serialization.dumps(vif)).id == vif.id


def test_the_same_attachment_gets_the_same_vif_and_another_another():
    conf, osvif = _conf(plugin="ovs")
    one = network.build_vif(conf, osvif, CALL, IPAM)
    assert network.build_vif(conf, osvif, CALL, IPAM).address == one.address
    other = protocol.Call(command=CALL.command, container_id="c0ffee",
                          netns=CALL.netns, ifname="net1")
    assert network.build_vif(conf, osvif, other, IPAM).id != one.id


def test_not_the_default_gateway_drops_the_default_route():
    conf, osvif = _conf(plugin="ovs", isDefaultGateway=False)
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    routes = vif.network.subnets.objects[0].routes.objects
    assert [str(r.cidr) for r in routes] == ["192.168.7.0/24"]


def test_the_runtime_s_mac_is_used():
    conf, osvif = _conf(plugin="ovs",
                        runtimeConfig={"mac": "0A:58:0A:01:00:05"})
    assert network.build_vif(conf, osvif, CALL, IPAM).address == \
        "0a:58:0a:01:00:05"


def test_hybrid_ovs_and_linux_bridge_vifs():
    conf, osvif = _conf(plugin="ovs", vifType="VIFBridge",
                        options={"filtering": True})
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    assert vif.bridge_name == "qbr" + vif.id[:11]
    assert vif.network.bridge == "br-int" and vif.has_traffic_filtering
    conf, osvif = _conf(plugin="linux_bridge", bridge="br-pods",
                        options={"uplink": "eth1", "vlan": 42})
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    assert isinstance(vif, vif_objects.VIFBridge)
    assert vif.bridge_name == "br-pods" and vif.network.vlan == 42
    assert vif.network.should_provide_bridge


def test_nested_vlan_and_macvlan():
    conf, osvif = _conf(plugin="noop", vifType="VIFVlanNested",
                        options={"parent": "ens3", "vlanId": 101})
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    assert isinstance(vif, vif_objects.VIFVlanNested)
    assert (vif.vlan_id, vif.vif_name) == (101, "eth0")
    assert network.host_device(vif) == ""
    conf, osvif = _conf(plugin="noop", vifType="VIFMacvlanNested",
                        options={"parent": "ens3"})
    assert isinstance(network.build_vif(conf, osvif, CALL, IPAM),
                      vif_objects.VIFMacvlanNested)


def test_the_add_result_names_both_ends_and_puts_the_ips_in_the_pod():
    conf, osvif = _conf(plugin="ovs", mtu=1400)
    vif = network.build_vif(conf, osvif, CALL, IPAM)
    doc = network.add_result(vif, CALL, IPAM, 1400).document("1.1.0")
    assert doc["interfaces"] == [
        {"name": vif.vif_name},
        {"name": "eth0", "mac": vif.address, "mtu": 1400,
         "sandbox": "/run/netns/pod"}]
    assert {ip["interface"] for ip in doc["ips"]} == {1}


@pytest.mark.parametrize("extra,field,code", [
    ({"plugin": "vpp"}, "plugin", ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "vifType": "VIFVlanNested"}, "vifType",
     ErrorCode.INVALID_CONFIG),
    ({"plugin": "linux_bridge"}, "bridge", ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "mtu": 10}, "mtu", ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "mtu": True}, "mtu", ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "options": {"vlan": 3}}, "options.vlan",
     ErrorCode.UNSUPPORTED_FIELD),
    ({"plugin": "ovs", "options": {"datapathType": 1}},
     "options.datapathType", ErrorCode.INVALID_CONFIG),
    ({"plugin": "noop", "vifType": "VIFVlanNested",
      "options": {"parent": "ens3"}}, "options.vlanId",
     ErrorCode.INVALID_CONFIG),
    ({"plugin": "noop", "vifType": "VIFVlanNested",
      "options": {"parent": "ens3", "vlanId": 4095}}, "options.vlanId",
     ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "networkId": "x"}, "networkId",
     ErrorCode.INVALID_CONFIG),
    ({"plugin": "ovs", "runtimeConfig": {"mac": "zz"}},
     "runtimeConfig.mac", ErrorCode.INVALID_CONFIG),
])
def test_a_bad_configuration_names_the_field_and_value(extra, field, code):
    with pytest.raises(CniError) as err:
        conf, osvif = _conf(**extra)
        network.build_vif(conf, osvif, CALL, IPAM)
    assert err.value.code == code
    assert err.value.details.startswith(field + "=")
