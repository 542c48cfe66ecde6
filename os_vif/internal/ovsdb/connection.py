"""One OVSDB IDL connection per connection string, for the whole process.

Opening an IDL connection fetches the schema and a copy of the monitored
tables, which costs far more than a plug; so the first caller opens it and
every later caller, in any thread, reuses it.  The python-ovs IDL
reconnects by itself (with back-off) when ovsdb-server goes away, and
ovsdbapp retries a transaction that was interrupted, so a restarted
ovsdb-server needs nothing from callers.

Only the columns os_vif reads or writes are monitored.  ovs-vswitchd
rewrites the status columns of every interface all the time (statistics
every few seconds, link state, ofport...); each of those updates would be
sent to this process and parsed by the IDL thread -- on a host with
hundreds of ports, a steady load that competes with plugging for the
interpreter.  The configuration columns change only when someone
configures the switch.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ovs.db import idl as ovs_idl
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.open_vswitch import impl_idl

from os_vif import exception

__all__ = [
    "MONITORED_COLUMNS",
    "MEMBER_COLUMNS",
    "InterfaceConfig",
    "Members",
    "get_api",
    "close_all",
]

#: The columns os_vif reads or writes, per table.
MONITORED_COLUMNS: dict[str, tuple[str, ...]] = {
    # next_cfg is bumped by every transaction (as ovs-vsctl does).
    "Open_vSwitch": ("bridges", "next_cfg", "cur_cfg"),
    "Bridge": ("name", "datapath_type", "ports"),
    "Port": ("name", "interfaces", "tag", "vlan_mode", "trunks", "qos"),
    "Interface": ("name", "type", "external_ids", "options", "mtu_request"),
    "QoS": ("type", "external_ids"),
}

LOG = logging.getLogger(__name__)

# ovsdbapp needs a number; "0 = wait forever" becomes a year.
_FOREVER = 365 * 24 * 3600

_APIS: dict[str, impl_idl.OvsdbIdl] = {}
_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class InterfaceConfig:
    """The configuration columns of one Interface row, as Python values.

    Read once per change of the row: python-ovs converts a column each time
    it is read (a map column three times over), and a re-plug of hundreds
    of ports reads these columns of every one.  The mappings are shared:
    read them, never change them.
    """

    #: The row it was read from (a row object is reused for its updates,
    #: replaced when the connection loads the database again).
    row: Any
    name: str
    type: str
    external_ids: Mapping[str, str]
    options: Mapping[str, str]
    #: ``mtu_request``, None when unset.
    mtu_request: int | None

    @classmethod
    def read(cls, row: Any) -> InterfaceConfig:
        """Convert ``row``'s configuration columns (public row reads)."""
        mtu = row.mtu_request
        if isinstance(mtu, list):  # an optional column: [] or [value]
            mtu = mtu[0] if mtu else None
        return cls(
            row=row,
            name=str(row.name),
            type=str(row.type),
            external_ids=dict(row.external_ids),
            options=dict(row.options),
            mtu_request=mtu,
        )


@dataclasses.dataclass(frozen=True)
class Members:
    """A Bridge's name and ports, or a Port's name and interfaces.

    What the OVSDB client's wiring snapshot is made of, read when an update
    creates or changes the row: reading a set of references turns each
    into a row (2 ms for a bridge of 500 ports), and after a plug of
    hundreds of ports every one of them has changed.
    """

    #: The row it was read from (see :class:`InterfaceConfig`).
    row: Any
    name: str
    #: The UUIDs of the rows of ``ports`` (a bridge), ``interfaces`` (a port).
    members: tuple[uuid.UUID, ...]

    @classmethod
    def read(cls, row: Any, column: str) -> Members:
        """Read ``row``'s name and the references of ``column``."""
        return cls(
            row=row,
            name=str(row.name),
            members=tuple(
                member.uuid
                for member in getattr(row, column)
                if member is not None
            ),
        )


#: The column of a table's :class:`Members`.
MEMBER_COLUMNS = {"Bridge": "ports", "Port": "interfaces"}


