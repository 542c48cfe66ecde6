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
  :mod:`os_vif.internal.firewall`);
* with ``create_tap``, the tap ``vif.vif_name``, attached to the bridge,
  with the guest's MAC but a first octet of ``fe`` (as libvirt does).

Unplug deletes the tap if ``create_tap``, then the bridge if os_vif made
it and only its uplink is left (with the VLAN device os_vif made), and the
firewall rules with it.
"""

from __future__ import annotations

from typing import Any

from os_vif import exception
from os_vif.internal import host_ops, validation
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import description
from os_vif.plugins.linux_bridge.options import OPTS

__all__ = ["LinuxBridgePlugin", "PLUGIN_NAME"]

#: The entry point name of this plugin.
PLUGIN_NAME = "linux_bridge"


def _field(obj: Any, name: str, default: Any = None) -> Any:
    """Return ``obj.name``, or ``default`` if the field was never set."""
    if obj is None or not obj.obj_attr_is_set(name):
        return default
    return getattr(obj, name)


class LinuxBridgePlugin(PluginBase):
    """Attach VIFs to Linux bridges, with privileged help from privsep."""

    CONFIG_OPTS = OPTS

    def __init__(self, config: Any) -> None:
        """Keep ``config`` (``CONF.os_vif_linux_bridge``)."""
        super().__init__(config)
        #: The privileged side; a family of its own, as in os-vif.
        self.host = host_ops.LINUX_BRIDGE

    def describe(self) -> host_info.HostPluginInfo:
        """Report VIFBridge 1.0 support, with no port profile."""
        return description.plugin_info(
            PLUGIN_NAME, [(vif_objects.VIFBridge, ())]
        )

    # --- what to make --------------------------------------------------

    def _mtu(self, network: Any) -> int:
        mtu = _field(network, "mtu")
        if mtu is None:
            return int(self.config.network_device_mtu)
        return validation.mtu(mtu, "network.mtu")

    def _uplink(self, network: Any) -> tuple[str | None, str | None, int]:
        """Return (lower interface, VLAN device, VLAN) of the network."""
        bridge_interface = validation.optional_interface_name(
            _field(network, "bridge_interface"), "network.bridge_interface"
        )
        if _field(network, "should_provide_vlan", False):
            vlan = validation.vlan_id(_field(network, "vlan"), "network.vlan")
            lower = self.config.vlan_interface or bridge_interface
            lower = validation.optional_interface_name(
                lower, "vlan_interface"
            )
            if lower is None:
                raise exception.InvalidArgument(
                    field="vlan_interface",
                    value=None,
                    reason="a VLAN network needs vlan_interface or "
                    "network.bridge_interface",
                )
            return lower, "vlan%d" % vlan, vlan
        flat = self.config.flat_interface or bridge_interface
        return (
            validation.optional_interface_name(flat, "flat_interface"),
            None,
            0,
        )

    def _check_vif(self, vif: Any) -> tuple[str, Any]:
        if not isinstance(vif, vif_objects.VIFBridge):
            raise exception.InvalidArgument(
                field="vif",
                value=type(vif).__name__,
                reason="the linux_bridge plugin plugs VIFBridge only",
            )
        bridge = validation.interface_name(
            _field(vif, "bridge_name"), "vif.bridge_name"
        )
        if self.config.create_tap:
            validation.interface_name(_field(vif, "vif_name"), "vif.vif_name")
        return bridge, _field(vif, "network")

    def plug_plan(self, vif: Any) -> list[host_ops.Step]:
        """Return the steps that plug ``vif`` (validated, nothing done)."""
        bridge, network = self._check_vif(vif)
        mtu = self._mtu(network)
        lower, vlan_device, vlan = self._uplink(network)
        plan = [
            host_ops.ensure_bridge(
                bridge, mtu=mtu, disable_ipv6=not self.config.use_ipv6
            )
        ]
        if vlan_device is not None and lower is not None:
            plan += [
                host_ops.set_link(lower, up=True),
                host_ops.ensure_vlan(
                    vlan_device, lower, vlan, mtu=mtu, master=bridge
                ),
            ]
        elif lower is not None:
            plan.append(host_ops.set_link(lower, master=bridge, up=True))
        if not _field(vif, "has_traffic_filtering", False):
            peers = list(self.config.forward_bridge_interface or ["all"])
            plan.append(
                host_ops.allow_bridge_forwarding(
                    bridge,
                    peers=[] if "all" in peers else peers,
                    drop_action=self.config.iptables_drop_action,
                )
            )
        if self.config.create_tap:
            plan.append(
                host_ops.ensure_tap(
                    vif.vif_name,
                    mtu=mtu,
                    master=bridge,
                    mac=self._tap_mac(vif),
                )
            )
        return plan

    @staticmethod
    def _tap_mac(vif: Any) -> str | None:
        """The tap's MAC: the guest's with a first octet of 0xfe.

        As libvirt does for the taps it makes: the host side must not have
        the guest's own address, and a bridge takes the lowest MAC of its
        ports, which 0xfe keeps from being the tap's.
        """
        address = validation.optional_mac_address(
            _field(vif, "address"), "vif.address"
        )
        return None if address is None else "fe" + address[2:]

    def unplug_plan(self, vif: Any) -> list[host_ops.Step]:
        """Return the steps that unplug ``vif`` (validated, nothing done)."""
        bridge, network = self._check_vif(vif)
        lower, vlan_device, _vlan = self._uplink(network)
        plan = []
        if self.config.create_tap:
            plan.append(host_ops.delete_device(vif.vif_name))
        uplink = vlan_device or lower
        plan += [
            host_ops.remove_bridge_if_unused(
                bridge, uplinks=[uplink] if uplink else []
            ),
            # The rules guard the bridge: they go when it goes.
            host_ops.revoke_bridge_forwarding(bridge, if_absent=True),
        ]
        return plan

    # --- the contract --------------------------------------------------

    def validate_plug(self, vif: Any, instance_info: Any) -> None:
        """Raise what :meth:`plug` would for bad input; change nothing.

        Builds the plan of the plug and checks every step's arguments as
        the privileged daemon will.
        """
        host_ops.validate(self.plug_plan(vif))

    def plug(self, vif: Any, instance_info: Any) -> None:
        """Make the bridge, its uplink and (optionally) the tap of ``vif``.

        Idempotent; on failure nothing this call made is left behind.
        """
        self.host.run(self.plug_plan(vif))

    def unplug(self, vif: Any, instance_info: Any) -> None:
        """Remove what :meth:`plug` made that nothing else uses."""
        self.host.run(self.unplug_plan(vif))
