"""Bring OVSDB in line with :mod:`.model` values, in one transaction.

:meth:`OvsdbClient.ensure` and :meth:`OvsdbClient.remove` first compare
what is wanted with the IDL's cache (no round trip to ovsdb-server); when
nothing differs they write nothing and return ``False``, which makes a
re-plug cheap.  Otherwise every change -- for one port or for hundreds --
goes into a single transaction: either all of it is applied or none.

The commands re-read the rows inside the transaction, so a change made by
someone else between the comparison and the commit is taken into account
rather than overwritten; python-ovs checks the rows it relied on and
ovsdbapp retries the transaction when they changed meanwhile.
"""

from __future__ import annotations

import queue
from collections.abc import Iterable, Sequence
from typing import Any

from ovs.db import data as ovs_data
from ovs.db import types as ovs_types
from ovsdbapp.backend.ovs_idl import command as ovs_command
from ovsdbapp.backend.ovs_idl import idlutils

from os_vif import exception
from os_vif.internal.ovsdb import connection, model

__all__ = ["OvsdbClient", "PendingCommit"]


def _lookup(api: Any, table: str, name: str) -> Any:
    return idlutils.row_by_value(api.idl, table, "name", name, None)


def _optional(column: Any) -> Any:
    """Return the value of an optional column (a list of 0 or 1 items)."""
    if isinstance(column, list):
        return column[0] if column else None
    return column


def _references(row: Any, column: str, target: Any) -> bool:
    """Say whether ``row.column`` (a set of references) holds ``target``.

    Reading ``row.column`` converts the whole set to Python rows, which on
    an integration bridge means hundreds of ports per lookup; the IDL's
    own datum answers membership directly.
    """
    try:
        datum = row._data[column]
    except (AttributeError, KeyError):
        return target in getattr(row, column)
    return ovs_data.Atom(ovs_types.UuidType, target.uuid) in datum.values


def _bridge_of(api: Any, port_row: Any) -> Any:
    for bridge in api.tables["Bridge"].rows.values():
        if _references(bridge, "ports", port_row):
            return bridge
    return None


def _bridge_differs(api: Any, wanted: model.Bridge) -> bool:
    row = _lookup(api, "Bridge", wanted.name)
    if row is None:
        return True
    return (
        wanted.datapath_type is not None
        and row.datapath_type != wanted.datapath_type
    )


def _port_differs(api: Any, wanted: model.Port) -> bool:
    port = _lookup(api, "Port", wanted.name)
    iface = _lookup(api, "Interface", wanted.name)
    if port is None or iface is None:
        return True
    if not _references(port, "interfaces", iface):
        return True
    bridge = _lookup(api, "Bridge", wanted.bridge)
    if bridge is None or not _references(bridge, "ports", port):
        return True
    if iface.type != wanted.interface_type:
        return True
    external_ids = iface.external_ids
    if any(external_ids.get(k) != v for k, v in wanted.external_ids.items()):
        return True
    options = iface.options
    if any(options.get(k) != v for k, v in wanted.options.items()):
        return True
    return (
        wanted.mtu_request is not None
        and _optional(iface.mtu_request) != wanted.mtu_request
    )


def _bridge_unused(bridge: Any, leaving: Any) -> bool:
    for port in bridge.ports:
        if port is leaving or port.name == bridge.name:
            continue
        if all(iface.type == "patch" for iface in port.interfaces):
            continue
        return False
    return True


class _EnsureBridge(ovs_command.BaseCommand):
    def __init__(self, api: Any, wanted: model.Bridge) -> None:
        super().__init__(api)
        self.wanted = wanted

    def run_idl(self, txn: Any) -> None:
        wanted = self.wanted
        row = _lookup(self.api, "Bridge", wanted.name)
        if row is not None:
            if (
                wanted.datapath_type is not None
                and row.datapath_type != wanted.datapath_type
            ):
                row.datapath_type = wanted.datapath_type
            return
        # As ovs-vsctl add-br: the bridge's own internal port and interface.
        iface = txn.insert(self.api.tables["Interface"])
        iface.name = wanted.name
        iface.type = "internal"
        port = txn.insert(self.api.tables["Port"])
        port.name = wanted.name
        port.interfaces = [iface]
        row = txn.insert(self.api.tables["Bridge"])
        row.name = wanted.name
        row.ports = [port]
        if wanted.datapath_type is not None:
            row.datapath_type = wanted.datapath_type
        self.api._ovs.addvalue("bridges", row)


