"""Deterministic samples of every os-vif object, for wire-compatibility tests.

This module builds the same objects against any implementation of the
``os_vif.objects`` API: the real os-vif releases (run in isolated venvs by
``tools/make_wire_vectors.py`` to produce the committed vectors) and this
project's own objects (in the tests that compare against those vectors).
It therefore uses only constructors and the public module paths of os-vif
(``os_vif.objects.vif``, ``.network``, ``.subnet``, ``.fixed_ip``, ``.route``,
``.instance_info``, ``.host_info``), and nothing newer than Python 3.11.

Older os-vif releases lack some classes and fields: a class that the running
implementation does not have yields no sample, and a field that its class does
not declare is left out (``cls.fields`` decides).  Everything else is fixed:
UUIDs, MAC, IP and PCI addresses, names.

Sample kinds (``Sample.sample_name``):

``populated``
    every field of the object is set, nested objects included (a Network with
    an IPv4 and an IPv6 subnet, each with fixed IPs and routes; port profiles
    with a ``DatapathOffloadRepresentor``; HostInfo trees).  Values differ from
    field defaults where the type allows, so that a default cannot pass for a
    value.
``minimal``
    only a few identifying fields are set; fields with defaults and nested
    objects stay unset, because set-versus-unset must survive the wire.
``nulls``
    like ``populated`` but every nullable field is explicitly ``None``
    (which is not the same as unset on the wire).
``representor``
    (VIFOpenVSwitch only) a VIF carrying a ``VIFPortProfileOVSRepresentor``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

#: Where each object lives in os-vif's public module layout.
OBJECT_MODULES: dict[str, str] = {
    "DatapathOffloadBase": "vif",
    "DatapathOffloadRepresentor": "vif",
    "FixedIP": "fixed_ip",
    "FixedIPList": "fixed_ip",
    "HostInfo": "host_info",
    "HostPluginInfo": "host_info",
    "HostPortProfileInfo": "host_info",
    "HostVIFInfo": "host_info",
    "InstanceInfo": "instance_info",
    "Network": "network",
    "Route": "route",
    "RouteList": "route",
    "Subnet": "subnet",
    "SubnetList": "subnet",
    "VIFBase": "vif",
    "VIFBridge": "vif",
    "VIFDirect": "vif",
    "VIFGeneric": "vif",
    "VIFHostDevice": "vif",
    "VIFNestedDPDK": "vif",
    "VIFOpenVSwitch": "vif",
    "VIFPortProfile8021Qbg": "vif",
    "VIFPortProfile8021Qbh": "vif",
    "VIFPortProfileBase": "vif",
    "VIFPortProfileFPBridge": "vif",
    "VIFPortProfileFPOpenVSwitch": "vif",
    "VIFPortProfileFPTap": "vif",
    "VIFPortProfileK8sDPDK": "vif",
    "VIFPortProfileOVSRepresentor": "vif",
    "VIFPortProfileOpenVSwitch": "vif",
    "VIFVHostUser": "vif",
}

#: Sample kinds, in the order they are produced for each object.
SAMPLE_NAMES: tuple[str, ...] = (
    "populated",
    "minimal",
    "nulls",
    "representor",
)

# Fixed identities, readable in a diff: the last group names the thing.
NETWORK_ID = "6f4cb8a2-6b1c-4c1e-9f0a-00000000e7a1"
VIF_ID = "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1"
INSTANCE_UUID = "9c1f3e2a-5b7d-4e8f-a0b1-00000000c0de"
INTERFACE_ID = "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1"
QBG_INSTANCE_ID = "d2e1c0b9-a8f7-4e6d-9c5b-000000000bb9"
PROJECT_ID = "3d2f0c1b8a7e4f6d9c5b4a3928170605"
VIF_MAC = "fa:16:3e:12:34:56"
TAP_MAC = "fa:16:3e:65:43:21"
VF_PCI = "0000:81:00.2"
REPRESENTOR_PCI = "0000:81:00.3"
DPDK_PCI = "0000:00:04.0"


class Sample(NamedTuple):
    """One sample: the os-vif object name, the sample kind, the object."""

    object_name: str
    sample_name: str
    obj: Any


class _Missing:
    """Marks a value whose class the running implementation lacks."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def load_classes() -> dict[str, type]:
    """Return the object classes the running os-vif implementation has.

    Objects absent from it (older releases) are simply not in the result.
    """
    classes: dict[str, type] = {}
    for name, module_name in OBJECT_MODULES.items():
        try:
            module = importlib.import_module("os_vif.objects." + module_name)
        except ImportError:
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            classes[name] = cls
    return classes