class _WatchedIdl(ovs_connection.OvsdbIdl):
    """ovsdbapp's IDL, following the updates the OVSDB client caches.

    :attr:`wiring_changes` grows whenever ovsdb-server reports a Bridge or
    Port row created or changed, or any row deleted: the only updates after
    which a port may be on another bridge, or hold another interface, than
    before.  The OVSDB client keeps that wiring for as long as it stays the
    same, so that a re-plug does not turn every bridge's port set into rows
    again each time ovs-vswitchd reports its progress (``cur_cfg``) or an
    interface's columns change.

    :attr:`interface_configs` holds every Interface row's configuration
    columns as Python values, and :attr:`row_members` every Bridge's ports and
    every Port's interfaces, converted when an update creates or changes
    the row (in the connection's thread, while the caller of a plug waits
    for its transaction anyway), so that checking hundreds of ports, and
    making the wiring snapshot again after a plug, read dictionaries
    instead of converting columns.  A row the connection loaded again
    after a reconnection is a new row object: a copy of another row object
    is not used (see :func:`.client.interface_config`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.wiring_changes = 0
        #: Interface UUID -> its :class:`InterfaceConfig`.
        self.interface_configs: dict[uuid.UUID, InterfaceConfig] = {}
        #: Bridge or Port UUID -> its :class:`Members`.
        self.row_members: dict[uuid.UUID, Members] = {}
        super().__init__(*args, **kwargs)

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        # python-ovs calls this for every row an update creates, changes or
        # deletes, in the connection's thread, with its lock held, once the
        # whole update is applied.  A row already deleted is in no table,
        # so any deletion counts.
        if event == ovs_idl.ROW_DELETE:
            self.wiring_changes += 1
            self.interface_configs.pop(row.uuid, None)
            self.row_members.pop(row.uuid, None)
        elif row.uuid in self.tables["Interface"].rows:
            self._keep(self.interface_configs, row, InterfaceConfig.read)
        else:
            for table, column in MEMBER_COLUMNS.items():
                if row.uuid in self.tables[table].rows:
                    self.wiring_changes += 1
                    self._keep(
                        self.row_members,
                        row,
                        functools.partial(Members.read, column=column),
                    )
                    break
        super().notify(event, row, updates)

    @staticmethod
    def _keep(
        copies: dict[uuid.UUID, Any], row: Any, read: Callable[[Any], Any]
    ) -> None:
        # An exception here would end python-ovs's processing of the update
        # and make ovsdbapp reconnect: a row that cannot be copied is read
        # from the row itself instead (readers fall back when no copy is
        # there).
        try:
            copies[row.uuid] = read(row)
        except Exception:
            copies.pop(row.uuid, None)
            LOG.exception("Could not copy OVSDB row %s", row.uuid)


class _CommitOnlyTransaction(impl_idl.OvsVsctlTransaction):
    """A transaction that returns once ovsdb-server has committed it.

    Like ``ovs-vsctl --no-wait``: ``next_cfg`` is still bumped (so tools
    waiting on ``cur_cfg`` see the change), but the caller does not wait
    for ovs-vswitchd to apply it.  ovs-vswitchd applies every committed
    change by itself; a port it cannot open shows in ``Interface.error``.
    Waiting would make every plug pay for a full switch reconfiguration,
    which grows with the number of ports on the host.
    """

    def do_post_commit(self, txn: Any) -> None:
        return None


class _OsVifOvsdbIdl(impl_idl.OvsdbIdl):
    """ovsdbapp's Open_vSwitch API, holding its own connection.

    ovsdbapp keeps a backend's connection per class, set once: every
    instance would share the first connection ever given to the class.
    Here each instance keeps the one it is given, so that two databases --
    or a connection reopened after :func:`close_all` -- stay apart.
    """

    def __init__(self, connection: ovs_connection.Connection) -> None:
        self._connection = connection
        super().__init__(connection)

    @property
    def ovsdb_connection(self) -> ovs_connection.Connection:
        return self._connection

    @ovsdb_connection.setter
    def ovsdb_connection(self, connection: ovs_connection.Connection) -> None:
        self._connection = connection

    def create_transaction(
        self, check_error: bool = False, log_errors: bool = True, **kwargs: Any
    ) -> _CommitOnlyTransaction:
        return _CommitOnlyTransaction(
            self,
            self.ovsdb_connection,
            check_error=check_error,
            log_errors=log_errors,
        )


def get_api(connection: str, timeout: int) -> impl_idl.OvsdbIdl:
    """Return the process's ovsdbapp API for ``connection``.

    ``timeout`` (seconds) bounds each transaction, including the wait for
    ovs-vswitchd to apply it; it is taken from the first caller.  Raise
    :class:`os_vif.exception.HostOperationFailed` when ovsdb-server cannot
    be reached; the next call tries again.
    """
    api = _APIS.get(connection)
    if api is not None:
        return api
    with _LOCK:
        api = _APIS.get(connection)
        if api is not None:
            return api
        try:
            helper = idlutils.get_schema_helper(connection, "Open_vSwitch")
            for table, columns in MONITORED_COLUMNS.items():
                helper.register_columns(table, list(columns))
            idl = _WatchedIdl(connection, helper)
            conn = ovs_connection.Connection(idl, timeout=timeout or _FOREVER)
            api = _OsVifOvsdbIdl(conn)
        except Exception as err:
            raise exception.HostOperationFailed(
                operation="connect to ovsdb-server",
                device=connection,
                err=err,
            ) from err
        _APIS[connection] = api
        return api


def close_all() -> None:
    """Close every connection; the next :func:`get_api` opens a new one.

    For tests and for services that fork after using os_vif: an IDL
    connection must not be shared across a fork.
    """
    with _LOCK:
        apis = list(_APIS.values())
        _APIS.clear()
    for api in apis:
        api.ovsdb_connection.stop(timeout=5)
