"""OVSDB operations: one class per change, run in the caller's transaction.

The OVSDB counterparts of the kernel operations
(:mod:`os_vif.internal.kernel`), on the same model
(:class:`os_vif.internal.operation.Operation`): typed arguments, ``check``
against the IDL cache (no round trip), ``admit`` (ownership, against the
cache before anything runs, and again inside the transaction) and
``commands`` (ovsdbapp commands for one transaction).  They have no undo:
a plan's OVSDB changes are one transaction, which leaves nothing behind
when it fails, and a plug commits it only once its kernel steps are done
(the runner undoes those when the transaction fails).

OVSDB is written by the caller's process, not by the privsep daemon, so
these ownership rules are enforced here:

* an existing bridge's ``datapath_type`` is never switched (its ports
  would break): a plan asking for another one is refused, naming both
  (os-vif 5.x switched it); a datapath type the VIF does not name
  (``default_datapath_type``) is only given to a bridge being made;
* a port is changed or removed only when its Interface belongs to the VIF
  (``external_ids:iface-id``, or ``attached-mac`` when the Interface has
  no iface-id), or when it is on the VIF's own per-port bridge; never by
  name alone;
* a bridge is deleted only when nothing but its own internal port and
  patch ports is left on it, and only by an unplug that asks for it
  (trunk and per-port bridges);
* a QoS row is os_vif's when its ``external_ids`` are those os-vif 5.x
  gives the QoS row of a port (:func:`.model.qos_external_ids`): ``id`` a UUID
  derived from the port's name, ``_type`` the QoS type.  A plug that makes
  a port deletes such a row left over and makes it again; removing the
  port deletes it, whichever release made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from os_vif.internal import operation, validation
from os_vif.internal.operation import Problem
from os_vif.internal.ovsdb import client, model

__all__ = [
    "REGISTRY",
    "OvsdbOperation",
    "EnsureOvsBridge",
    "EnsureOvsPort",
    "RemoveOvsPort",
    "RemoveOvsPortsOfVif",
    "DeleteOvsBridge",
    "KERNEL_DATAPATHS",
    "is_kernel_datapath",
]

#: The OVSDB operations, by wire name.
REGISTRY = operation.Registry(operation.OVSDB)

#: Datapath types that all mean "the kernel's datapath" (with None: a
#: VIF or bridge that names no datapath type is on the kernel's).
KERNEL_DATAPATHS = ("", "system")


def is_kernel_datapath(value: str | None) -> bool:
    """Say whether the datapath type ``value`` is the kernel's."""
    return (value or "") in KERNEL_DATAPATHS

def _ovs_name(value: Any, field: str) -> str:
    # OVSDB names are not kernel names: patch ports have no device and may
    # be longer than 15 bytes (os-vif 5.x wrote 16-byte ones, too).
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= 255
        or "\0" in value
    ):
        raise operation.invalid(field, value, "not an OVSDB name")
    return value


def _string_map(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and "\0" not in k + v
        for k, v in value.items()
    ):
        raise operation.invalid(field, value, "must map strings to strings")
    return dict(value)


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str) or "\0" in value or len(value) > 255:
        raise operation.invalid(field, value, "must be a short string")
    return value


def _vlans(value: Any, field: str) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise operation.invalid(field, value, "must be a list of VLANs")
    return [
        validation.vlan_id(v, "%s[%d]" % (field, i))
        for i, v in enumerate(value)
    ]


_refuse = operation.refused


def _datapath(value: Any) -> str:
    value = client.optional(value) or ""
    return "" if is_kernel_datapath(value) else str(value)


def _interface_ids(api: Any, name: str) -> Mapping[str, str] | None:
    iface = client.lookup(api, "Interface", name)
    if iface is None:
        return None
    return client.interface_config(api, iface).external_ids


