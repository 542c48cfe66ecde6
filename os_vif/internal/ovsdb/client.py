"""OVSDB commands and the transaction that carries them, in one go.

The operations of :mod:`.operations` compare what is wanted with the
IDL's cache (no round trip to ovsdb-server) and hand the commands here
only when something differs, which makes a re-plug cheap.  Every change
of a batch -- for one port or for hundreds -- goes into a single
transaction (:meth:`OvsdbClient.start`): either all of it is applied or
none.

The commands re-read the rows inside the transaction, so a change made by
someone else between the comparison and the commit is taken into account
rather than overwritten; python-ovs checks the rows it relied on and
ovsdbapp retries the transaction when they changed meanwhile.

Only public interfaces are used: ovsdbapp's commands, lookups and tables,
python-ovs's row attributes and mutation methods (``addvalue``,
``delvalue``, ``setkey``, ``delete``), ``Transaction.add_op`` and the
IDL's ``notify`` hook (in :mod:`.connection`, which also reads the IDL's
private session to reach its socket, for TCP keepalive).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from ovsdbapp.backend.ovs_idl import command as ovs_command
from ovsdbapp.backend.ovs_idl import idlutils

from os_vif import exception
from os_vif.internal.ovsdb import connection, model

__all__ = ["OvsdbClient", "PendingCommit", "TlsFiles"]

#: The files of ``ssl:`` connections (re-exported for the plugins).
TlsFiles = connection.TlsFiles

_T = TypeVar("_T")


def lookup(api: Any, table: str, name: str) -> Any:
    """Return the row of ``table`` called ``name``, or None.

    Outside a transaction, from the names of the wiring snapshot while it
    is fresh (names are immutable in this schema, and a row of these
    tables is created or deleted only with an update that makes the
    snapshot stale); inside one, and otherwise, from the IDL's index, which
    also holds the rows the transaction inserts.
    """
    if getattr(api.idl, "txn", None) is None:
        wiring = fresh_wiring(api)
        if wiring is not None:
            names = wiring.names.get(table)
            if names is not None:
                row_uuid = names.get(name)
                if row_uuid is None:
                    return None
                return api.tables[table].rows.get(row_uuid)
    return idlutils.row_by_value(api.idl, table, "name", name, None)


def _copy(api: Any, copies: str, row: Any, read: Callable[[Any], _T]) -> _T:
    """The connection's copy of ``row`` (kept in step with every update,
    see :mod:`.connection`), from its mapping ``copies``, when it is of this
    very row object and no transaction is under way -- inside one, rows
    show the transaction's own pending changes; else ``read(row)`` now.
    Call it with the connection's lock held, as every cache read."""
    if getattr(api.idl, "txn", None) is None:
        found = getattr(api.idl, copies, {}).get(row.uuid)
        if found is not None and found.row is row:
            return cast(_T, found)
    return read(row)


def interface_config(api: Any, iface: Any) -> connection.InterfaceConfig:
    """Return the configuration columns of the Interface row ``iface``."""
    return _copy(
        api, "interface_configs", iface, connection.InterfaceConfig.read
    )


def optional(column: Any) -> Any:
    """Return the value of an optional column (a list of 0 or 1 items)."""
    if isinstance(column, list):
        return column[0] if column else None
    return column


def open_vswitch(api: Any) -> Any:
    """Return the database's single ``Open_vSwitch`` row (its root)."""
    return next(iter(api.tables["Open_vSwitch"].rows.values()))


@dataclasses.dataclass(frozen=True)
class _Wiring:
    """Which bridge each port is on and which port holds each interface.

    A snapshot of the IDL's cache, built from public row attributes (and
    the rows' names, for :func:`lookup`):
    reading ``bridge.ports`` turns the whole set into rows -- on an
    integration bridge, hundreds of ports, 2 ms for 500 -- so it is built
    once and kept until an update from ovsdb-server may have rewired a
    port (``connection``'s ``wiring_changes``).  A re-plug of many VIFs
    then reads each bridge's ports once, not once per VIF.
    """

    #: The IDL's ``wiring_changes`` (else ``change_seqno``) when built.
    state: int
    #: Port UUID -> (bridge row, bridge name).
    bridge_of: Mapping[uuid.UUID, tuple[Any, str]]
    #: Interface UUID -> port row.
    port_of: Mapping[uuid.UUID, Any]
    #: Table (Bridge, Port, Interface) -> row name -> row UUID.
    names: Mapping[str, Mapping[str, uuid.UUID]] = dataclasses.field(
        default_factory=dict
    )


