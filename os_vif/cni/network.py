"""os-vif's part of a CNI network configuration, and the VIF it makes.

The configuration names the VIF to make; addresses come from the IPAM
plugin it delegates to::

    {
      "cniVersion": "1.1.0",
      "name": "tenant-a",
      "type": "os-vif-cni",
      "plugin": "ovs",
      "vifType": "VIFOpenVSwitch",
      "bridge": "br-int",
      "mtu": 1450,
      "options": {"datapathType": "system"},
      "ipam": {"type": "host-local", "subnet": "10.10.0.0/24"}
    }

What each plugin and VIF type takes:

==============  ==================  ==========================================
``plugin``      ``vifType``         ``options``
==============  ==================  ==========================================
``ovs``         ``VIFOpenVSwitch``  ``datapathType``
``ovs``         ``VIFBridge``       ``datapathType``, ``filtering`` (hybrid)
``linux_bridge`` ``VIFBridge``      ``uplink``, ``vlan``, ``filtering``
``noop``        ``VIFMacvlanNested`` ``parent`` (required)
``noop``        ``VIFVlanNested``   ``parent``, ``vlanId`` (both required)
==============  ==================  ==========================================

The VIF's id is derived from the network name, the container id and the
interface name (the same attachment always gets the same VIF), its MAC
from the id unless the runtime asks for one (``runtimeConfig.mac``, the
``mac`` capability), its host device name as nova names a port's
(``tap`` + the first 11 characters of the id).

Only the public API of os_vif is used: this is a client of os_vif, as nova
and kuryr are.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import uuid
from collections.abc import Mapping
from typing import Any

from os_vif.cni import protocol
from os_vif.cni.protocol import CniError, ErrorCode
from os_vif.objects import fixed_ip, network, route, subnet
from os_vif.objects import vif as vif_objects

__all__ = ["VIF_NAMESPACE", "OsVifConf", "build_vif", "add_result"]

#: The namespace of the VIF ids this plugin derives (uuid5).
VIF_NAMESPACE = uuid.UUID("6f8b1c3e-2d4a-5e6f-9a0b-1c2d3e4f5a6b")

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")

# plugin -> vifType -> {option: (type, required)}
_OPTIONS: dict[str, dict[str, dict[str, tuple[type, bool]]]] = {
    "ovs": {
        "VIFOpenVSwitch": {"datapathType": (str, False)},
        "VIFBridge": {"datapathType": (str, False),
                      "filtering": (bool, False)},
    },
    "linux_bridge": {
        "VIFBridge": {"uplink": (str, False), "vlan": (int, False),
                      "filtering": (bool, False)},
    },
    "noop": {
        "VIFMacvlanNested": {"parent": (str, True)},
        "VIFVlanNested": {"parent": (str, True), "vlanId": (int, True)},
    },
}
_DEFAULT_TYPE = {"ovs": "VIFOpenVSwitch", "linux_bridge": "VIFBridge"}
_DEFAULT_BRIDGE = {"ovs": "br-int"}


def _invalid(key: str, value: Any, why: str) -> CniError:
    return CniError(ErrorCode.INVALID_CONFIG, "%s %s" % (key, why),
                    "%s=%r" % (key, value))


@dataclasses.dataclass(frozen=True)
class OsVifConf:
    """The VIF a network configuration asks for."""

    plugin: str
    vif_type: str
    bridge: str
    mtu: int | None
    options: Mapping[str, Any]
    is_default_gateway: bool
    #: The network's id: ``networkId``, or derived from its name.
    network_id: str

    @classmethod
    def parse(cls, conf: protocol.NetConf) -> OsVifConf:
        """Read os-vif's keys of ``conf``; a bad one is a CNI error."""
        raw = conf.raw
        plugin = raw.get("plugin")
        if plugin not in _OPTIONS:
            raise _invalid("plugin", plugin, "must be one of %s"
                           % ", ".join(sorted(_OPTIONS)))
        vif_type = raw.get("vifType", _DEFAULT_TYPE.get(plugin))
        if vif_type not in _OPTIONS[plugin]:
            raise _invalid("vifType", vif_type, "must be one of %s for "
                           "plugin %s" % (", ".join(_OPTIONS[plugin]), plugin))
        bridge = raw.get("bridge", _DEFAULT_BRIDGE.get(plugin, ""))
        if plugin != "noop" and (not isinstance(bridge, str) or not bridge
                                 or len(bridge) > 15):
            raise _invalid("bridge", bridge,
                           "must be a device name (1 to 15 characters)")
        mtu = raw.get("mtu")
        if mtu is not None and (isinstance(mtu, bool)
                                or not isinstance(mtu, int)
                                or not 68 <= mtu <= 65535):
            raise _invalid("mtu", mtu, "must be an integer from 68 to 65535")
        gateway = raw.get("isDefaultGateway", True)
        if not isinstance(gateway, bool):
            raise _invalid("isDefaultGateway", gateway, "must be a boolean")
        options = raw.get("options", {})
        if not isinstance(options, dict):
            raise _invalid("options", options, "must be an object")
        wanted = _OPTIONS[plugin][vif_type]
        for key, value in options.items():
            if key not in wanted:
                # The spec's code for a field this plugin does not support;
                # its message names the key and the value.
                raise CniError(
                    ErrorCode.UNSUPPORTED_FIELD,
                    "options.%s is not supported for %s %s (supported: %s)"
                    % (key, plugin, vif_type, ", ".join(wanted) or "none"),
                    "options.%s=%r" % (key, value))
            kind, _required = wanted[key]
            if isinstance(value, bool) != (kind is bool) or not isinstance(
                    value, kind):
                raise _invalid("options." + key, value,
                               "must be a " + kind.__name__)
        for key, (_kind, required) in wanted.items():
            if required and key not in options:
                raise _invalid("options." + key, None, "is required for %s"
                               % vif_type)
        for key in ("vlan", "vlanId"):
            if key in options and not 1 <= options[key] <= 4094:
                raise _invalid("options." + key, options[key],
                               "must be from 1 to 4094")
        network_id = raw.get("networkId")
        if network_id is None:
            network_id = str(uuid.uuid5(VIF_NAMESPACE, "network:" + conf.name))
        else:
            try:
                network_id = str(uuid.UUID(network_id))
            except (TypeError, ValueError, AttributeError):
                raise _invalid("networkId", network_id,
                               "must be a UUID") from None
        return cls(plugin=plugin, vif_type=vif_type,
                   bridge=bridge if plugin != "noop" else "",
                   mtu=mtu, options=dict(options),
                   is_default_gateway=gateway, network_id=network_id)


