"""The ``offload`` plugin: SR-IOV VFs and their switchdev representors.

With a NIC whose embedded switch is in ``switchdev`` mode, the guest gets
an SR-IOV virtual function (VF) and the host sees a *representor* netdev
for it; whatever the host does to the representor (bridge it, give it an
MTU) applies to the VF's traffic, and the NIC offloads the forwarding.

For a :class:`~os_vif.objects.vif.VIFHostDevice` (``dev_type``
``ethernet``, the VF passed through to the guest) or a
:class:`~os_vif.objects.vif.VIFDirect` (a macvtap on the VF), plugging:

1. checks the VIF and finds the VF, its PF and its representor in sysfs
   (:mod:`os_vif.internal.unprivileged.sysfs`), before touching the host;
2. attaches the representor to the switch the port belongs to: an Open
   vSwitch bridge (with the port's ``external_ids``) when the port profile
   is an Open vSwitch one or the options say so, else a Linux bridge;
3. brings the representor up with the network's MTU and configures the VF
   on its PF: MAC (``vif.address``), VLAN (``network.vlan``), spoof
   checking, trust and link state, in one privileged plan that undoes
   itself if a step fails (the OVS port is then removed as well).

A VF whose PF is in legacy mode and whose port profile asks for no offload
gets step 3's VF settings only (classic SR-IOV).  Unplugging detaches the
representor, takes it down, clears the VF's VLAN and resets its MAC (as
the options say); what is already gone is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from os_vif import exception, host_state
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.unprivileged import runner, sysfs
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import batch, checking, description, privileged
from os_vif.plugins.offload import options, plan, port

__all__ = ["OffloadPlugin"]

LOG = logging.getLogger(__name__)

#: VIF types and the port profiles the plugin accepts with them.
SUPPORTED_VIFS = (vif_objects.VIFHostDevice, vif_objects.VIFDirect)
SUPPORTED_PROFILES = (
    vif_objects.VIFPortProfileOVSRepresentor,
    vif_objects.VIFPortProfileOpenVSwitch,
    vif_objects.VIFPortProfileBase,
)


class OffloadPlugin(PluginBase):
    """Plugs SR-IOV VFs and attaches their switchdev representors.

    Discovery and plans: :mod:`.port` and :mod:`.plan`; this class runs
    them.
    """

    CONFIG_OPTS = options.OPTS

    def __init__(self, config: Any) -> None:
        """Keep the ``[os_vif_offload]`` options."""
        super().__init__(config)

    @property
    def host(self) -> runner.HostRunner:
        """The ovs plugin's daemon, bounded by ``privsep_timeout``."""
        return privileged.runner(runner.OVS, self.config)

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """Discovery under the configured sysfs root (read on every use)."""
        return sysfs.SwitchdevDiscovery(self.config.sysfs_root)

    @property
    def ovsdb(self) -> ovsdb_client.OvsdbClient:
        """The OVSDB client for the configured connection."""
        return ovsdb_client.OvsdbClient(
            self.config.ovsdb_connection, self.config.ovsdb_timeout
        )

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFHostDevice and VIFDirect with their port profiles."""
        return description.plugin_info(
            "offload",
            ((vif, SUPPORTED_PROFILES) for vif in SUPPORTED_VIFS),
        )

    # -- plug --------------------------------------------------------------

    def plug_plan(self, vif: Any, instance_info: Any) -> plan.Plan:
        """Discover the VF and its representor; build the plug plan."""
        offloaded = port.describe_port(
            vif, instance_info, self.config, self.discovery
        )
        return plan.plug_plan(offloaded)

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Check ``vif`` as plug and the daemon would; change nothing."""
        self.host.validate(self.plug_plan(vif, instance_info))

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Configure the VF and attach its representor (see the module)."""
        wanted = self.plug_plan(vif, instance_info)
        self.host.run(wanted, self.ovsdb if wanted.ovsdb else None)

    # -- check and gc ------------------------------------------------------

    def check(self, vif: Any, instance_info: Any) -> host_state.CheckReport:
        """Report what differs from plugging ``vif``: representor, VF, port.

        Reads sysfs, netlink and the OVSDB cache only.
        """
        wanted = self.plug_plan(vif, instance_info)
        return checking.report(
            self.host.check(wanted, self.ovsdb if wanted.ovsdb else None)
        )

    def check_many(self, pairs: Any) -> list[host_state.CheckReport]:
        """:meth:`check` every pair against one dump of the kernel's links."""
        return checking.check_many(pairs, self.check)

    def gc(
        self, keep: Any, dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Collect nothing: a VF's settings and its representor are no leak.

        The VF and its representor are the NIC's, not os_vif's; the
        settings a plug gave them stay until the next plug of the VF.  The
        representor's OVS port carries the VIF's ids like any OVS port,
        but whether it is the ovs plugin's or this one's cannot be told
        from the host, so neither plugin removes representor ports.
        """
        return host_state.PluginCollection(
            reason="SR-IOV VFs and their representors are the NIC's: "
            "nothing the offload plugin makes can leak",
        )

    # -- unplug ------------------------------------------------------------

    def _detach_vanished(self, vif: Any, instance_info: Any) -> None:
        """Remove the OVS port of a representor that cannot be named.

        The VF (or its representor) left sysfs -- driver reloaded, VFs
        re-created -- but the port the plug added may still be in OVSDB.
        """
        switch = port.switch_port(vif, instance_info, self.config)
        wanted = plan.vanished_plan(switch)
        if wanted is None:
            return
        try:
            self.host.run(wanted, self.ovsdb, runner.Order.OVSDB_FIRST)
        except exception.HostOperationFailed as err:
            # The VF is gone either way; a port left behind is logged
            # with what finds it, rather than failing the unplug.
            LOG.warning(
                "VIF %s: could not look for its OVS port (iface-id %s): %s",
                vif.id,
                switch.external_ids.get("iface-id"),
                err,
            )

    def unplug(self, vif: Any, instance_info: Any) -> None:
        """Detach the representor and reset the VF; skip what is gone."""
        address = port.vf_address(vif)
        discovery = self.discovery
        try:
            vf = discovery.virtual_function(address)
        except exception.DeviceDiscoveryFailed as err:
            LOG.info("VF %s is gone: %s", address, err)
            self._detach_vanished(vif, instance_info)
            return
        found = plan.discover_unplug(vf, discovery)
        switch = (
            port.switch_port(vif, instance_info, self.config)
            if found.representor is not None
            else None
        )
        wanted = plan.unplug_plan(found, switch, self.config)
        self.host.run(
            wanted,
            self.ovsdb if wanted.ovsdb else None,
            runner.Order.OVSDB_FIRST,
        )

    # -- batches -----------------------------------------------------------

    def _plug_job(self, vif: Any, instance_info: Any) -> batch.Job:
        return batch.Job(
            self.plug_plan(vif, instance_info), key=batch.vif_key(vif)
        )

    def _unplug_job(self, vif: Any, instance_info: Any) -> batch.Job | None:
        address = port.vf_address(vif)
        discovery = self.discovery
        try:
            vf = discovery.virtual_function(address)
        except exception.DeviceDiscoveryFailed as err:
            LOG.info("VF %s is gone: %s", address, err)
            switch = port.switch_port(vif, instance_info, self.config)
            vanished = plan.vanished_plan(switch)
            if vanished is None:
                return None

            def lenient(error: Exception) -> host_state.VIFResult | None:
                if not isinstance(error, exception.HostOperationFailed):
                    return None
                LOG.warning(
                    "VIF %s: could not look for its OVS port (iface-id "
                    "%s): %s",
                    vif.id,
                    switch.external_ids.get("iface-id"),
                    error,
                )
                return host_state.Outcome.DONE

            return batch.Job(vanished, key=batch.vif_key(vif), lenient=lenient)
        found = plan.discover_unplug(vf, discovery)
        attached = (
            port.switch_port(vif, instance_info, self.config)
            if found.representor is not None
            else None
        )
        return batch.Job(
            plan.unplug_plan(found, attached, self.config),
            key=batch.vif_key(vif),
        )

    def plug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Plug many VFs: discovery per VIF, then batched host changes.

        Every VIF's VF and representor are found first (a VIF whose
        discovery fails gets that error); then, per chunk of
        :data:`os_vif.plugins.batch.CHUNK`, one check, one privileged call
        and one OVSDB transaction for those that need a change.
        """
        return batch.run(
            self.host, pairs, self._plug_job, lambda: self.ovsdb, progress
        )

    def unplug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Unplug many VFs as :meth:`plug_many` plugs them."""
        return batch.run(
            self.host,
            pairs,
            self._unplug_job,
            lambda: self.ovsdb,
            progress,
            runner.Order.TOGETHER,
        )