#: The tables whose rows the snapshot also finds by name.
_NAMED_TABLES = ("Bridge", "Port", "Interface")

_WIRING: weakref.WeakKeyDictionary[Any, _Wiring] = (
    weakref.WeakKeyDictionary()
)


def _wiring_state(idl: Any) -> int:
    # connection's IDL counts the updates that may rewire ports; any other
    # IDL is taken to have changed with every update it received.
    changes = getattr(idl, "wiring_changes", None)
    return int(idl.change_seqno if changes is None else changes)


def fresh_wiring(api: Any) -> _Wiring | None:
    """Return the wiring snapshot if no port was rewired since it was made."""
    wiring = _WIRING.get(api.idl)
    if wiring is not None and wiring.state == _wiring_state(api.idl):
        return wiring
    return None


def wiring(api: Any) -> _Wiring:
    """Return the wiring of the cache as it is, made again if it changed.

    Call it with the connection's lock held and outside any transaction:
    inside one, rows show the transaction's pending changes, which must not
    be remembered as the database's state.
    """
    wiring = fresh_wiring(api)
    if wiring is not None:
        return wiring
    state = _wiring_state(api.idl)
    bridge_of: dict[uuid.UUID, tuple[Any, str]] = {}
    port_of: dict[uuid.UUID, Any] = {}
    names: dict[str, dict[str, uuid.UUID]] = {
        table: {} for table in _NAMED_TABLES
    }
    for bridge in api.tables["Bridge"].rows.values():
        found = _members(api, "Bridge", bridge)
        names["Bridge"][found.name] = bridge.uuid
        for port_uuid in found.members:
            bridge_of[port_uuid] = (bridge, found.name)
    for port in api.tables["Port"].rows.values():
        found = _members(api, "Port", port)
        names["Port"][found.name] = port.uuid
        for iface_uuid in found.members:
            port_of[iface_uuid] = port
    interface_names = names["Interface"]
    for iface in api.tables["Interface"].rows.values():
        interface_names[interface_config(api, iface).name] = iface.uuid
    wiring = _Wiring(state, bridge_of, port_of, names)
    _WIRING[api.idl] = wiring
    return wiring


def _members(api: Any, table: str, row: Any) -> connection.Members:
    """A Bridge's name and ports, or a Port's name and interfaces."""
    column = connection.MEMBER_COLUMNS[table]
    return _copy(
        api,
        "row_members",
        row,
        lambda found: connection.Members.read(found, column),
    )


def qos_rows(api: Any, port: str) -> list[Any]:
    """The QoS rows made for ``port``, by os_vif or os-vif 5.x.

    Found by their ``external_ids`` (:func:`~.model.qos_external_ids`);
    rows an earlier os_vif 6 made carry the port's name as ``id``.
    """
    table = getattr(api, "tables", {}).get("QoS")
    if table is None:
        return []
    wanted = {model.qos_id(port), port}
    return [
        row
        for row in table.rows.values()
        if row.external_ids.get("id") in wanted and "_type" in row.external_ids
    ]


def bridge_of(api: Any, port_row: Any) -> Any:
    """Return the row of the bridge ``port_row`` is on, or ``None``.

    For use inside a transaction: the snapshot of :func:`wiring` is used
    when it matches the committed state (a command's own pending changes
    never concern the port it is about), else every bridge is searched.
    """
    bridges = api.tables["Bridge"].rows
    wiring = fresh_wiring(api)
    if wiring is not None:
        found = wiring.bridge_of.get(port_row.uuid)
        # A bridge deleted earlier in this transaction has left the table.
        if found is None or bridges.get(found[0].uuid) is None:
            return None
        return found[0]
    for bridge in bridges.values():
        if port_row in bridge.ports:
            return bridge
    return None


def bridge_unused(bridge: Any, leaving: frozenset[str]) -> bool:
    """Say whether only plumbing stays on ``bridge`` once ``leaving`` go.

    ``leaving`` names every port the transaction removes: their removal is
    a raw operation, which the rows do not show before it is committed.
    """
    for port in bridge.ports:
        if port.name in leaving or port.name == bridge.name:
            continue
        if all(iface.type == "patch" for iface in port.interfaces):
            continue
        return False
    return True