def _belongs(
    ids: Mapping[str, str] | None, iface_id: str | None, mac: str | None
) -> bool:
    """Say whether an Interface's external_ids are this VIF's."""
    if ids is None:
        return False
    found = ids.get("iface-id")
    if iface_id is not None and found is not None:
        return found == iface_id
    return mac is not None and ids.get("attached-mac") == mac


class OvsdbOperation(operation.Operation):
    """An OVSDB operation (see the module)."""

    DOMAIN = operation.OVSDB

    def admit(self, api: Any) -> None:
        """Raise HostOperationRefused if this may not touch what it names.

        Called with the IDL cache locked, before anything of the plan
        runs, and again inside the transaction.
        """

    def commands(self, api: Any) -> list[Any]:
        """Return the ovsdbapp commands that make the change."""
        raise NotImplementedError

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """See :meth:`os_vif.internal.operation.Operation.check`."""
        raise NotImplementedError


class _Admitted:
    """Mixin for ovsdbapp commands: re-admit inside the transaction."""

    operation: OvsdbOperation

    def run_idl(self, txn: Any) -> None:
        self.operation.admit(self.api)  # type: ignore[attr-defined]
        super().run_idl(txn)  # type: ignore[misc]


class _EnsureBridgeCommand(_Admitted, client.EnsureBridgeCommand):
    def __init__(self, api: Any, op: EnsureOvsBridge) -> None:
        super().__init__(api, op.bridge_model())
        self.operation = op


class _EnsurePortCommand(_Admitted, client.EnsurePortCommand):
    def __init__(self, api: Any, op: EnsureOvsPort) -> None:
        super().__init__(api, op.port_model())
        self.operation = op


class _RemovePortCommand(_Admitted, client.RemovePortCommand):
    def __init__(self, api: Any, op: RemoveOvsPort) -> None:
        super().__init__(
            api,
            model.PortRemoval(
                op.device, op.get("remove_bridge_if_unused", False)
            ),
        )
        self.operation = op


@REGISTRY.register
class EnsureOvsBridge(OvsdbOperation):
    """Bridge ``name`` exists in OVSDB (with ``datapath_type`` if made).

    An existing bridge with another datapath type is refused, never
    switched under its ports.  ``default_datapath_type`` (the type a VIF
    that names none implies) is given to the bridge only when it is made.
    """

    NAME = "ovs_ensure_bridge"
    PARAMS = {
        "name": _ovs_name,
        "datapath_type": _string,
        "default_datapath_type": _string,
    }
    SHARED = True

    def bridge_model(self) -> model.Bridge:
        """The bridge as :mod:`.model` describes it."""
        return model.Bridge(
            self.device,
            self.get("datapath_type") or None,
            self.get("default_datapath_type") or None,
        )

    def _conflict(self, api: Any) -> str | None:
        row = client.lookup(api, "Bridge", self.device)
        wanted = self.get("datapath_type")
        if row is None or wanted is None:
            return None
        found = _datapath(row.datapath_type)
        if found != _datapath(wanted):
            return found or "system"
        return None

    def admit(self, api: Any) -> None:
        """Refuse to switch an existing bridge's datapath type."""
        found = self._conflict(api)
        if found is not None:
            raise _refuse(
                "switch the datapath type of",
                "bridge %s" % self.device,
                "it has datapath_type %s and the VIF asks for %s; os_vif "
                "does not move a bridge's ports to another datapath"
                % (found, self.get("datapath_type")),
            )

    def commands(self, api: Any) -> list[Any]:
        """Create the bridge as ovs-vsctl add-br does."""
        return [_EnsureBridgeCommand(api, self)]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """The bridge should exist with its datapath type."""
        what = "bridge %s" % self.device
        row = client.lookup(ovsdb, "Bridge", self.device)
        if row is None:
            return [Problem(what, "exists", True, False)]
        found = self._conflict(ovsdb)
        if found is not None:
            return [
                Problem(
                    what, "datapath_type", self.get("datapath_type"), found
                )
            ]
        return []