class _EnsurePort(ovs_command.BaseCommand):
    def __init__(self, api: Any, wanted: model.Port) -> None:
        super().__init__(api)
        self.wanted = wanted

    def run_idl(self, txn: Any) -> None:
        wanted = self.wanted
        bridge = _lookup(self.api, "Bridge", wanted.bridge)
        if bridge is None:
            # Made by an earlier command of this transaction.
            bridge = next(
                row
                for row in txn._txn_rows.values()
                if row._table.name == "Bridge" and row.name == wanted.bridge
            )
        port = _lookup(self.api, "Port", wanted.name)
        if port is None:
            self._create(txn, bridge)
            return
        if not _references(bridge, "ports", port):
            # On another bridge (or none): move it, as ovs-vsctl would
            # refuse to and as a stale plug would need.
            old = _bridge_of(self.api, port)
            if old is not None:
                old.delvalue("ports", port)
            bridge.addvalue("ports", port)
        iface = _lookup(self.api, "Interface", wanted.name)
        if iface is None or iface not in port.interfaces:
            iface = txn.insert(self.api.tables["Interface"])
            iface.name = wanted.name
            port.interfaces = [iface]
            self._fill_interface(iface)
        else:
            self._update_interface(iface)

    def _update_interface(self, iface: Any) -> None:
        wanted = self.wanted
        if iface.type != wanted.interface_type:
            iface.type = wanted.interface_type
        for key, value in wanted.external_ids.items():
            if iface.external_ids.get(key) != value:
                iface.setkey("external_ids", key, value)
        for key, value in wanted.options.items():
            if iface.options.get(key) != value:
                iface.setkey("options", key, value)
        if (
            wanted.mtu_request is not None
            and _optional(iface.mtu_request) != wanted.mtu_request
        ):
            iface.mtu_request = [wanted.mtu_request]

    def _fill_interface(self, iface: Any) -> None:
        # A row inserted by this transaction has no columns to compare yet.
        wanted = self.wanted
        iface.type = wanted.interface_type
        iface.external_ids = dict(wanted.external_ids)
        iface.options = dict(wanted.options)
        if wanted.mtu_request is not None:
            iface.mtu_request = [wanted.mtu_request]

    def _create(self, txn: Any, bridge: Any) -> None:
        wanted = self.wanted
        iface = txn.insert(self.api.tables["Interface"])
        iface.name = wanted.name
        # ovsdbapp then waits for ovs-vswitchd and logs a port it could
        # not open.
        txn.expected_ifaces.add(iface.uuid)
        self._fill_interface(iface)
        port = txn.insert(self.api.tables["Port"])
        port.name = wanted.name
        port.interfaces = [iface]
        if wanted.tag is not None:
            port.tag = [wanted.tag]
        if wanted.vlan_mode is not None:
            port.vlan_mode = [wanted.vlan_mode]
        if wanted.trunks:
            port.trunks = list(wanted.trunks)
        if wanted.qos_type is not None:
            qos = txn.insert(self.api.tables["QoS"])
            qos.type = wanted.qos_type
            # Marks the row as made for this port, to delete it with it.
            qos.external_ids = {"_type": wanted.qos_type, "id": wanted.name}
            port.qos = [qos]
        bridge.addvalue("ports", port)


