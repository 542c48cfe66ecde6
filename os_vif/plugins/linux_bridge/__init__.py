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

from typing import Any

from os_vif import host_state
from os_vif.internal.unprivileged import runner
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import batch, checking, description, privileged
from os_vif.plugins.linux_bridge import collect, plan
from os_vif.plugins.linux_bridge.options import OPTS

__all__ = ["LinuxBridgePlugin", "PLUGIN_NAME"]

#: The entry point name of this plugin.
PLUGIN_NAME = "linux_bridge"


class LinuxBridgePlugin(PluginBase):
    """Attach VIFs to Linux bridges, with privileged help from privsep.

    The plans are built by :mod:`.plan`; this class only runs them.
    """

    CONFIG_OPTS = OPTS

    def __init__(self, config: Any) -> None:
        """Keep ``config`` (``CONF.os_vif_linux_bridge``)."""
        super().__init__(config)

    @property
    def host(self) -> runner.HostRunner:
        """The privileged side, bounded by ``privsep_timeout``.

        A daemon family of its own, as in os-vif.
        """
        return privileged.runner(runner.LINUX_BRIDGE, self.config)

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFBridge 1.0 support, with no port profile."""
        return description.plugin_info(
            PLUGIN_NAME, [(vif_objects.VIFBridge, ())]
        )

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Check ``vif`` as plug and the daemon would; change nothing."""
        self.host.validate(plan.plug_plan(vif, self.config))

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Make the bridge, its uplink and (optionally) the tap of ``vif``.

        Idempotent; on failure nothing this call made is left behind.
        """
        self.host.run(plan.plug_plan(vif, self.config))

    def check(self, vif: Any, instance_info: Any) -> host_state.CheckReport:
        """Report what differs on the host from plugging ``vif``.

        Reads netlink and ``/proc/sys`` only; changes nothing.
        """
        return checking.report(
            self.host.check(plan.plug_plan(vif, self.config))
        )

    def check_many(self, pairs: Any) -> list[host_state.CheckReport]:
        """:meth:`check` every pair against one dump of the kernel's links."""
        return checking.check_many(pairs, self.check)

    def gc(
        self, keep: Any, dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove the taps and bridges of VIFs not in ``keep``.

        See :mod:`.collect` for what counts as the plugin's own.
        """
        return collect.collect(self, keep, dry_run)

    def unplug(self, vif: Any, instance_info: Any) -> None:
        """Remove what :meth:`plug` made that nothing else uses."""
        self.host.run(
            plan.unplug_plan(vif, self.config), order=runner.Order.OVSDB_FIRST
        )

    # -- batches -----------------------------------------------------------

    def _no_ovsdb(self) -> Any:
        raise AssertionError("linux_bridge plans have no OVSDB operations")

    def plug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Plug many VIFs: one check of the host, one privileged call.

        Per chunk of :data:`os_vif.plugins.batch.CHUNK` VIFs; each VIF is
        all or nothing in the daemon, ``UNCHANGED`` when already plugged,
        its error alone when its plan cannot be built or fails.
        """
        return batch.run(
            self.host,
            pairs,
            lambda vif, _info: batch.Job(
                plan.plug_plan(vif, self.config), key=batch.vif_key(vif)
            ),
            self._no_ovsdb,
            progress,
        )

    def unplug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Unplug many VIFs as :meth:`plug_many` plugs them."""
        return batch.run(
            self.host,
            pairs,
            lambda vif, _info: batch.Job(
                plan.unplug_plan(vif, self.config), key=batch.vif_key(vif)
            ),
            self._no_ovsdb,
            progress,
            runner.Order.TOGETHER,
        )