@REGISTRY.register
class EnsureOvsPort(OvsdbOperation):
    """A port with one Interface of the same name on ``bridge``.

    See :class:`os_vif.internal.ovsdb.model.Port` for what is kept in line
    on every plug and what is set only when the port is made.
    """

    NAME = "ovs_ensure_port"
    PARAMS = {
        "name": _ovs_name,
        "bridge": _ovs_name,
        "interface_type": _string,
        "external_ids": _string_map,
        "options": _string_map,
        "mtu_request": validation.optional_mtu,
        "tag": validation.vlan_id,
        "vlan_mode": _string,
        "trunks": _vlans,
        "qos_type": _string,
        "per_port_bridge": _ovs_name,
    }
    REQUIRED = frozenset({"name", "bridge"})

    def port_model(self) -> model.Port:
        """The port as :mod:`.model` describes it."""
        return model.Port(
            name=self.device,
            bridge=self.get("bridge"),
            interface_type=self.get("interface_type", ""),
            external_ids=dict(self.get("external_ids", {})),
            options=dict(self.get("options", {})),
            mtu_request=self.get("mtu_request"),
            tag=self.get("tag"),
            vlan_mode=self.get("vlan_mode"),
            trunks=tuple(self.get("trunks", ())),
            qos_type=self.get("qos_type"),
        )

    def admit(self, api: Any) -> None:
        """An existing port must be this VIF's (see the module)."""
        if client.lookup(api, "Port", self.device) is None:
            return
        ids = self.get("external_ids", {})
        if self.get("per_port_bridge") == self.get("bridge"):
            return
        if "iface-id" not in ids and "attached-mac" not in ids:
            return
        found = _interface_ids(api, self.device)
        if not _belongs(found, ids.get("iface-id"), ids.get("attached-mac")):
            raise _refuse(
                "change",
                "port %s" % self.device,
                "it belongs to another VIF (iface-id %s), not to iface-id "
                "%s; os_vif changes only its own ports"
                % ((found or {}).get("iface-id"), ids.get("iface-id")),
            )

    def commands(self, api: Any) -> list[Any]:
        """Create or update the port."""
        return [_EnsurePortCommand(api, self)]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the port and its Interface with what is asked."""
        api = ovsdb
        what = "port %s" % self.device
        port = client.lookup(api, "Port", self.device)
        iface = client.lookup(api, "Interface", self.device)
        if port is None or iface is None:
            return [Problem(what, "exists", True, False)]
        problems = []
        # Called with the connection's lock held, outside any transaction:
        # the wiring snapshot reads each bridge's ports once for all checks.
        wiring = client.wiring(api)
        if wiring.port_of.get(iface.uuid) != port:
            problems.append(Problem(what, "interfaces", self.device, None))
        found = wiring.bridge_of.get(port.uuid)
        if found is None or found[1] != self.get("bridge"):
            problems.append(
                Problem(
                    what,
                    "bridge",
                    self.get("bridge"),
                    None if found is None else found[1],
                )
            )
        config = client.interface_config(api, iface)
        wanted_type = self.get("interface_type", "")
        if config.type != wanted_type:
            problems.append(Problem(what, "type", wanted_type, config.type))
        for column in ("external_ids", "options"):
            wanted_map = self.get(column, {})
            found_map = getattr(config, column)
            for key, value in wanted_map.items():
                if found_map.get(key) != value:
                    problems.append(
                        Problem(
                            what,
                            "%s:%s" % (column, key),
                            value,
                            found_map.get(key),
                        )
                    )
        mtu = self.get("mtu_request")
        if mtu is not None:
            found_mtu = config.mtu_request
            if found_mtu != mtu:
                problems.append(Problem(what, "mtu_request", mtu, found_mtu))
        return problems


@REGISTRY.register
class RemoveOvsPort(OvsdbOperation):
    """Remove the port ``name`` if it is this VIF's; absent is fine.

    The port is this VIF's when its Interface carries ``iface_id`` (or
    ``mac`` as attached-mac, when it has no iface-id), or when it is on the
    VIF's ``per_port_bridge``.  With ``remove_bridge_if_unused`` the port's
    bridge goes too once nothing uses it.
    """

    NAME = "ovs_remove_port"
    PARAMS = {
        "name": _ovs_name,
        "iface_id": _string,
        "mac": validation.mac_address,
        "per_port_bridge": _ovs_name,
        "remove_bridge_if_unused": validation.boolean,
    }

    def _owned(self, api: Any) -> bool:
        port = client.lookup(api, "Port", self.device)
        if port is None:
            return True
        per_port = self.get("per_port_bridge")
        if per_port is not None:
            bridge = client.bridge_of(api, port)
            if bridge is not None and bridge.name == per_port:
                return True
        return _belongs(
            _interface_ids(api, self.device),
            self.get("iface_id"),
            self.get("mac"),
        )

    def admit(self, api: Any) -> None:
        """Refuse to remove another VIF's port (or anyone's by name)."""
        if not self._owned(api):
            found = _interface_ids(api, self.device) or {}
            raise _refuse(
                "remove",
                "port %s" % self.device,
                "its Interface has iface-id %s, not this VIF's %s; os_vif "
                "removes only its own ports, never by name alone"
                % (found.get("iface-id"), self.get("iface_id")),
            )

    def commands(self, api: Any) -> list[Any]:
        """Remove the port (and, as asked, its unused bridge)."""
        return [_RemovePortCommand(api, self)]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """The port and its QoS rows should be absent."""
        problems = [
            Problem("qos %s" % qos.uuid, "exists", False, True)
            for qos in client.qos_rows(ovsdb, self.device)
        ]
        if client.lookup(ovsdb, "Port", self.device) is not None:
            problems.append(
                Problem("port %s" % self.device, "exists", False, True)
            )
        return problems


@REGISTRY.register
class RemoveOvsPortsOfVif(OvsdbOperation):
    """Remove every port whose Interface carries this VIF's identity.

    For an unplug that cannot name the port (a representor gone from
    sysfs, a name os-vif 5.x wrote that is no device name): ``name`` is the
    iface-id, ``mac`` the attached-mac both must carry.
    """

    NAME = "ovs_remove_ports_of_vif"
    PARAMS = {"name": _string, "mac": validation.mac_address}
    REQUIRED = frozenset({"name", "mac"})

    def ports(self, api: Any) -> list[str]:
        """The names of the ports this removes (from the cache)."""
        wanted = (self.device, self.get("mac"))
        names = set()
        for iface in api.tables["Interface"].rows.values():
            ids = client.interface_config(api, iface).external_ids
            if (ids.get("iface-id"), ids.get("attached-mac")) == wanted:
                names.add(str(iface.name))
        return sorted(
            name for name in names if client.lookup(api, "Port", name)
        )

    def commands(self, api: Any) -> list[Any]:
        """Remove each port found."""
        return [
            _RemovePortCommand(
                api,
                RemoveOvsPort(
                    name=name, iface_id=self.device, mac=self.get("mac")
                ),
            )
            for name in self.ports(api)
        ]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """No port should carry the identity."""
        return [
            Problem("port %s" % name, "exists", False, True)
            for name in self.ports(ovsdb)
        ]


@REGISTRY.register
class DeleteOvsBridge(OvsdbOperation):
    """Delete bridge ``name`` if nothing but plumbing is on it.

    What an unplug asks of a trunk or per-port bridge it leaves unused.
    """

    NAME = "ovs_delete_bridge"
    PARAMS = {"name": _ovs_name}

    def commands(self, api: Any) -> list[Any]:
        """Delete the bridge when unused."""
        return [client.DeleteBridgeCommand(api, self.device)]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """The bridge should be absent."""
        if client.lookup(ovsdb, "Bridge", self.device) is None:
            return []
        return [Problem("bridge %s" % self.device, "exists", False, True)]
