"""The ``[os_vif_ovs]`` options, with os-vif 5.x's names and defaults."""

from __future__ import annotations

from typing import Protocol

from oslo_config import cfg

from os_vif.plugins import privileged

__all__ = ["OPTS", "OVSDB_INTERFACES", "Options"]


class Options(Protocol):
    """The ``[os_vif_ovs]`` group, as the plugin reads it."""

    network_device_mtu: int
    ovs_vsctl_timeout: int
    ovsdb_connection: str
    ovsdb_interface: str
    isolate_vif: bool
    per_port_bridge: bool
    default_qos_type: str | None
    ssl_key_file: str | None
    ssl_cert_file: str | None
    ssl_ca_cert_file: str | None
    privsep_timeout: int


#: Accepted values of ``ovsdb_interface``; both use the native client.
OVSDB_INTERFACES = ("native", "vsctl")

OPTS = (
    cfg.IntOpt(
        "network_device_mtu",
        default=1500,
        deprecated_group="DEFAULT",
        help="MTU of the devices and ports made for a VIF whose network "
        "does not state its own MTU.",
    ),
    cfg.IntOpt(
        "ovs_vsctl_timeout",
        default=120,
        deprecated_group="DEFAULT",
        help="Longest time, in seconds, an OVSDB transaction may take, "
        "including the wait for ovs-vswitchd to apply it.  0 waits "
        "forever.",
    ),
    cfg.StrOpt(
        "ovsdb_connection",
        default="tcp:127.0.0.1:6640",
        help="Where ovsdb-server listens, as an OVSDB connection string "
        "(tcp:IP:PORT, ssl:IP:PORT or unix:PATH).",
    ),
    cfg.StrOpt(
        "ovsdb_interface",
        default="native",
        help="How to talk to OVSDB.  'native' (ovsdbapp's IDL client) is "
        "what os_vif uses; 'vsctl' is accepted so that existing "
        "configuration files keep working, and also uses the native "
        "client (a warning is logged).",
    ),
    cfg.BoolOpt(
        "isolate_vif",
        default=False,
        help="Put ports os_vif creates on the dead VLAN 4095 until the "
        "network agent tags them; only for the neutron Open vSwitch ML2 "
        "agent.  Not applied on trunk bridges.",
    ),
    cfg.BoolOpt(
        "per_port_bridge",
        default=False,
        help="Experimental: give each non-hybrid VIF its own bridge, "
        "patched to the integration bridge.  Linux only; leave off for "
        "anything else (e.g. ironic smart NIC ports).",
    ),
    cfg.StrOpt(
        "default_qos_type",
        default="linux-noop",
        help="QoS type given to a port when it is first created on a "
        "kernel-datapath bridge.  'linux-noop' makes ovs-vswitchd leave "
        "the port's qdisc alone, so it can be managed out of band; the "
        "network agent may change it later (see the QoS table in "
        "ovs-vswitchd.conf.db(5)).",
    ),
    # Not in 5.x: the files of ssl: connections, named as neutron's
    # [ovs] options are (operators set both on the same host).
    cfg.StrOpt(
        "ssl_key_file",
        help="Private key (PEM) os_vif presents to ovsdb-server on an "
        "ssl: ovsdb_connection.  Required with ssl:, unused otherwise.",
    ),
    cfg.StrOpt(
        "ssl_cert_file",
        help="Certificate (PEM) of ssl_key_file, signed by a CA that "
        "ovsdb-server trusts.  Required with an ssl: ovsdb_connection.",
    ),
    cfg.StrOpt(
        "ssl_ca_cert_file",
        help="CA certificate (PEM) that must have signed ovsdb-server's "
        "certificate.  Required with an ssl: ovsdb_connection.",
    ),
    privileged.timeout_opt(),
)