class _Builder:
    """Constructs objects, leaving out what the running release lacks."""

    def __init__(self, classes: dict[str, type]) -> None:
        self.classes = classes

    def has(self, name: str) -> bool:
        return name in self.classes

    def make(self, name: str, /, **values: Any) -> Any:
        """Build ``name`` from the values its class declares as fields.

        Returns ``MISSING`` when the class does not exist here.  A value that
        is ``MISSING`` (a nested object of a missing class) is left unset, and
        lists drop ``MISSING`` members.
        """
        cls = self.classes.get(name)
        if cls is None:
            return MISSING
        fields = cls.fields  # type: ignore[attr-defined]
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in fields or value is MISSING:
                continue
            if isinstance(value, list):
                value = [item for item in value if item is not MISSING]
            kwargs[key] = value
        return cls(**kwargs)

    def first(self, *factories: Callable[[], Any]) -> Any:
        """The first factory result whose class exists (older releases)."""
        for factory in factories:
            value = factory()
            if value is not MISSING:
                return value
        return MISSING


# --- addressing -----------------------------------------------------------


def _fixed_ips_v4(b: _Builder) -> Any:
    return b.make(
        "FixedIPList",
        objects=[
            b.make(
                "FixedIP",
                address="192.168.10.10",
                floating_ips=["203.0.113.10", "203.0.113.11"],
            ),
            b.make("FixedIP", address="192.168.10.11", floating_ips=[]),
        ],
    )


def _routes_v4(b: _Builder) -> Any:
    return b.make(
        "RouteList",
        objects=[
            b.make(
                "Route",
                cidr="10.0.0.0/8",
                gateway="192.168.10.254",
                interface="eth0",
            ),
            b.make(
                "Route",
                cidr="172.16.0.0/12",
                gateway="192.168.10.253",
                interface="eth1",
            ),
        ],
    )


def _subnet_v4(b: _Builder) -> Any:
    return b.make(
        "Subnet",
        cidr="192.168.10.0/24",
        dhcp_server="192.168.10.2",
        dns=["192.168.10.3", "198.51.100.53"],
        gateway="192.168.10.1",
        ips=_fixed_ips_v4(b),
        routes=_routes_v4(b),
    )


def _subnet_v6(b: _Builder) -> Any:
    return b.make(
        "Subnet",
        cidr="2001:db8:10::/64",
        dhcp_server="2001:db8:10::2",
        dns=["2001:db8:10::3"],
        gateway="2001:db8:10::1",
        ips=b.make(
            "FixedIPList",
            objects=[
                b.make(
                    "FixedIP",
                    address="2001:db8:10::10",
                    floating_ips=["2001:db8:ff::10"],
                ),
            ],
        ),
        routes=b.make(
            "RouteList",
            objects=[
                b.make(
                    "Route",
                    cidr="2001:db8:20::/64",
                    gateway="2001:db8:10::fe",
                    interface="eth0",
                ),
            ],
        ),
    )


def _network(b: _Builder) -> Any:
    return b.make(
        "Network",
        id=NETWORK_ID,
        bridge="br-int",
        bridge_interface="eth2",
        label="tenant-net",
        mtu=1450,
        multi_host=True,
        should_provide_bridge=True,
        should_provide_vlan=True,
        vlan=1001,
        subnets=b.make("SubnetList", objects=[_subnet_v4(b), _subnet_v6(b)]),
    )


def _network_nulls(b: _Builder) -> Any:
    return b.make(
        "Network",
        id=NETWORK_ID,
        bridge="br-int",
        bridge_interface=None,
        label="tenant-net",
        mtu=None,
        multi_host=False,
        should_provide_bridge=False,
        should_provide_vlan=False,
        vlan=None,
        subnets=b.make("SubnetList", objects=[]),
    )


# --- port profiles --------------------------------------------------------


def _offload(b: _Builder) -> Any:
    return b.make(
        "DatapathOffloadRepresentor",
        representor_name="enp129s0f0_2",
        representor_address=REPRESENTOR_PCI,
    )


def _offload_or_null(b: _Builder, nulls: bool) -> Any:
    return None if nulls else _offload(b)


def _profile_base(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileBase", datapath_offload=_offload_or_null(b, nulls)
    )