class _RemovePort(ovs_command.BaseCommand):
    def __init__(self, api: Any, removal: model.PortRemoval) -> None:
        super().__init__(api)
        self.removal = removal

    def run_idl(self, txn: Any) -> None:
        port = _lookup(self.api, "Port", self.removal.name)
        if port is None:
            return
        bridge = _bridge_of(self.api, port)
        ours = [q for q in port.qos if q.external_ids.get("id") == port.name]
        if ours:
            # The reference goes first: OVSDB checks integrity per row.
            port.qos = []
            for qos in ours:
                qos.delete()
        if bridge is None:
            return
        if self.removal.remove_bridge_if_unused and _bridge_unused(
            bridge, port
        ):
            self.api._ovs.delvalue("bridges", bridge)
            bridge.delete()
        else:
            bridge.delvalue("ports", port)


class PendingCommit:
    """A transaction handed to the connection's thread, not yet answered."""

    def __init__(self, txn: Any, what: str) -> None:
        self.txn = txn
        self.what = what
        # ovsdbapp's Transaction.commit() is "queue, then wait for the
        # result"; the two halves are split here so that the caller can
        # work in between.
        try:
            txn.ovsdb_connection.queue_txn(txn)
        except Exception as err:
            raise exception.HostOperationFailed(
                operation="ovsdb transaction", device=what, err=err
            ) from err

    def wait(self) -> None:
        """Return once committed; raise HostOperationFailed otherwise."""
        try:
            result = self.txn.results.get(timeout=self.txn.timeout)
        except queue.Empty as err:
            raise exception.HostOperationFailed(
                operation="ovsdb transaction",
                device=self.what,
                err="no answer from ovsdb-server within %ss"
                % self.txn.timeout,
            ) from err
        if isinstance(result, idlutils.ExceptionResult):
            if isinstance(result.ex, exception.ExceptionBase):
                # An operation's own refusal, raised inside the transaction.
                raise result.ex
            raise exception.HostOperationFailed(
                operation="ovsdb transaction", device=self.what, err=result.ex
            ) from result.ex