class EnsureBridgeCommand(ovs_command.BaseCommand):
    def __init__(self, api: Any, wanted: model.Bridge) -> None:
        super().__init__(api)
        self.wanted = wanted

    def run_idl(self, txn: Any) -> None:
        wanted = self.wanted
        row = lookup(self.api, "Bridge", wanted.name)
        if row is None:
            # ovsdbapp's add-br: the bridge with its own internal port and
            # interface, as ovs-vsctl add-br makes it.
            self.api.add_br(
                wanted.name,
                may_exist=False,
                datapath_type=wanted.datapath_type
                or wanted.default_datapath_type,
            ).run_idl(txn)


class EnsurePortCommand(ovs_command.BaseCommand):
    def __init__(self, api: Any, wanted: model.Port) -> None:
        super().__init__(api)
        self.wanted = wanted

    def run_idl(self, txn: Any) -> None:
        wanted = self.wanted
        # A bridge made by an earlier command of this transaction is found
        # too: python-ovs puts inserted rows in the table (and its name
        # index) until the transaction ends.
        bridge = lookup(self.api, "Bridge", wanted.bridge)
        if bridge is None:
            raise exception.HostOperationFailed(
                operation="ovsdb add port",
                device=wanted.name,
                err="bridge %s does not exist" % wanted.bridge,
            )
        port = lookup(self.api, "Port", wanted.name)
        if port is None:
            self._create(txn, bridge)
            return
        old = bridge_of(self.api, port)
        if old is None or old.uuid != bridge.uuid:
            # On another bridge (or none): move it, as ovs-vsctl would
            # refuse to and as a stale plug would need.
            if old is not None:
                old.delvalue("ports", port)
            bridge.addvalue("ports", port)
        iface = lookup(self.api, "Interface", wanted.name)
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
            and optional(iface.mtu_request) != wanted.mtu_request
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
        # Read by ovsdbapp's wait for ovs-vswitchd (which logs a port it
        # could not open); os_vif's commit-only transactions skip that
        # wait, a transaction class that waits still gets the new ports.
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
            # As os-vif 5.x: a row left over under the same identity goes
            # first (no port refers to it: the port is being made).
            for stale in qos_rows(self.api, wanted.name):
                stale.delete()
            qos = txn.insert(self.api.tables["QoS"])
            qos.type = wanted.qos_type
            qos.external_ids = model.qos_external_ids(
                wanted.name, wanted.qos_type
            )
            port.qos = [qos]
        bridge.addvalue("ports", port)


class DeleteBridgeCommand(ovs_command.BaseCommand):
    """Delete bridge ``name`` if nothing but plumbing stays on it."""

    def __init__(self, api: Any, name: str) -> None:
        super().__init__(api)
        self.name = name
        # The ports this transaction removes (set when it is started).
        self.leaving: frozenset[str] = frozenset()

    def run_idl(self, txn: Any) -> None:
        bridge = lookup(self.api, "Bridge", self.name)
        if bridge is None or not bridge_unused(bridge, self.leaving):
            return
        open_vswitch(self.api).delvalue("bridges", bridge)
        bridge.delete()


class RemovePortCommand(ovs_command.BaseCommand):
    def __init__(
        self,
        api: Any,
        removal: model.PortRemoval,
        leaving: frozenset[str] | None = None,
    ) -> None:
        super().__init__(api)
        self.removal = removal
        # Every port the transaction removes (this one included).
        self.leaving = leaving or frozenset({removal.name})

    def run_idl(self, txn: Any) -> None:
        port = lookup(self.api, "Port", self.removal.name)
        ours = qos_rows(self.api, self.removal.name)
        if port is not None and any(q in ours for q in port.qos):
            # The reference goes first: ovsdb-server refuses to delete a
            # row that is still referred to.
            port.qos = [q for q in port.qos if q not in ours]
        for qos in ours:
            qos.delete()
        if port is None:
            return
        if self.removal.remove_bridge_if_unused:
            bridge = bridge_of(self.api, port)
            if bridge is not None and bridge_unused(bridge, self.leaving):
                open_vswitch(self.api).delvalue("bridges", bridge)
                bridge.delete()
                return
        add_op = getattr(txn, "add_op", None)
        if add_op is None:
            # python-ovs older than raw operations: find the bridge.
            bridge = bridge_of(self.api, port)
            if bridge is not None:
                bridge.delvalue("ports", port)
            return
        # The server drops the reference to the port from whichever bridge
        # holds it; the Port and Interface rows, referred to by nothing
        # then, are garbage it deletes.  Finding that bridge here would
        # mean turning every bridge's port set into rows -- on an
        # integration bridge, hundreds per unplug.
        add_op(_unreference_port(port.uuid))