def vif_id(network_name: str, container_id: str, ifname: str) -> str:
    """The id of the VIF of one attachment (always the same)."""
    return str(uuid.uuid5(VIF_NAMESPACE, "%s/%s/%s" % (
        network_name, container_id, ifname)))


def _mac(conf: protocol.NetConf, vid: str) -> str:
    runtime = conf.raw.get("runtimeConfig") or {}
    wanted = runtime.get("mac") if isinstance(runtime, dict) else None
    if wanted is not None:
        if not isinstance(wanted, str) or not _MAC.match(wanted.lower()):
            raise _invalid("runtimeConfig.mac", wanted,
                           "must be a MAC address (aa:bb:cc:dd:ee:ff)")
        return wanted.lower()
    # A locally administered unicast address from the id.
    raw = uuid.UUID(vid).bytes
    return "02:" + ":".join("%02x" % b for b in raw[:5])


def _subnets(ipam: protocol.Result, default_gateway: bool) -> Any:
    by_cidr: dict[str, Any] = {}
    for ip in ipam.ips:
        iface = ipaddress.ip_interface(ip.address)
        cidr = str(iface.network)
        sub = by_cidr.get(cidr)
        if sub is None:
            sub = subnet.Subnet(cidr=cidr, ips=fixed_ip.FixedIPList(
                objects=[]), routes=route.RouteList(objects=[]),
                dns=list(ipam.dns.nameservers))
            # A subnet without a gateway is valid: the field stays unset.
            if ip.gateway:
                sub.gateway = ip.gateway
            by_cidr[cidr] = sub
        sub.ips.objects.append(fixed_ip.FixedIP(address=str(iface.ip)))
    for rt in ipam.routes:
        dst = ipaddress.ip_network(rt.dst)
        if dst.prefixlen == 0 and not default_gateway:
            continue
        for cidr, sub in by_cidr.items():
            if ipaddress.ip_network(cidr).version != dst.version:
                continue
            gateway = rt.gw or (str(sub.gateway)
                                if sub.obj_attr_is_set("gateway") else "")
            if gateway:
                sub.routes.objects.append(route.Route(cidr=rt.dst,
                                                      gateway=gateway))
            break
    return subnet.SubnetList(objects=list(by_cidr.values()))