class OvsdbClient:
    """Reads and writes one OVSDB through the process's shared connection.

    ``connection`` is an OVSDB connection string (``tcp:127.0.0.1:6640``,
    ``unix:/run/openvswitch/db.sock``...) and ``timeout`` the longest a
    transaction may take, in seconds (0: no limit).
    """

    def __init__(self, connection_string: str, timeout: int) -> None:
        self.connection_string = connection_string
        self.timeout = timeout

    @property
    def api(self) -> Any:
        """The ovsdbapp API (connects on first use)."""
        return connection.get_api(self.connection_string, self.timeout)

    # -- reading the cache -------------------------------------------------

    def ensure_needed(
        self, bridges: Sequence[model.Bridge], ports: Sequence[model.Port]
    ) -> bool:
        """Say whether :meth:`ensure` would write anything."""
        api = self.api
        with api.ovsdb_connection.lock:
            return any(_bridge_differs(api, b) for b in bridges) or any(
                _port_differs(api, p) for p in ports
            )

    def removal_needed(self, removals: Sequence[model.PortRemoval]) -> bool:
        """Say whether :meth:`remove` would write anything."""
        api = self.api
        with api.ovsdb_connection.lock:
            return any(
                _lookup(api, "Port", removal.name) is not None
                for removal in removals
            )

    def port_bridge(self, name: str) -> str | None:
        """Return the name of the bridge port ``name`` is on, if any."""
        api = self.api
        with api.ovsdb_connection.lock:
            port = _lookup(api, "Port", name)
            bridge = None if port is None else _bridge_of(api, port)
            return None if bridge is None else str(bridge.name)

    def ports_of_vif(self, iface_id: str, mac: str) -> list[str]:
        """Return the ports whose interface carries this VIF's identity.

        The identity is the ``external_ids`` a plug writes: ``iface-id``
        and ``attached-mac``.  For finding a port whose device can no
        longer be named (a representor gone from sysfs).
        """
        api = self.api
        with api.ovsdb_connection.lock:
            names = {
                str(iface.name)
                for iface in api.tables["Interface"].rows.values()
                if iface.external_ids.get("iface-id") == iface_id
                and iface.external_ids.get("attached-mac") == mac
            }
            return sorted(
                name
                for name in names
                if _lookup(api, "Port", name) is not None
            )

    def bridge_exists(self, name: str) -> bool:
        """Say whether the bridge ``name`` is in the database."""
        api = self.api
        with api.ovsdb_connection.lock:
            return _lookup(api, "Bridge", name) is not None

    # -- writing -------------------------------------------------------------

    def _commit(self, commands: Iterable[Any], what: str) -> None:
        pending = self._start(commands, what)
        if pending is not None:
            pending.wait()

    def _start(
        self, commands: Iterable[Any], what: str
    ) -> PendingCommit | None:
        commands = list(commands)
        if not commands:
            return None
        txn = self.api.create_transaction(check_error=True)
        for command in commands:
            txn.add(command)
        return PendingCommit(txn, what)

    def start(
        self, commands: Iterable[Any], what: str
    ) -> PendingCommit | None:
        """Queue ``commands`` as one transaction; do not wait for it.

        ``None`` when there is nothing to commit.  For the plan runner,
        which works while ovsdb-server commits.
        """
        return self._start(commands, what)

    def existing(
        self, bridges: Sequence[model.Bridge], ports: Sequence[model.Port]
    ) -> tuple[set[str], set[str]]:
        """Return the names of those bridges and ports already present."""
        api = self.api
        with api.ovsdb_connection.lock:
            return (
                {b.name for b in bridges if _lookup(api, "Bridge", b.name)},
                {p.name for p in ports if _lookup(api, "Port", p.name)},
            )

    def ensure_start(
        self, bridges: Sequence[model.Bridge], ports: Sequence[model.Port]
    ) -> PendingCommit | None:
        """Send what :meth:`ensure` would write; do not wait for it.

        Return ``None`` when nothing differs, else a :class:`PendingCommit`
        whose :meth:`~PendingCommit.wait` returns once ovsdb-server has
        committed (or raises).  The caller may do other work meanwhile --
        the plugin runs its kernel steps -- since the transaction is
        carried out by the connection's own thread.
        """
        if not self.ensure_needed(bridges, ports):
            return None
        api = self.api
        commands: list[Any] = [_EnsureBridge(api, b) for b in bridges]
        commands += [_EnsurePort(api, p) for p in ports]
        return self._start(
            commands, ", ".join(p.name for p in ports) or "bridges"
        )

    def ensure(
        self, bridges: Sequence[model.Bridge], ports: Sequence[model.Port]
    ) -> bool:
        """Make ``bridges`` and ``ports`` exist as described.

        One transaction for all of them; none when the cache shows nothing
        differs.  Return whether anything was written.
        """
        pending = self.ensure_start(bridges, ports)
        if pending is None:
            return False
        pending.wait()
        return True

    def undo_ensure(
        self,
        bridges: Sequence[model.Bridge],
        ports: Sequence[model.Port],
        existed: tuple[set[str], set[str]],
    ) -> None:
        """Remove the bridges and ports :meth:`ensure` made (not others).

        ``existed`` is what :meth:`existing` returned before.
        """
        old_bridges, old_ports = existed
        api = self.api
        commands: list[Any] = [
            _RemovePort(api, model.PortRemoval(p.name))
            for p in ports
            if p.name not in old_ports
        ]
        commands += [
            api.del_br(b.name, if_exists=True)
            for b in bridges
            if b.name not in old_bridges
        ]
        self._commit(commands, "undo of " + ", ".join(p.name for p in ports))

    def remove(self, removals: Sequence[model.PortRemoval]) -> bool:
        """Remove the ports (absent ones are skipped), in one transaction."""
        if not self.removal_needed(removals):
            return False
        api = self.api
        self._commit(
            [_RemovePort(api, removal) for removal in removals],
            ", ".join(removal.name for removal in removals),
        )
        return True

    def remove_bridge(self, name: str) -> bool:
        """Delete the bridge ``name`` and its ports; absent is fine."""
        if not self.bridge_exists(name):
            return False
        self._commit([self.api.del_br(name, if_exists=True)], name)
        return True
