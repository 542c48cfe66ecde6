"""The ``noop`` plugin: for VIFs whose host side someone else sets up.

kuryr-kubernetes' CNI daemon creates the devices of nested pods itself (a
VLAN or macvlan device on the VM's interface, a DPDK-bound VF), so os_vif
has nothing to do for them; this plugin accepts those VIF types and
changes nothing on the host.
"""

from __future__ import annotations

from collections.abc import Sequence

from os_vif import host_state
from os_vif.objects import host_info
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import description

__all__ = ["NoOpPlugin"]

_VIF = vif_objects.VIFBase
_Instance = instance_info_objects.InstanceInfo

#: The VIF types this plugin accepts, with their versions.
SUPPORTED_VIFS = (
    vif_objects.VIFVlanNested,
    vif_objects.VIFMacvlanNested,
    vif_objects.VIFDPDKNested,
    vif_objects.VIFNestedDPDK,
    vif_objects.VIFVHostUser,
)


class NoOpPlugin(PluginBase):
    """A plugin that plugs and unplugs nothing."""

    def describe(self) -> host_info.HostPluginInfo:
        """Report the VIF types whose host side is made outside os_vif."""
        return description.plugin_info(
            "noop", ((vif, ()) for vif in SUPPORTED_VIFS)
        )

    def validate_plug(self, vif: _VIF, instance_info: _Instance) -> None:
        """Nothing to check: this plugin makes no host change."""

    def plug(self, vif: _VIF, instance_info: _Instance) -> None:
        """Do nothing: the device is made by the client (e.g. kuryr)."""

    def unplug(self, vif: _VIF, instance_info: _Instance) -> None:
        """Do nothing: the device is removed by the client (e.g. kuryr)."""

    def check(
        self, vif: _VIF, instance_info: _Instance
    ) -> host_state.CheckReport:
        """Report no problem: this plugin expects nothing on the host."""
        return host_state.CheckReport()

    def gc(
        self, keep: Sequence[_VIF], dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove nothing: this plugin makes nothing that could leak."""
        return host_state.PluginCollection()
