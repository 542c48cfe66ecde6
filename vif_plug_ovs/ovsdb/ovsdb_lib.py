"""os-vif 5.x's ``vif_plug_ovs.ovsdb.ovsdb_lib``, kept for third-party plugins.

Deprecated: :class:`BaseOVS` emits a :class:`DeprecationWarning` when made.
A plugin should describe VIFs and let os_vif plug them
(:func:`os_vif.plug`), or talk to OVSDB through ovsdbapp itself.

``BaseOVS`` keeps 5.x's methods, arguments and effects on the database but
runs on os_vif's own OVSDB machinery: the process's shared connection
(:mod:`os_vif.internal.ovsdb.connection`, always the native client whatever
``ovsdb_interface`` says), the operations of
:mod:`os_vif.internal.ovsdb.operations` (checked against the cache first:
a call that changes nothing sends nothing), one transaction per call, and
os_vif's ownership rules: a bridge's datapath type is never switched, a
bridge is deleted only when nothing but plumbing is left on it, a port is
removed only from the bridge the caller names.  An MTU is set with the
Interface's ``mtu_request``, for every interface type (5.x set a kernel
device's MTU directly).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from os_vif import exception
from os_vif.internal import kernel, validation
from os_vif.internal.operation import Operation
from os_vif.internal.ovsdb import client
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import dpdk_representor, runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.plugins.ovs import naming

__all__ = ["BaseOVS"]

_WARNING = (
    "vif_plug_ovs.ovsdb.ovsdb_lib.BaseOVS is deprecated and will be "
    "removed: describe the VIF and call os_vif.plug()/os_vif.unplug(), or "
    "use ovsdbapp's Open_vSwitch API with your own connection"
)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or "\0" in value:
        raise exception.InvalidArgument(
            field=field, value=value, reason="must be a non-empty string"
        )
    return value


def _vif_ids(iface_id: str, mac: str, instance_id: str) -> dict[str, str]:
    """The Interface's ``external_ids`` naming a VIF, checked."""
    return {
        "iface-id": _text(iface_id, "iface_id"),
        "iface-status": "active",
        "attached-mac": validation.mac_address(mac, "mac"),
        "vm-uuid": _text(instance_id, "instance_id"),
    }


