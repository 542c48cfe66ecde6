"""The ``offload`` plugin: SR-IOV VFs and their switchdev representors.

With a NIC whose embedded switch is in ``switchdev`` mode, the guest gets
an SR-IOV virtual function (VF) and the host sees a *representor* netdev
for it; whatever the host does to the representor (bridge it, give it an
MTU) applies to the VF's traffic, and the NIC offloads the forwarding.

For a :class:`~os_vif.objects.vif.VIFHostDevice` (``dev_type``
``ethernet``, the VF passed through to the guest) or a
:class:`~os_vif.objects.vif.VIFDirect` (a macvtap on the VF), plugging:

1. checks the VIF and finds the VF, its PF and its representor in sysfs
   (:mod:`os_vif.internal.sysfs`), before touching the host;
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

from os_vif import exception
from os_vif.internal import host_ops, sysfs
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import description
from os_vif.plugins.offload import options, ovs_attachment, port

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
    """Plugs SR-IOV VFs and attaches their switchdev representors."""

    CONFIG_OPTS = options.OPTS

    def __init__(self, config: Any) -> None:
        """Keep the ``[os_vif_offload]`` options."""
        super().__init__(config)
        self.host = host_ops.OVS

    @property
    def discovery(self) -> sysfs.SwitchdevDiscovery:
        """Discovery under the configured sysfs root (read on every use)."""
        return sysfs.SwitchdevDiscovery(self.config.sysfs_root)

    def _ovs(self) -> ovs_attachment.OvsAttachment:
        return ovs_attachment.OvsAttachment(
            self.config.ovsdb_connection, self.config.ovsdb_timeout
        )

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFHostDevice and VIFDirect with their port profiles."""
        return description.plugin_info(
            "offload",
            ((vif, SUPPORTED_PROFILES) for vif in SUPPORTED_VIFS),
        )

    # -- plug --------------------------------------------------------------

    def _vf_step(self, offloaded: port.OffloadedPort) -> host_ops.Step:
        settings = offloaded.settings
        return host_ops.set_vf(
            offloaded.vf.pf_ifname,
            offloaded.vf.vf_index,
            mac=settings.mac,
            vlan=settings.vlan,
            spoofchk=settings.spoofchk,
            trust=settings.trust,
            link_state=settings.link_state,
        )

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Raise what :meth:`plug` would for bad input; change nothing.

        Finds the VF and its representor in sysfs as a plug does, and
        checks the arguments of the privileged steps as the daemon will.
        """
        offloaded = port.describe_port(
            vif, instance_info, self.config, self.discovery
        )
        steps = [self._vf_step(offloaded)]
        representor, switch = offloaded.representor, offloaded.switch
        if representor is not None and switch is not None:
            bridged = switch.kind == options.SWITCH_LINUX_BRIDGE
            steps.append(
                host_ops.set_link(
                    representor.ifname,
                    mtu=offloaded.mtu,
                    up=True,
                    master=switch.bridge if bridged else None,
                )
            )
            if bridged:
                steps.append(host_ops.ensure_bridge(switch.bridge))
        host_ops.validate(steps)

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Configure the VF and attach its representor (see the module)."""
        offloaded = port.describe_port(
            vif, instance_info, self.config, self.discovery
        )
        # The VF is configured last: its settings are the ones a driver
        # may fail to report, and so the ones an undo may not restore.
        vf_step = self._vf_step(offloaded)
        representor = offloaded.representor
        switch = offloaded.switch
        if representor is None or switch is None:
            self.host.run([vf_step])
            return
        if switch.kind == options.SWITCH_LINUX_BRIDGE:
            self.host.run(
                [
                    host_ops.ensure_bridge(switch.bridge),
                    host_ops.set_link(
                        representor.ifname,
                        mtu=offloaded.mtu,
                        up=True,
                        master=switch.bridge,
                    ),
                    vf_step,
                ]
            )
            return
        ovs = self._ovs()
        made = ovs.attach(representor.ifname, switch)
        try:
            self.host.run(
                [
                    host_ops.set_link(
                        representor.ifname, mtu=offloaded.mtu, up=True
                    ),
                    vf_step,
                ]
            )
        except Exception:
            try:
                ovs.undo(representor.ifname, switch, made)
            except Exception as err:
                LOG.warning(
                    "Could not remove OVS port %s after a failed plug: %s",
                    representor.ifname,
                    err,
                )
            raise

    # -- unplug ------------------------------------------------------------

    def _detach_vanished(self, vif: Any, instance_info: Any) -> None:
        """Remove the OVS port of a representor that cannot be named.

        The VF (or its representor) left sysfs -- driver reloaded, VFs
        re-created -- but the port the plug added may still be in OVSDB.
        """
        switch = port.switch_port(vif, instance_info, self.config)
        if switch.kind != options.SWITCH_OVS:
            return
        try:
            removed = self._ovs().detach_vif(switch)
        except exception.HostOperationFailed as err:
            # The VF is gone either way; a port left behind is logged
            # with what finds it, rather than failing the unplug.
            LOG.warning(
                "VIF %s: could not look for its OVS port (iface-id %s): %s",
                vif.id,
                switch.external_ids.get("iface-id"),
                err,
            )
            return
        if removed:
            LOG.info(
                "Removed OVS ports %s of VIF %s, found by its iface-id",
                ", ".join(removed),
                vif.id,
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
        representor: sysfs.Representor | None
        try:
            representor = discovery.vf_representor(vf)
        except exception.DeviceDiscoveryFailed as err:
            # Legacy mode (no representors), or a representor that went
            # while its VF stayed: nothing was, or can be, found to detach.
            LOG.debug("VF %s has no representor to detach: %s", address, err)
            representor = None
        plan: list[host_ops.Step] = []
        switch = None
        if representor is not None:
            switch = port.switch_port(vif, instance_info, self.config)
            if switch.kind == options.SWITCH_OVS:
                self._ovs().detach(representor.ifname)
            device = host_ops.get_device(representor.ifname)
            if device is not None:
                # Release the representor only from the bridge it was
                # attached to, never from a master someone else gave it.
                plan.append(
                    host_ops.set_link(
                        representor.ifname,
                        up=False,
                        nomaster=device.master == switch.bridge
                        and switch.kind == options.SWITCH_LINUX_BRIDGE,
                    )
                )
            if switch.kind == options.SWITCH_LINUX_BRIDGE:
                plan.append(host_ops.remove_bridge_if_unused(switch.bridge))
        if host_ops.device_exists(vf.pf_ifname):
            plan.append(
                host_ops.set_vf(
                    vf.pf_ifname,
                    vf.vf_index,
                    vlan=0,
                    mac=(
                        port.ZERO_MAC
                        if self.config.reset_vf_mac_on_unplug
                        else None
                    ),
                )
            )
        self.host.run(plan)
