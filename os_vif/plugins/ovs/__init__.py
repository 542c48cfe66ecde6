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
operations in one call to the privsep daemon, then the OVSDB changes in
one transaction (an unplug removes the ports first).  A re-plug reads
the kernel (netlink, unprivileged) and the IDL cache first and, when
nothing differs, calls neither the daemon nor ovsdb-server.  A failure
anywhere undoes the whole plug (:mod:`os_vif.internal.unprivileged.
runner`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from os_vif import exception, host_state
from os_vif.internal.ovsdb.client import OvsdbClient, TlsFiles
from os_vif.internal.unprivileged import runner, sysfs
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import host_info
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.plugins import base, description, rules
from os_vif.plugins.ovs import collect, naming, options, plan

__all__ = ["OvsPlugin", "SUPPORTED"]

LOG = logging.getLogger(__name__)

_OVS_PROFILE = vif_objects.VIFPortProfileOpenVSwitch
_REPRESENTOR_PROFILE = vif_objects.VIFPortProfileOVSRepresentor
_Instance = instance_info_objects.InstanceInfo

#: The VIF types the plugin plugs, with the port profiles each accepts.
SUPPORTED = (
    (vif_objects.VIFBridge, (_OVS_PROFILE,)),
    (vif_objects.VIFOpenVSwitch, (_OVS_PROFILE,)),
    (vif_objects.VIFVHostUser, (_OVS_PROFILE, _REPRESENTOR_PROFILE)),
    (vif_objects.VIFHostDevice, (_REPRESENTOR_PROFILE,)),
)


class OvsPlugin(base.HostPlugin[plan.Discovered, options.Options]):
    """Plugs VIFs into Open vSwitch (see the module documentation).

    Discovery and plans: :mod:`.plan`; :class:`~os_vif.plugins.base.
    HostPlugin` runs them.
    """

    CONFIG_OPTS = options.OPTS
    #: The ovs daemon family (the offload plugin's too).
    RUNNER = runner.OVS
    WORKLOAD_TYPES = (vif_objects.VIFOpenVSwitch, vif_objects.VIFBridge)

    #: ``gen_port_name(prefix, vif_id)``: the device name os-vif 5.x's
    #: plugin derived from a VIF id (kuryr-kubernetes calls it).
    gen_port_name = staticmethod(naming.port_name)

    def __init__(self, config: options.Options) -> None:
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
    def ovsdb(self) -> OvsdbClient:
        """The OVSDB client for the configured connection."""
        return OvsdbClient(
            self.config.ovsdb_connection,
            self.config.ovs_vsctl_timeout,
            TlsFiles.from_config(self.config),
        )

    def ovsdb_client(self) -> OvsdbClient:
        """Every plan of this plugin has OVSDB operations: :attr:`ovsdb`."""
        return self.ovsdb

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """SR-IOV discovery under :attr:`sysfs_root`."""
        return sysfs.SwitchdevDiscovery(self.sysfs_root)

    def describe(self) -> host_info.HostPluginInfo:
        """Report each VIF type, its versions and its port profiles."""
        return description.plugin_info("ovs", SUPPORTED)

    def discover(
        self,
        vif: vif_objects.VIFBase,
        instance_info: _Instance,
        *,
        unplug: bool = False,
    ) -> plan.Discovered:
        """SR-IOV devices, a hybrid ``qbr`` (see :func:`.plan.discover`)."""
        return plan.discover(vif, self.discovery, unplug=unplug)

    def workload_host_end(self, vif: vif_objects.VIFBase) -> base.HostEnd:
        """The VIF's device name: an OVS port, or a port of the hybrid
        ``qbr``."""
        name, master = plan.workload_host_end(vif, self.config)
        return base.HostEnd(name, master, rules.mtu(vif, self.config))

    def workload_plug_plan(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
        workload: workload_objects.WorkloadInterface,
    ) -> Plan:
        """The base's plan, with the VIF's OVS port made in any case."""
        return plan.with_workload_port(
            super().workload_plug_plan(vif, instance_info, workload),
            vif,
            instance_info,
            self.config,
        )

    def plans(self) -> base.Plans[plan.Discovered, options.Options]:
        """:mod:`.plan`."""
        return plan

    def gc(
        self, keep: Sequence[vif_objects.VIFBase], dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove what os_vif made for VIFs not in ``keep``.

        See :mod:`.collect` for what counts as the plugin's own.
        """
        return collect.collect(self.host, self.ovsdb, keep, dry_run)