class BaseOVS:
    """5.x's OVSDB helper (deprecated; see the module).

    ``config`` is the ``[os_vif_ovs]`` option group (or any object with
    ``ovsdb_connection``, ``ovs_vsctl_timeout`` and ``ovsdb_interface``).
    Nothing connects until the first call that reads or writes.
    """

    def __init__(self, config: Any) -> None:
        """Keep the connection settings; warn that this is deprecated."""
        warnings.warn(_WARNING, DeprecationWarning, stacklevel=2)
        self.timeout = config.ovs_vsctl_timeout
        self.connection = config.ovsdb_connection
        self.interface = getattr(config, "ovsdb_interface", "native")
        # The TLS files of an ssl: connection, as the ovs plugin reads them.
        self._client = client.OvsdbClient(
            self.connection,
            self.timeout,
            tls=client.TlsFiles.from_config(config),
        )

    @property
    def ovsdb(self) -> Any:
        """Not provided: 5.x's raw ovsdbapp API (see the plugin docs)."""
        raise AttributeError(
            "BaseOVS.ovsdb (a raw ovsdbapp API) is not provided by os_vif "
            "6: os_vif's connection reads only the columns it manages and "
            "writes only through checked operations; open your own "
            "connection with ovsdbapp.schema.open_vswitch.impl_idl"
        )

    # -- running -------------------------------------------------------------

    def _run(
        self,
        *steps: Operation,
        order: runner.Order = runner.Order.KERNEL_FIRST,
    ) -> None:
        if steps:
            plan = Plan(label=steps[0].device)
            runner.OVS.run(plan.add(*steps), self._client, order)

    def _read(self, read: Any) -> Any:
        """Call ``read(api)`` with the IDL cache locked."""
        api = self._client.api
        with api.ovsdb_connection.lock:
            return read(api)

    # -- bridges -------------------------------------------------------------

    def ensure_ovs_bridge(
        self, bridge: str, datapath_type: str | None
    ) -> None:
        """Make bridge ``bridge`` with ``datapath_type`` if it is missing.

        An existing bridge of another datapath type is refused
        (:class:`os_vif.exception.HostOperationRefused`), not switched.
        """
        self._run(
            ovs.EnsureOvsBridge(name=bridge, datapath_type=datapath_type)
        )

    def delete_ovs_bridge(self, bridge: str) -> None:
        """Delete bridge ``bridge`` if nothing but plumbing is left on it.

        5.x deleted it with whatever was on it.
        """
        self._run(ovs.DeleteOvsBridge(name=bridge))

    # -- ports ---------------------------------------------------------------

    def _bridge_of_port(self, port_name: str) -> str | None:
        """The name of the bridge port ``port_name`` is on, if any."""

        def read(api: Any) -> str | None:
            port = client.lookup(api, "Port", port_name)
            found = None if port is None else client.bridge_of(api, port)
            return None if found is None else str(found.name)

        result: str | None = self._read(read)
        return result

    def _port_and_type(self, dev: str) -> tuple[str, str] | None:
        """The bridge of port ``dev`` and its Interface's type, if any."""

        def read(api: Any) -> tuple[str, str] | None:
            port = client.lookup(api, "Port", dev)
            iface = client.lookup(api, "Interface", dev)
            bridge = None if port is None else client.bridge_of(api, port)
            if iface is None or bridge is None:
                return None
            return str(bridge.name), client.interface_config(api, iface).type

        result: tuple[str, str] | None = self._read(read)
        return result

    def port_exists(self, port_name: str, bridge: str) -> bool:
        """Say whether port ``port_name`` is on bridge ``bridge``."""
        return self._bridge_of_port(port_name) == bridge

    def create_ovs_vif_port(
        self,
        bridge: str,
        dev: str,
        iface_id: str,
        mac: str,
        instance_id: str,
        mtu: int | None = None,
        interface_type: str | None = None,
        vhost_server_path: str | None = None,
        tag: int | None = None,
        pf_pci: str | None = None,
        vf_num: str | int | None = None,
        set_ids: bool = True,
        datapath_type: str | None = None,
        qos_type: str | None = None,
        vlan_mode: str | None = None,
        trunks: int | Sequence[int] | None = None,
    ) -> None:
        """Put port ``dev`` (an Interface of the same name) on ``bridge``.

        As 5.x: with ``set_ids`` the Interface's ``external_ids`` name the
        VIF (``iface-id``, ``iface-status``, ``attached-mac``, ``vm-uuid``,
        and ``bridge_name`` on a trunk bridge); ``vhost_server_path`` and,
        for a DPDK representor (``interface_type`` ``dpdk`` with ``pf_pci``
        and ``vf_num``), ``dpdk-devargs`` go in its options; ``tag``,
        ``vlan_mode``, ``trunks`` and a QoS row of ``qos_type`` are set
        when the port is made; with ``datapath_type`` the bridge is made
        first if missing.  A port of that name that belongs to another
        ``iface-id`` is refused.
        """
        external_ids: dict[str, str] = {}
        if set_ids:
            external_ids = _vif_ids(iface_id, mac, instance_id)
            if naming.is_trunk_bridge(bridge):
                external_ids["bridge_name"] = bridge
        options: dict[str, str] = {}
        if vhost_server_path:
            options["vhost-server-path"] = vhost_server_path
        if (
            interface_type == dpdk_representor.INTERFACE_TYPE
            and pf_pci
            and vf_num is not None
            and vf_num != ""
        ):
            options["dpdk-devargs"] = "%s,representor=[%s]" % (pf_pci, vf_num)
        if isinstance(trunks, int):
            trunks = [trunks]
        steps: list[Operation] = []
        if datapath_type:
            steps.append(
                ovs.EnsureOvsBridge(name=bridge, datapath_type=datapath_type)
            )
        steps.append(
            ovs.EnsureOvsPort(
                name=dev,
                bridge=bridge,
                interface_type=interface_type or None,
                external_ids=external_ids or None,
                options=options or None,
                mtu_request=mtu or None,
                tag=tag or None,
                vlan_mode=vlan_mode or None,
                trunks=list(trunks) if trunks else None,
                qos_type=qos_type or None,
            )
        )
        self._run(*steps)

    def update_ovs_vif_port(
        self,
        dev: str,
        mtu: int | None = None,
        interface_type: str | None = None,
    ) -> None:
        """Set the ``mtu_request`` of port ``dev``'s Interface (if ``mtu``).

        A port that does not exist is left alone.
        """
        if not mtu:
            return

        found = self._port_and_type(dev)
        if found is None:
            return
        bridge, found_type = found
        self._run(
            ovs.EnsureOvsPort(
                name=dev,
                bridge=bridge,
                interface_type=found_type or None,
                mtu_request=mtu,
            )
        )

    def delete_ovs_vif_port(
        self,
        bridge: str,
        dev: str,
        delete_netdev: bool = True,
        qos_type: str | None = None,
    ) -> None:
        """Remove port ``dev`` from ``bridge``; delete device ``dev`` too.

        The port's QoS row (as 5.x or os_vif made it) goes with it, whatever
        ``qos_type`` says.  A port on another bridge is left alone, as in
        5.x.  With ``delete_netdev`` the kernel device goes too, only if
        os_vif made it (else the call is refused and nothing changes).
        """
        if self._bridge_of_port(dev) not in (None, bridge):
            return
        # The caller names the port and its bridge: the identity 5.x
        # removed a port by (del-port BRIDGE PORT), which is what
        # RemoveOvsPort's per_port_bridge checks.
        steps: list[Operation] = [
            ovs.RemoveOvsPort(name=dev, per_port_bridge=bridge)
        ]
        if delete_netdev:
            steps.append(kernel.DeleteDevice(name=dev))
        self._run(*steps, order=runner.Order.OVSDB_FIRST)

    def create_patch_port_pair(
        self,
        port_bridge: str,
        port_bridge_port: str,
        int_bridge: str,
        int_bridge_port: str,
        iface_id: str,
        mac: str,
        instance_id: str,
        tag: int | None = None,
    ) -> None:
        """Join two bridges with a pair of patch ports, in one transaction.

        The ``int_bridge`` end carries the VIF's ``external_ids`` (and
        ``tag``), as in 5.x.
        """
        self._run(
            ovs.EnsureOvsPort(
                name=int_bridge_port,
                bridge=int_bridge,
                interface_type="patch",
                options={"peer": port_bridge_port},
                external_ids=_vif_ids(iface_id, mac, instance_id),
                tag=tag or None,
            ),
            ovs.EnsureOvsPort(
                name=port_bridge_port,
                bridge=port_bridge,
                interface_type="patch",
                options={"peer": int_bridge_port},
            ),
        )
