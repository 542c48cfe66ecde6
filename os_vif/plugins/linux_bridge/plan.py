"""What plugging or unplugging a linux_bridge VIF means, as a plan.

Pure functions: a :class:`~os_vif.objects.vif.VIFBridge`, its instance
and the ``[os_vif_linux_bridge]`` options in (the signature every in-tree
plugin's plans have; this plugin discovers nothing), a
:class:`~os_vif.internal.unprivileged.plan.Plan` out; no host read.
"""

from __future__ import annotations

from os_vif.internal import kernel, validation
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import network as network_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.linux_bridge.options import Options

__all__ = ["plug_plan", "unplug_plan", "tap_mac"]

_Instance = instance_info_objects.InstanceInfo


def _bridge_vif(vif: vif_objects.VIFBase) -> vif_objects.VIFBridge:
    if not isinstance(vif, vif_objects.VIFBridge):
        raise rules.invalid(
            "vif",
            type(vif).__name__,
            "the linux_bridge plugin plugs VIFBridge only",
        )
    return vif


def _bridge(vif: vif_objects.VIFBridge) -> str:
    return validation.interface_name(
        rules.optional(lambda: vif.bridge_name), "vif.bridge_name"
    )


def _tap(vif: vif_objects.VIFBridge) -> str:
    return validation.interface_name(
        rules.optional(lambda: vif.vif_name), "vif.vif_name"
    )


def _uplink(
    network: network_objects.Network | None, config: Options
) -> tuple[str | None, str | None, int]:
    """Return (lower interface, VLAN device, VLAN) of the network."""
    bridge_interface = validation.optional_interface_name(
        None
        if network is None
        else rules.optional(lambda: network.bridge_interface),
        "network.bridge_interface",
    )
    if network is not None and rules.optional(
        lambda: network.should_provide_vlan
    ):
        vlan = validation.vlan_id(
            rules.optional(lambda: network.vlan), "network.vlan"
        )
        lower = validation.optional_interface_name(
            config.vlan_interface or bridge_interface, "vlan_interface"
        )
        if lower is None:
            raise rules.invalid(
                "vlan_interface",
                None,
                "a VLAN network needs vlan_interface or "
                "network.bridge_interface",
            )
        return lower, "vlan%d" % vlan, vlan
    flat = config.flat_interface or bridge_interface
    return (
        validation.optional_interface_name(flat, "flat_interface"),
        None,
        0,
    )


def tap_mac(vif: vif_objects.VIFBase) -> str | None:
    """The tap's MAC: the guest's with a first octet of 0xfe.

    As libvirt does for the taps it makes: the host side must not have the
    guest's own address, and a bridge takes the lowest MAC of its ports,
    which 0xfe keeps from being the tap's.
    """
    address = rules.optional_vif_mac(vif)
    return None if address is None else "fe" + address[2:]


def _label(vif: vif_objects.VIFBase) -> str:
    return str(rules.optional(lambda: vif.id) or "")


def workload_host_end(vif: vif_objects.VIFBase) -> tuple[str, str]:
    """The host end of a workload's veth (the VIF's device name) and the
    bridge it goes on; see :mod:`os_vif.plugins.workload`."""
    bridge_vif = _bridge_vif(vif)
    return _tap(bridge_vif), _bridge(bridge_vif)


def plug_plan(
    vif: vif_objects.VIFBase,
    instance_info: _Instance | None,
    config: Options,
    found: None = None,
) -> Plan:
    """Return the plan that plugs ``vif`` (validated, nothing done)."""
    bridge_vif = _bridge_vif(vif)
    bridge = _bridge(bridge_vif)
    tap = _tap(bridge_vif) if config.create_tap else None
    mtu = rules.mtu(vif, config)
    lower, vlan_device, vlan = _uplink(
        rules.optional(lambda: vif.network), config
    )
    plan = Plan(label=_label(vif))
    # The bridge is the network's: created if missing, set up, used; an
    # existing one is deleted only if os_vif made it (see ownership).
    plan.add(
        kernel.EnsureBridge(
            name=bridge,
            mtu=mtu,
            disable_ipv6=not config.use_ipv6,
            role="bridge",
        )
    )
    if vlan_device is not None and lower is not None:
        plan.add(
            kernel.SetLink(name=lower, up=True, role="uplink"),
            kernel.EnsureVlan(
                name=vlan_device, link=lower, vlan=vlan, mtu=mtu, master=bridge
            ),
        )
    elif lower is not None:
        plan.add(
            kernel.SetLink(name=lower, master=bridge, up=True, role="uplink")
        )
    if not rules.optional(lambda: vif.has_traffic_filtering):
        peers = list(config.forward_bridge_interface or ["all"])
        plan.add(
            kernel.AllowBridgeForwarding(
                name=bridge,
                peers=[] if "all" in peers else peers,
                drop_action=config.iptables_drop_action,
            )
        )
    if tap is not None:
        plan.add(
            kernel.EnsureTap(
                name=tap,
                mtu=mtu,
                master=bridge,
                mac=tap_mac(vif),
                vif_id=rules.optional_vif_id(vif),
            )
        )
    return plan


def unplug_plan(
    vif: vif_objects.VIFBase,
    instance_info: _Instance | None,
    config: Options,
    found: None = None,
) -> Plan:
    """Return the plan that unplugs ``vif`` (nothing done).

    Lenient: a field plug would refuse now drops only the step it names.
    """
    bridge_vif = _bridge_vif(vif)
    plan = Plan(label=_label(vif))
    if config.create_tap:
        tap = rules.lenient(
            lambda: kernel.DeleteDevice(
                name=rules.optional(lambda: bridge_vif.vif_name),
                kind="tun",
                vif_id=rules.optional_vif_id(vif),
            ),
            "the tap",
        )
        if tap is not None:
            plan.add(tap)
    bridge = rules.lenient(lambda: _bridge(bridge_vif), "the bridge")
    if bridge is None:
        return plan
    uplink = rules.lenient(
        lambda: _uplink(rules.optional(lambda: vif.network), config),
        "the uplink",
    )
    lower, vlan_device, _vlan = uplink or (None, None, 0)
    uplinks = [u for u in (vlan_device or lower,) if u]
    return plan.add(
        kernel.RemoveBridgeIfUnused(name=bridge, uplinks=uplinks),
        # The rules guard the bridge: they go when it goes.
        kernel.RevokeBridgeForwarding(name=bridge, if_absent=True),
    )
