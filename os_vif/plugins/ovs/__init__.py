"""The ``ovs`` plugin: VIFs on Open vSwitch, as os-vif 5.x plugs them.

VIF types (see ``doc/source/plugins/ovs.rst`` for the details):

* ``VIFOpenVSwitch`` -- the guest's device straight on the integration
  bridge (the port, with ``create_port``; the tap itself, with
  ``create_tap``); optionally through a bridge of its own
  (``per_port_bridge``);
* ``VIFBridge`` -- the "hybrid" plug: a ``qbr`` Linux bridge for the
  guest's tap, joined to Open vSwitch by the ``qvb``/``qvo`` veth pair;
* ``VIFVHostUser`` -- a DPDK vhost-user port (client or server mode), or a
  DPDK VF representor with ``VIFPortProfileOVSRepresentor``;
* ``VIFHostDevice`` with ``VIFPortProfileOVSRepresentor`` -- the kernel
  representor of an SR-IOV VF (hardware offload).

A plug is a plan (:mod:`.plan`, after an explicit discovery step): kernel
operations in one call to the privsep daemon and the OVSDB changes in one
transaction, at the same time.  A re-plug reads the kernel (netlink,
unprivileged) and the IDL cache first and, when nothing differs, calls
neither the daemon nor ovsdb-server.  A failure anywhere undoes the whole
plug (:mod:`os_vif.internal.unprivileged.runner`).
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
from os_vif.plugins.ovs import collect, naming, options, plan

__all__ = ["OvsPlugin", "SUPPORTED"]

LOG = logging.getLogger(__name__)

_OVS_PROFILE = vif_objects.VIFPortProfileOpenVSwitch
_REPRESENTOR_PROFILE = vif_objects.VIFPortProfileOVSRepresentor

#: The VIF types the plugin plugs, with the port profiles each accepts.
SUPPORTED = (
    (vif_objects.VIFBridge, (_OVS_PROFILE,)),
    (vif_objects.VIFOpenVSwitch, (_OVS_PROFILE,)),
    (vif_objects.VIFVHostUser, (_OVS_PROFILE, _REPRESENTOR_PROFILE)),
    (vif_objects.VIFHostDevice, (_REPRESENTOR_PROFILE,)),
)


class OvsPlugin(PluginBase):
    """Plugs VIFs into Open vSwitch (see the module documentation)."""

    CONFIG_OPTS = options.OPTS

    #: ``gen_port_name(prefix, vif_id)``: the device name os-vif 5.x's
    #: plugin derived from a VIF id (kuryr-kubernetes calls it).
    gen_port_name = staticmethod(naming.port_name)

    def __init__(self, config: Any) -> None:
        """Keep the ``[os_vif_ovs]`` options; connect on first use."""
        super().__init__(config)
        #: Where SR-IOV devices are looked up (tests point it elsewhere).
        self.sysfs_root = sysfs.DEFAULT_SYSFS_ROOT
        if config.ovsdb_interface not in options.OVSDB_INTERFACES:
            raise exception.InvalidArgument(
                field="os_vif_ovs.ovsdb_interface",
                value=config.ovsdb_interface,
                reason="must be one of %s"
                % ", ".join(options.OVSDB_INTERFACES),
            )
        if config.ovsdb_interface == "vsctl":
            LOG.warning(
                "[os_vif_ovs] ovsdb_interface = vsctl: os_vif always uses "
                "the native OVSDB client, on ovsdb_connection %s",
                config.ovsdb_connection,
            )

    @property
    def host(self) -> runner.HostRunner:
        """The ovs daemon's runner, bounded by ``privsep_timeout``."""
        return privileged.runner(runner.OVS, self.config)

    @property
    def ovsdb(self) -> ovsdb_client.OvsdbClient:
        """The OVSDB client for the configured connection."""
        return ovsdb_client.OvsdbClient(
            self.config.ovsdb_connection,
            self.config.ovs_vsctl_timeout,
            ovsdb_client.TlsFiles.from_config(self.config),
        )

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """SR-IOV discovery under :attr:`sysfs_root`."""
        return sysfs.SwitchdevDiscovery(self.sysfs_root)

    def describe(self) -> host_info.HostPluginInfo:
        """Report each VIF type, its versions and its port profiles."""
        return description.plugin_info("ovs", SUPPORTED)

    # -- plug --------------------------------------------------------------

    def plug_plan(self, vif: Any, instance_info: Any) -> plan.Plan:
        """Discover, then build the plan that plugs ``vif``."""
        found = plan.discover(vif, self.discovery)
        return plan.plug_plan(vif, instance_info, self.config, found)

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Check ``vif`` as plug and the daemon would; change nothing."""
        self.host.validate(self.plug_plan(vif, instance_info))

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Plug ``vif``; change nothing if it is plugged already."""
        self.host.run(self.plug_plan(vif, instance_info), self.ovsdb)

    # -- check and gc ------------------------------------------------------

    def check(self, vif: Any, instance_info: Any) -> host_state.CheckReport:
        """Report what differs on the host from plugging ``vif`` (no change).

        Reads netlink, sysfs and the OVSDB cache only.
        """
        return checking.report(
            self.host.check(self.plug_plan(vif, instance_info), self.ovsdb)
        )

    def check_many(self, pairs: Any) -> list[host_state.CheckReport]:
        """:meth:`check` every pair against one dump of the kernel's links."""
        return checking.check_many(pairs, self.check, self.ovsdb)

    def gc(
        self, keep: Any, dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove what os_vif made for VIFs not in ``keep``.

        See :mod:`.collect` for what counts as the plugin's own.
        """
        return collect.collect(self, keep, dry_run)

    # -- unplug ------------------------------------------------------------

    def unplug(self, vif: Any, instance_info: Any) -> None:
        """Unplug ``vif``; what is gone already is skipped."""
        try:
            found = plan.discover(vif, self.discovery, unplug=True)
        except exception.DeviceDiscoveryFailed as err:
            # The VF or its representor is gone from sysfs (driver
            # unloaded, VFs re-created); its port may still be in OVSDB.
            LOG.info(
                "VIF %s: %s; removing its ports by iface-id",
                vif.obj_attr_is_set("id") and vif.id,
                err,
            )
            self.host.run(
                plan.vanished_plan(vif), self.ovsdb, runner.Order.OVSDB_FIRST
            )
            return
        self.host.run(
            plan.unplug_plan(vif, instance_info, self.config, found),
            self.ovsdb,
            runner.Order.OVSDB_FIRST,
        )

    # -- batches -----------------------------------------------------------

    def _plug_job(self, vif: Any, instance_info: Any) -> batch.Job:
        return batch.Job(
            self.plug_plan(vif, instance_info), key=batch.vif_key(vif)
        )

    def _unplug_job(self, vif: Any, instance_info: Any) -> batch.Job:
        try:
            found = plan.discover(vif, self.discovery, unplug=True)
        except exception.DeviceDiscoveryFailed as err:
            LOG.info(
                "VIF %s: %s; removing its ports by iface-id",
                vif.obj_attr_is_set("id") and vif.id,
                err,
            )
            return batch.Job(plan.vanished_plan(vif), key=batch.vif_key(vif))
        return batch.Job(
            plan.unplug_plan(vif, instance_info, self.config, found),
            key=batch.vif_key(vif),
        )

    def plug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Plug many VIFs: their plans in one check, call and transaction.

        Every VIF's plan is built first (a VIF with bad input gets its
        error); then, per chunk of :data:`os_vif.plugins.batch.CHUNK`, one
        check of the host, one privileged call and one OVSDB transaction
        for all that need a change.  A VIF already plugged is
        ``UNCHANGED``; one that fails is undone alone.
        """
        return batch.run(
            self.host, pairs, self._plug_job, lambda: self.ovsdb, progress
        )

    def unplug_many(
        self, pairs: Any, progress: host_state.Progress | None = None
    ) -> list[host_state.VIFResult]:
        """Unplug many VIFs as :meth:`plug_many` plugs them.

        One OVSDB transaction removes the ports of a chunk, then one
        privileged call deletes their devices.  ``UNCHANGED``: nothing of
        the VIF was on the host.
        """
        return batch.run(
            self.host,
            pairs,
            self._unplug_job,
            lambda: self.ovsdb,
            progress,
            runner.Order.TOGETHER,
        )
