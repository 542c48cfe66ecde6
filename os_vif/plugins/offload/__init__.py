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
   itself if a step fails; the OVS port is written only after it (and a
   failed transaction undoes it).

A VF whose PF is in legacy mode and whose port profile asks for no offload
gets step 3's VF settings only (classic SR-IOV).  Unplugging detaches the
representor, takes it down, clears the VF's VLAN and resets its MAC (as
the options say); what is already gone is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from os_vif import host_state
from os_vif.internal.ovsdb.client import OvsdbClient
from os_vif.internal.unprivileged import runner, sysfs
from os_vif.objects import host_info
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins import base, description, rules
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

_Instance = instance_info_objects.InstanceInfo


class OffloadPlugin(base.HostPlugin[port.Found, options.Options]):
    """Plugs SR-IOV VFs and attaches their switchdev representors.

    Discovery: :mod:`.port`; plans: :mod:`.plan`;
    :class:`~os_vif.plugins.base.HostPlugin` runs them.
    """

    CONFIG_OPTS = options.OPTS
    #: The ovs plugin's daemon family.
    RUNNER = runner.OVS

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """Discovery under the configured sysfs root (read on every use)."""
        return sysfs.SwitchdevDiscovery(self.config.sysfs_root)

    @property
    def ovsdb(self) -> OvsdbClient:
        """The OVSDB client for the configured connection."""
        return OvsdbClient(
            self.config.ovsdb_connection, self.config.ovsdb_timeout
        )

    def ovsdb_client(self) -> OvsdbClient:
        """:attr:`ovsdb`: for representors attached to Open vSwitch."""
        return self.ovsdb

    def batch_ovsdb(self) -> None:
        """None: a batch of checks holds no OVSDB cache.

        A host of legacy-mode VFs (classic SR-IOV) may have no
        ovsdb-server; a check connects only when its VIF's plan has OVSDB
        operations.
        """
        return None

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFHostDevice and VIFDirect with their port profiles."""
        return description.plugin_info(
            "offload",
            ((vif, SUPPORTED_PROFILES) for vif in SUPPORTED_VIFS),
        )

    def discover(
        self,
        vif: vif_objects.VIFBase,
        instance_info: _Instance,
        *,
        unplug: bool = False,
    ) -> port.Found:
        """The VF and its representor (see :func:`.port.discover`)."""
        return port.discover(
            vif, instance_info, self.config, self.discovery, unplug=unplug
        )

    def plans(self) -> base.Plans[port.Found, options.Options]:
        """:mod:`.plan`."""
        return plan

    def best_effort(
        self,
        vif: vif_objects.VIFBase,
        instance_info: _Instance,
        found: port.Found,
    ) -> str | None:
        """A VF gone from sysfs: looking for its OVS port is best effort.

        The VF is gone either way (driver reloaded, VFs re-created); a
        port left behind is logged with what finds it, rather than failing
        the unplug.
        """
        if found.vf is not None:
            return None
        return "its OVS port (iface-id %s)" % rules.ovs_interface_id(vif)

    def gc(
        self, keep: Sequence[vif_objects.VIFBase], dry_run: bool = False
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
