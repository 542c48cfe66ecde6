"""How Open vSwitch with DPDK names and opens a VF's representor.

With OVS-DPDK hardware offload, the representor is not a kernel netdev
but a DPDK port that OVS opens from the PF's PCI address plus the VF index
(DPDK's ``representor=`` device argument).  The port names and arguments
here are those os-vif 5.x writes, so ports plugged by either are the same
in the database (checked against os-vif 5.3.0 on a fake sysfs tree).
"""

from __future__ import annotations

from os_vif.internal import names
from os_vif.internal.unprivileged import sysfs

__all__ = [
    "INTERFACE_TYPE",
    "PORT_PREFIX",
    "devargs",
    "port_name",
]

#: The OVS ``Interface.type`` of a DPDK representor port.
INTERFACE_TYPE = "dpdk"
#: Prefix of the OVS port names of DPDK VF representors.
PORT_PREFIX = "vfr"


def port_name(vif_id: str) -> str:
    """Return the OVS port name of the DPDK representor for VIF ``vif_id``."""
    return names.port_name(PORT_PREFIX, vif_id)


def devargs(vf: sysfs.VirtualFunction) -> str:
    """Return the ``options:dpdk-devargs`` value that opens ``vf``'s
    representor: the PF's PCI address and the VF index."""
    return "%s,representor=[%d]" % (vf.pf_address, vf.vf_index)