def build_vif(conf: protocol.NetConf, osvif: OsVifConf,
              call: protocol.Call, ipam: protocol.Result) -> Any:
    """The VIF of one attachment, its subnets from the IPAM result."""
    vid = vif_id(conf.name, call.container_id, call.ifname)
    net = network.Network(id=osvif.network_id, label=conf.name,
                          subnets=_subnets(ipam, osvif.is_default_gateway))
    if osvif.bridge:
        net.bridge = osvif.bridge
    if osvif.mtu is not None:
        net.mtu = osvif.mtu
    common: dict[str, Any] = {
        "id": vid,
        "address": _mac(conf, vid),
        "network": net,
        "plugin": osvif.plugin,
    }
    options = osvif.options
    tap = "tap" + vid[:11]
    if osvif.vif_type == "VIFOpenVSwitch":
        return vif_objects.VIFOpenVSwitch(
            vif_name=tap, bridge_name=osvif.bridge,
            port_profile=vif_objects.VIFPortProfileOpenVSwitch(
                interface_id=vid,
                datapath_type=options.get("datapathType"),
                create_port=True),
            **common)
    if osvif.vif_type == "VIFBridge" and osvif.plugin == "ovs":
        return vif_objects.VIFBridge(
            vif_name=tap, bridge_name="qbr" + vid[:11],
            has_traffic_filtering=options.get("filtering", False),
            port_profile=vif_objects.VIFPortProfileOpenVSwitch(
                interface_id=vid,
                datapath_type=options.get("datapathType")),
            **common)
    if osvif.vif_type == "VIFBridge":
        net.should_provide_bridge = True
        if "uplink" in options:
            net.bridge_interface = options["uplink"]
        if "vlan" in options:
            net.vlan = options["vlan"]
            net.should_provide_vlan = True
        return vif_objects.VIFBridge(
            vif_name=tap, bridge_name=osvif.bridge,
            has_traffic_filtering=options.get("filtering", False),
            **common)
    if osvif.vif_type == "VIFVlanNested":
        return vif_objects.VIFVlanNested(
            vif_name=call.ifname, vlan_id=options["vlanId"], **common)
    return vif_objects.VIFMacvlanNested(vif_name=call.ifname, **common)


def host_device(vif: Any) -> str:
    """The name of the VIF's host end ("" for a nested VIF: none)."""
    if isinstance(vif, (vif_objects.VIFVlanNested,
                        vif_objects.VIFMacvlanNested)):
        return ""
    return str(vif.vif_name)


def add_result(vif: Any, call: protocol.Call, ipam: protocol.Result,
               mtu: int | None) -> protocol.Result:
    """ADD's result: the host end (if any), the container's interface with
    its namespace, and the IPAM result's addresses on it."""
    interfaces = []
    host = host_device(vif)
    if host:
        interfaces.append(protocol.Interface(name=host))
    interfaces.append(protocol.Interface(
        name=call.ifname, mac=str(vif.address), mtu=mtu,
        sandbox=call.netns))
    index = len(interfaces) - 1
    ips = tuple(dataclasses.replace(ip, interface=index) for ip in ipam.ips)
    return protocol.Result(interfaces=tuple(interfaces), ips=ips,
                           routes=ipam.routes, dns=ipam.dns)
