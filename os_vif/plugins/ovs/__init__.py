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

A plug is a plan (:mod:`.plan`): kernel steps run first, in one call to
the privsep daemon, then the OVSDB changes in one transaction.  A re-plug
reads the kernel (netlink, unprivileged) and the IDL cache first and, when
nothing differs, calls neither the daemon nor ovsdb-server.  When the OVSDB
transaction fails, the devices this plug created are deleted again; when a
kernel step fails, the daemon has undone the plan's earlier steps.
"""

from __future__ import annotations

import logging
from typing import Any

from os_vif import exception
from os_vif.internal import host_ops, linkstate, sysfs
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.ovsdb import model
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import description
from os_vif.plugins.ovs import kernel_state, naming, options, plan

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
        self.host = host_ops.OVS
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
    def ovsdb(self) -> ovsdb_client.OvsdbClient:
        """The OVSDB client for the configured connection."""
        return ovsdb_client.OvsdbClient(
            self.config.ovsdb_connection, self.config.ovs_vsctl_timeout
        )

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """SR-IOV discovery under :attr:`sysfs_root`."""
        return sysfs.SwitchdevDiscovery(self.sysfs_root)

    def describe(self) -> host_info.HostPluginInfo:
        """Report each VIF type, its versions and its port profiles."""
        return description.plugin_info("ovs", SUPPORTED)

    # -- plug --------------------------------------------------------------

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Raise what :meth:`plug` would for bad input; change nothing.

        Builds the plan of the plug (reading sysfs and the kernel for
        representors, as a plug does) and checks its kernel steps'
        arguments as the privileged daemon will.
        """
        wanted = plan.plug_plan(
            vif, instance_info, self.config, self.discovery
        )
        host_ops.validate(wanted.kernel + wanted.restore)

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Plug ``vif``; change nothing if it is plugged already."""
        wanted = plan.plug_plan(
            vif, instance_info, self.config, self.discovery
        )
        self.apply(wanted)

    def apply(self, wanted: plan.PlugPlan) -> None:
        """Carry out a plug plan, leaving nothing behind if it fails.

        The kernel steps (in the privsep daemon) and the OVSDB transaction
        (in the IDL connection's thread, answered by ovsdb-server) are
        independent -- ovs-vswitchd opens a port's device whenever it
        appears -- so they run at the same time.  If either fails, what
        the other did is undone: the devices this plug created are
        deleted, the rows it added are removed.
        """
        ovsdb = self.ovsdb
        kernel_needed = bool(wanted.kernel) and not kernel_state.satisfied(
            wanted.kernel
        )
        if not kernel_needed:
            ovsdb.ensure(wanted.bridges, wanted.ports)
            return
        existed = {
            name: linkstate.device_exists(name) for name in wanted.created
        }
        rows_existed = ovsdb.existing(wanted.bridges, wanted.ports)
        pending = ovsdb.ensure_start(wanted.bridges, wanted.ports)
        try:
            self.host.run(wanted.kernel)
        except BaseException:
            # The daemon undid its own steps; take the rows back too.
            if pending is not None:
                self._undo_rows(ovsdb, pending, wanted, rows_existed)
            raise
        if pending is None:
            return
        try:
            pending.wait()
        except BaseException:
            undo = [
                host_ops.delete_device(name)
                for name in wanted.created
                if not existed[name]
            ]
            try:
                self.host.run(undo + wanted.restore)
            except Exception as err:
                LOG.warning("Could not undo a failed plug: %s", err)
            raise

    @staticmethod
    def _undo_rows(
        ovsdb: ovsdb_client.OvsdbClient,
        pending: ovsdb_client.PendingCommit,
        wanted: plan.PlugPlan,
        rows_existed: tuple[set[str], set[str]],
    ) -> None:
        try:
            pending.wait()
        except Exception:
            return  # never committed: nothing to take back
        try:
            ovsdb.undo_ensure(wanted.bridges, wanted.ports, rows_existed)
        except Exception as err:
            LOG.warning("Could not undo the OVSDB rows of a plug: %s", err)

    # -- unplug ------------------------------------------------------------

    def _unplug_vanished(
        self, vif: Any, err: exception.DeviceDiscoveryFailed
    ) -> None:
        """Remove the ports of a VIF whose device cannot be found."""
        iface_id, mac = plan.vif_identity(vif)
        names = self.ovsdb.ports_of_vif(iface_id, mac)
        if not names:
            LOG.info("Nothing to unplug for VIF %s: %s", vif.id, err)
            return
        LOG.info(
            "VIF %s: %s; removing its ports %s, found by iface-id %s",
            vif.id,
            err,
            ", ".join(names),
            iface_id,
        )
        self.ovsdb.remove([model.PortRemoval(name) for name in names])

    def unplug(self, vif: Any, instance_info: Any) -> None:
        """Unplug ``vif``; what is gone already is skipped."""
        try:
            wanted = plan.unplug_plan(
                vif, instance_info, self.config, self.discovery
            )
        except exception.DeviceDiscoveryFailed as err:
            # The VF or its representor is gone from sysfs (driver
            # unloaded, VFs re-created); its port may still be in OVSDB.
            self._unplug_vanished(vif, err)
            return
        self.ovsdb.remove(wanted.removals)
        gone = [
            step
            for step in wanted.kernel
            if step.operation == "delete_device"
            and not linkstate.device_exists(step.arguments["name"])
        ]
        remaining = [step for step in wanted.kernel if step not in gone]
        if remaining:
            self.host.run(remaining)
