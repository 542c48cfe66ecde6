"""kuryr-kubernetes' imports of os-vif 5.x's ``vif_plug_ovs`` still work."""

from os_vif.plugins.ovs import naming


def test_kuryr_vhostuser_port_name():
    # kuryr_kubernetes/cni/binding/vhostuser.py does exactly this.
    from vif_plug_ovs import constants, ovs

    vif_id = "d4e5f6a7-b8c9-4d0e-8f1a-000000000001"
    name = ovs.OvsPlugin.gen_port_name(constants.OVS_VHOSTUSER_PREFIX, vif_id)
    assert name == "vhud4e5f6a7-b8" == naming.vhostuser_port(vif_id)


def test_constants_match_what_the_plugin_writes():
    from vif_plug_ovs import constants

    assert constants.PLUGIN_NAME == "ovs"
    assert constants.DEAD_VLAN == 4095
    assert constants.TRUNK_BR_PREFIX == "tbr-"
    assert constants.OVS_DPDK_INTERFACE_TYPE == "dpdk"
    assert constants.OVS_VHOSTUSER_CLIENT_INTERFACE_TYPE == (
        "dpdkvhostuserclient"
    )
