"""The ``linux_bridge`` plugin: VIFs attached to a Linux bridge.

Plug of a :class:`~os_vif.objects.vif.VIFBridge` makes, in one privileged
call (one plan, undone as a whole if a step fails):

* the bridge ``vif.bridge_name``: created if missing (STP off, forward
  delay 0), MTU from ``network.mtu`` or ``network_device_mtu``, IPv6 off
  unless ``use_ipv6``, up;
* its uplink: for a VLAN network (``should_provide_vlan``) the VLAN device
  ``vlan<id>`` on ``vlan_interface`` or ``network.bridge_interface``,
  attached; for a flat network ``flat_interface`` or
  ``network.bridge_interface`` itself, attached;
* when the VIF has no traffic filtering of its own, accept rules so that
  the host firewall does not drop traffic across the bridge (see
  :mod:`os_vif.internal.privileged.firewall`);
* with ``create_tap``, the tap ``vif.vif_name``, attached to the bridge,
  with the guest's MAC but a first octet of ``fe`` (as libvirt does).

Unplug deletes the tap if ``create_tap``, then the bridge if os_vif made
it and only its uplink is left (with the VLAN device os_vif made), and the
firewall rules with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from os_vif import host_state
from os_vif.internal.unprivileged import runner
from os_vif.objects import host_info
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins import base, description, rules
from os_vif.plugins.linux_bridge import collect, plan
from os_vif.plugins.linux_bridge.options import OPTS, Options

__all__ = ["LinuxBridgePlugin", "PLUGIN_NAME"]

#: The entry point name of this plugin.
PLUGIN_NAME = "linux_bridge"

_Instance = instance_info_objects.InstanceInfo


class LinuxBridgePlugin(base.HostPlugin[None, Options]):
    """Attach VIFs to Linux bridges, with privileged help from privsep.

    The plans are built by :mod:`.plan`; :class:`~os_vif.plugins.base.
    HostPlugin` runs them.  Nothing to discover: the plans name only the
    VIF's own devices and the configured interfaces.
    """

    CONFIG_OPTS = OPTS
    #: A daemon family of its own, as in os-vif.
    RUNNER = runner.LINUX_BRIDGE
    WORKLOAD_TYPES = (vif_objects.VIFBridge,)

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFBridge 1.0 support, with no port profile."""
        return description.plugin_info(
            PLUGIN_NAME, [(vif_objects.VIFBridge, ())]
        )

    def discover(
        self,
        vif: vif_objects.VIFBase,
        instance_info: _Instance,
        *,
        unplug: bool = False,
    ) -> None:
        """Nothing to read: see the class."""
        return None

    def workload_host_end(self, vif: vif_objects.VIFBase) -> base.HostEnd:
        """The VIF's device name, a port of its bridge."""
        name, bridge = plan.workload_host_end(vif)
        return base.HostEnd(name, bridge, rules.mtu(vif, self.config))

    def plans(self) -> base.Plans[None, Options]:
        """:mod:`.plan`."""
        return plan

    def gc(
        self, keep: Sequence[vif_objects.VIFBase], dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove the taps and bridges of VIFs not in ``keep``.

        See :mod:`.collect` for what counts as the plugin's own.
        """
        return collect.collect(self.host, keep, dry_run)