def _profile_ovs(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileOpenVSwitch",
        interface_id=INTERFACE_ID,
        profile_id="ovs-qos-gold",
        datapath_type=None if nulls else "netdev",
        create_port=True,
        create_tap=True,
        multiqueue=True,
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_fp_ovs(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileFPOpenVSwitch",
        interface_id=INTERFACE_ID,
        profile_id="fp-ovs-profile",
        datapath_type=None if nulls else "netdev",
        create_port=True,
        create_tap=True,
        multiqueue=True,
        bridge_name="br-fp",
        hybrid_plug=True,
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_ovs_representor(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileOVSRepresentor",
        interface_id=INTERFACE_ID,
        profile_id="ovs-rep-profile",
        datapath_type=None if nulls else "system",
        create_port=True,
        create_tap=True,
        multiqueue=True,
        representor_name=None if nulls else "enp129s0f0_3",
        representor_address=None if nulls else REPRESENTOR_PCI,
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_fp_bridge(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileFPBridge",
        bridge_name="br-fp-lb",
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_fp_tap(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileFPTap",
        mac_address=None if nulls else TAP_MAC,
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_qbg(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfile8021Qbg",
        manager_id=6,
        type_id=3,
        type_id_version=1,
        instance_id=QBG_INSTANCE_ID,
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_qbh(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfile8021Qbh",
        profile_id="qbh-port-profile-7",
        datapath_offload=_offload_or_null(b, nulls),
    )


def _profile_k8s_dpdk(b: _Builder, nulls: bool = False) -> Any:
    return b.make(
        "VIFPortProfileK8sDPDK",
        l3_setup=True,
        selflink="/api/v1/namespaces/default/pods/dpdk-pod",
        resourceversion="482915",
        datapath_offload=_offload_or_null(b, nulls),
    )


_PROFILES: dict[str, Callable[..., Any]] = {
    "VIFPortProfileBase": _profile_base,
    "VIFPortProfileOpenVSwitch": _profile_ovs,
    "VIFPortProfileFPOpenVSwitch": _profile_fp_ovs,
    "VIFPortProfileOVSRepresentor": _profile_ovs_representor,
    "VIFPortProfileFPBridge": _profile_fp_bridge,
    "VIFPortProfileFPTap": _profile_fp_tap,
    "VIFPortProfile8021Qbg": _profile_qbg,
    "VIFPortProfile8021Qbh": _profile_qbh,
    "VIFPortProfileK8sDPDK": _profile_k8s_dpdk,
}

# A few identifying fields per profile for the minimal samples.
_PROFILE_MINIMAL: dict[str, dict[str, Any]] = {
    "VIFPortProfileBase": {},
    "VIFPortProfileOpenVSwitch": {"interface_id": INTERFACE_ID},
    "VIFPortProfileFPOpenVSwitch": {
        "interface_id": INTERFACE_ID,
        "bridge_name": "br-fp",
    },
    "VIFPortProfileOVSRepresentor": {"interface_id": INTERFACE_ID},
    "VIFPortProfileFPBridge": {"bridge_name": "br-fp-lb"},
    "VIFPortProfileFPTap": {"mac_address": TAP_MAC},
    "VIFPortProfile8021Qbg": {"manager_id": 6},
    "VIFPortProfile8021Qbh": {"profile_id": "qbh-port-profile-7"},
    "VIFPortProfileK8sDPDK": {"l3_setup": False},
}


# --- VIFs -----------------------------------------------------------------

# Per VIF class: its plugin, the profile it carries when populated, and its
# own (non-VIFBase) fields.
_VIF_SPECS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "VIFBase": ("noop", "VIFPortProfileBase", {}),
    "VIFGeneric": (
        "noop",
        "VIFPortProfileFPTap",
        {"vif_name": "tapc3a8f2d4-7d"},
    ),
    "VIFBridge": (
        "linux_bridge",
        "VIFPortProfileFPBridge",
        {"vif_name": "tapc3a8f2d4-7d", "bridge_name": "qbrc3a8f2d4-7d"},
    ),
    "VIFOpenVSwitch": (
        "ovs",
        "VIFPortProfileOpenVSwitch",
        {"vif_name": "tapc3a8f2d4-7d", "bridge_name": "br-int"},
    ),
    "VIFDirect": (
        "noop",
        "VIFPortProfile8021Qbg",
        {
            "vif_name": "enp129s0f0v1",
            "dev_address": VF_PCI,
            "mode": "passthrough",
            "vlan_name": "vlan1001",
        },
    ),
    "VIFVHostUser": (
        "ovs",
        "VIFPortProfileFPOpenVSwitch",
        {
            "vif_name": "vhuc3a8f2d4-7d",
            "path": "/var/run/openvswitch/vhuc3a8f2d4-7d",
            "mode": "server",
        },
    ),
    "VIFHostDevice": (
        "noop",
        "VIFPortProfile8021Qbh",
        {"dev_type": "ethernet", "dev_address": VF_PCI},
    ),
    "VIFNestedDPDK": (
        "noop",
        "VIFPortProfileK8sDPDK",
        {"pci_address": DPDK_PCI, "dev_driver": "vfio-pci"},
    ),
}


def _vif(
    b: _Builder, name: str, profile: Any, *, nulls: bool = False, **extra: Any
) -> Any:
    plugin, _profile_name, own = _VIF_SPECS[name]
    values: dict[str, Any] = dict(
        id=VIF_ID,
        address=None if nulls else VIF_MAC,
        network=None if nulls else _network(b),
        plugin=plugin,
        port_profile=profile,
        active=False,
        has_traffic_filtering=True,
        preserve_on_delete=True,
    )
    values.update(own)
    values.update(extra)
    return b.make(name, **values)


def _vif_samples(b: _Builder, name: str) -> Iterator[tuple[str, Any]]:
    plugin, profile_name, own = _VIF_SPECS[name]
    profile_factory = _PROFILES[profile_name]
    # Older releases may lack the preferred profile: fall back to the OVS
    # or base profile, which every release has.
    yield (
        "populated",
        _vif(
            b,
            name,
            b.first(
                lambda: profile_factory(b),
                lambda: _profile_ovs(b),
                lambda: _profile_base(b),
            ),
        ),
    )
    minimal: dict[str, Any] = {"id": VIF_ID, "plugin": plugin}
    if "vif_name" in own:
        minimal["vif_name"] = own["vif_name"]
    yield "minimal", b.make(name, **minimal)
    yield (
        "nulls",
        _vif(
            b,
            name,
            b.first(
                lambda: profile_factory(b, nulls=True),
                lambda: _profile_ovs(b, nulls=True),
                lambda: _profile_base(b, nulls=True),
            ),
            nulls=True,
        ),
    )
    if name == "VIFOpenVSwitch":
        profile = _profile_ovs_representor(b)
        if profile is not MISSING:
            yield (
                "representor",
                _vif(b, name, profile, vif_name="enp129s0f0_3"),
            )


# --- host info ------------------------------------------------------------


def _host_profile_info(b: _Builder, name: str, low: str, high: str) -> Any:
    return b.make(
        "HostPortProfileInfo",
        profile_object_name=name,
        min_version=low,
        max_version=high,
    )


def _host_vif_info(
    b: _Builder,
    vif: str,
    low: str,
    high: str,
    profiles: list[tuple[str, str, str]],
) -> Any:
    return b.make(
        "HostVIFInfo",
        vif_object_name=vif,
        min_version=low,
        max_version=high,
        supported_port_profiles=[_host_profile_info(b, *p) for p in profiles],
    )


def _host_plugin_ovs(b: _Builder) -> Any:
    ovs_profiles = [
        ("VIFPortProfileOpenVSwitch", "1.0", "1.4"),
        ("VIFPortProfileOVSRepresentor", "1.0", "1.4"),
    ]
    return b.make(
        "HostPluginInfo",
        plugin_name="ovs",
        vif_info=[
            _host_vif_info(b, "VIFBridge", "1.0", "1.0", ovs_profiles[:1]),
            _host_vif_info(b, "VIFOpenVSwitch", "1.0", "1.0", ovs_profiles),
            _host_vif_info(b, "VIFVHostUser", "1.0", "1.1", ovs_profiles[:1]),
        ],
    )


def _host_plugin_linux_bridge(b: _Builder) -> Any:
    return b.make(
        "HostPluginInfo",
        plugin_name="linux_bridge",
        vif_info=[
            _host_vif_info(
                b,
                "VIFBridge",
                "1.0",
                "1.0",
                [("VIFPortProfileBase", "1.0", "1.1")],
            ),
        ],
    )


def _host_plugin_noop(b: _Builder) -> Any:
    return b.make(
        "HostPluginInfo",
        plugin_name="noop",
        vif_info=[
            _host_vif_info(
                b,
                "VIFVHostUser",
                "1.0",
                "1.1",
                [("VIFPortProfileK8sDPDK", "1.0", "1.1")],
            ),
        ],
    )


# --- all samples ----------------------------------------------------------


def _object_samples(b: _Builder, name: str) -> Iterator[tuple[str, Any]]:
    """Yield (sample name, object) for one object name."""
    if name in _VIF_SPECS:
        yield from _vif_samples(b, name)
    elif name in _PROFILES:
        yield "populated", _PROFILES[name](b)
        yield "minimal", b.make(name, **_PROFILE_MINIMAL[name])
        yield "nulls", _PROFILES[name](b, nulls=True)
    elif name == "DatapathOffloadBase":
        yield "populated", b.make(name)
    elif name == "DatapathOffloadRepresentor":
        yield "populated", _offload(b)
        yield "minimal", b.make(name, representor_name="enp129s0f0_2")
        yield (
            "nulls",
            b.make(name, representor_name=None, representor_address=None),
        )
    elif name == "FixedIP":
        yield (
            "populated",
            b.make(
                name, address="192.168.10.10", floating_ips=["203.0.113.10"]
            ),
        )
        yield "minimal", b.make(name, address="2001:db8:10::10")
    elif name == "FixedIPList":
        yield "populated", _fixed_ips_v4(b)
        yield "minimal", b.make(name, objects=[])
    elif name == "Route":
        yield (
            "populated",
            b.make(
                name,
                cidr="10.0.0.0/8",
                gateway="192.168.10.254",
                interface="eth0",
            ),
        )
        yield "minimal", b.make(name, cidr="0.0.0.0/0")
    elif name == "RouteList":
        yield "populated", _routes_v4(b)
        yield "minimal", b.make(name, objects=[])
    elif name == "Subnet":
        yield "populated", _subnet_v4(b)
        yield "minimal", b.make(name, cidr="2001:db8:10::/64")
    elif name == "SubnetList":
        yield "populated", b.make(name, objects=[_subnet_v4(b), _subnet_v6(b)])
        yield "minimal", b.make(name, objects=[])
    elif name == "Network":
        yield "populated", _network(b)
        yield "minimal", b.make(name, id=NETWORK_ID)
        yield "nulls", _network_nulls(b)
    elif name == "InstanceInfo":
        yield (
            "populated",
            b.make(
                name,
                uuid=INSTANCE_UUID,
                name="instance-0000002a",
                project_id=PROJECT_ID,
            ),
        )
        yield "minimal", b.make(name, uuid=INSTANCE_UUID)
    elif name == "HostPortProfileInfo":
        yield (
            "populated",
            _host_profile_info(b, "VIFPortProfileOpenVSwitch", "1.0", "1.4"),
        )
        yield "minimal", b.make(name, profile_object_name="VIFPortProfileBase")
    elif name == "HostVIFInfo":
        yield (
            "populated",
            _host_vif_info(
                b,
                "VIFOpenVSwitch",
                "1.0",
                "1.0",
                [
                    ("VIFPortProfileOpenVSwitch", "1.0", "1.4"),
                    ("VIFPortProfileOVSRepresentor", "1.0", "1.4"),
                ],
            ),
        )
        yield (
            "minimal",
            b.make(
                name,
                vif_object_name="VIFBridge",
                min_version="1.0",
                max_version="1.0",
            ),
        )
    elif name == "HostPluginInfo":
        yield "populated", _host_plugin_ovs(b)
        yield "minimal", b.make(name, plugin_name="noop", vif_info=[])
    elif name == "HostInfo":
        yield (
            "populated",
            b.make(
                name,
                plugin_info=[
                    _host_plugin_linux_bridge(b),
                    _host_plugin_ovs(b),
                    _host_plugin_noop(b),
                ],
            ),
        )
        yield "minimal", b.make(name, plugin_info=[])
    else:  # pragma: no cover - OBJECT_MODULES and this table go together
        raise KeyError(name)


def build_samples(classes: dict[str, type] | None = None) -> list[Sample]:
    """Build every sample the running implementation can express.

    ``classes`` maps object names to classes; by default they are imported
    from ``os_vif.objects.*``.  The result is ordered by object name, then
    by the order of ``SAMPLE_NAMES``; every call builds fresh objects.
    """
    builder = _Builder(load_classes() if classes is None else classes)
    samples: list[Sample] = []
    for name in sorted(OBJECT_MODULES):
        if not builder.has(name):
            continue
        for sample_name, obj in _object_samples(builder, name):
            if obj is not MISSING:
                samples.append(Sample(name, sample_name, obj))
    return samples


def build_sample(object_name: str, sample_name: str) -> Any:
    """Build one sample by object and sample name (KeyError if none)."""
    for sample in build_samples():
        if (sample.object_name, sample.sample_name) == (
            object_name,
            sample_name,
        ):
            return sample.obj
    raise KeyError((object_name, sample_name))