def _unreference_port(port_uuid: uuid.UUID) -> dict[str, Any]:
    """A raw OVSDB operation: remove ``port_uuid`` from every bridge.

    python-ovs sends raw operations after the transaction's own
    (``Transaction.add_op``).
    """
    atom = ["uuid", str(port_uuid)]
    return {
        "op": "mutate",
        "table": "Bridge",
        "where": [["ports", "includes", atom]],
        "mutations": [["ports", "delete", atom]],
    }


# Ports this process removed, per API, with the next_cfg of the removing
# transaction, until ovs-vswitchd is seen to have applied it.
_REMOVALS: dict[int, dict[str, int]] = {}
_REMOVALS_LOCK = threading.Lock()


class PendingCommit:
    """A transaction handed to the connection's thread, not yet answered."""

    def __init__(
        self, txn: Any, what: str, removed: frozenset[str] = frozenset()
    ) -> None:
        self.txn = txn
        self.what = what
        #: The ports the transaction removes (see :func:`removal_applied`).
        self.removed = removed
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
        next_cfg = getattr(self.txn, "next_cfg", None)
        if self.removed and next_cfg:
            with _REMOVALS_LOCK:
                pending = _REMOVALS.setdefault(id(self.txn.api), {})
                for name in self.removed:
                    pending[name] = next_cfg


class OvsdbClient:
    """Reads and writes one OVSDB through the process's shared connection.

    ``connection`` is an OVSDB connection string (``tcp:127.0.0.1:6640``,
    ``unix:/run/openvswitch/db.sock``...), ``timeout`` the longest a
    transaction may take, in seconds (0: no limit), and ``tls`` the files
    ``ssl:`` connections need.
    """

    def __init__(
        self,
        connection_string: str,
        timeout: int,
        tls: connection.TlsFiles | None = None,
    ) -> None:
        self.connection_string = connection_string
        self.timeout = timeout
        self.tls = tls

    @property
    def api(self) -> Any:
        """The ovsdbapp API (connects on first use)."""
        return connection.get_api(
            self.connection_string, self.timeout, self.tls
        )

    # -- writing -------------------------------------------------------------

    def wait_removals_applied(
        self, names: Iterable[str], limit: float
    ) -> bool:
        """Wait up to ``limit`` s for ovs-vswitchd to let go of ``names``.

        Return whether it has applied every removal of a port named in
        ``names`` that this process committed (its ``cur_cfg`` reached the
        removing transaction's ``next_cfg``); at once when there is none.
        When ovs-vswitchd applies a port's removal it puts back, by name,
        the flags the port's device had when it took it: a device made
        again under that name before then (a quick re-plug, an
        ``unplug_many`` then ``plug_many``) would be set down.
        """
        api = self.api
        with _REMOVALS_LOCK:
            pending = _REMOVALS.get(id(api), {})
            wanted = max((pending.get(n, 0) for n in names), default=0)
        if not wanted:
            return True
        deadline = time.monotonic() + limit
        while True:
            try:
                cur_cfg = open_vswitch(api).cur_cfg
            except Exception:  # noqa: BLE001 - no Open_vSwitch row now
                cur_cfg = -1
            if cur_cfg >= wanted:
                with _REMOVALS_LOCK:
                    for name, cfg in list(pending.items()):
                        if cfg <= cur_cfg:
                            del pending[name]
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.001)

    def _start(
        self, commands: Iterable[Any], what: str
    ) -> PendingCommit | None:
        commands = list(commands)
        if not commands:
            return None
        # A bridge whose last ports all leave in this transaction is
        # unused: every removal of the transaction counts (the rows show
        # the ports until the commit).
        leaving = frozenset(
            c.removal.name
            for c in commands
            if isinstance(c, RemovePortCommand)
        )
        for command in commands:
            if isinstance(command, (RemovePortCommand, DeleteBridgeCommand)):
                command.leaving = command.leaving | leaving
        txn = self.api.create_transaction(check_error=True)
        for command in commands:
            txn.add(command)
        return PendingCommit(txn, what, leaving)

    def start(
        self, commands: Iterable[Any], what: str
    ) -> PendingCommit | None:
        """Queue ``commands`` as one transaction; do not wait for it.

        ``None`` when there is nothing to commit.  For the plan runner,
        which works while ovsdb-server commits.
        """
        return self._start(commands, what)
