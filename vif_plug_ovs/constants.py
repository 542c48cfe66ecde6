"""Constants of os-vif 5.x's ovs plugin, as its clients read them."""

from os_vif.internal.ovsdb import model
from os_vif.internal.unprivileged import dpdk_representor
from os_vif.plugins.ovs import naming

PLUGIN_NAME = "ovs"
OVS_VHOSTUSER_INTERFACE_TYPE = "dpdkvhostuser"
OVS_VHOSTUSER_CLIENT_INTERFACE_TYPE = "dpdkvhostuserclient"
OVS_VHOSTUSER_PREFIX = "vhu"
OVS_DATAPATH_SYSTEM = "system"
OVS_DATAPATH_NETDEV = "netdev"
OVS_DPDK_INTERFACE_TYPE = dpdk_representor.INTERFACE_TYPE
DEAD_VLAN = model.DEAD_VLAN
TRUNK_BR_PREFIX = naming.TRUNK_BRIDGE_PREFIX
