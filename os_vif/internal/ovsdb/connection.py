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

On ``tcp:`` and ``ssl:`` connections the kernel keeps the connection alive
(TCP keepalive) and python-ovs sends no inactivity probes of its own, as in
os-vif 5.x: a probe needs this process to answer within seconds, which a
busy or paused nova-compute does not always do, and each missed probe
costs a reconnection and a new download of the monitored tables.  Unlike
5.x, the keepalive timers are set on the socket (see :data:`KEEPALIVE`)
instead of the kernel's defaults, under which a silently vanished server
would only be noticed after more than two hours.

``ssl:`` connections use the private key, certificate and CA certificate
given as :class:`TlsFiles`; the files are checked, and a TLS handshake is
tried, before the IDL connects, so that a missing option or an untrusted
certificate is one error that names it instead of a silent reconnection
loop until the timeout.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ovs import socket_util as ovs_socket_util
from ovs import stream as ovs_stream
from ovs.db import idl as ovs_idl
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.open_vswitch import impl_idl

from os_vif import exception

__all__ = [
    "MONITORED_COLUMNS",
    "MEMBER_COLUMNS",
    "InterfaceConfig",
    "KEEPALIVE",
    "Members",
    "TLS_OPTIONS",
    "TlsFiles",
    "get_api",
    "close_all",
    "live_socket",
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

#: TCP keepalive of ``tcp:`` and ``ssl:`` connections, as socket options:
#: probes start after 30 seconds without traffic, go out every 10
#: seconds, and 6 unanswered ones close the connection (python-ovs then
#: reconnects), so a server that vanished without closing the connection
#: is noticed after about 90 seconds.  The probes are answered by the
#: server's kernel: a busy ovsdb-server, or a busy os_vif, does not miss
#: them.
KEEPALIVE: Mapping[tuple[int, int], int] = {
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
    (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE): 30,
    (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL): 10,
    (socket.IPPROTO_TCP, socket.TCP_KEEPCNT): 6,
}

#: The ``[os_vif_ovs]`` options an ``ssl:`` connection needs, in the order
#: of :class:`TlsFiles`'s fields.
TLS_OPTIONS = ("ssl_key_file", "ssl_cert_file", "ssl_ca_cert_file")

#: What python-ovs calls each of :data:`TLS_OPTIONS` (its per-process
#: settings; there is no public getter).
_PYTHON_OVS_TLS = (
    "_SSL_private_key_file",
    "_SSL_certificate_file",
    "_SSL_ca_cert_file",
)

#: The TLS files os_vif last gave python-ovs, or None.
_tls_given: tuple[str | None, ...] | None = None

#: TLS alerts (OpenSSL reason codes) by which a server refuses the
#: client's certificate.
_REFUSED_CERTIFICATE = ("CERTIFICATE", "UNKNOWN_CA", "ACCESS_DENIED")


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """The private key, certificate and CA certificate of ``ssl:`` remotes.

    Field names are the option names (:data:`TLS_OPTIONS`); ``group`` is
    the option group that error messages name.  Unused by ``tcp:`` and
    ``unix:`` connections.
    """

    ssl_key_file: str | None = None
    ssl_cert_file: str | None = None
    ssl_ca_cert_file: str | None = None
    group: str = "os_vif_ovs"

    @classmethod
    def from_config(cls, config: Any, group: str = "os_vif_ovs") -> TlsFiles:
        """Read the :data:`TLS_OPTIONS` of a plugin's ``config``.

        An option the group does not declare counts as unset.
        """
        values = {name: getattr(config, name, None) for name in TLS_OPTIONS}
        return cls(group=group, **values)

    @property
    def files(self) -> tuple[str | None, str | None, str | None]:
        """The three files, in the order of :data:`TLS_OPTIONS`."""
        return (self.ssl_key_file, self.ssl_cert_file, self.ssl_ca_cert_file)

    def option(self, name: str) -> str:
        """``group.name``, as error messages name an option."""
        return "%s.%s" % (self.group, name)


def ssl_remotes(connection: str) -> list[str]:
    """The ``ssl:`` remotes of a (comma-separated) connection string."""
    return [
        remote
        for remote in idlutils.parse_connection(connection)
        if remote.startswith("ssl:")
    ]


def tls_context(connection: str, tls: TlsFiles) -> ssl.SSLContext | None:
    """Check ``tls`` for ``connection``; the context of its handshakes.

    ``None`` when ``connection`` has no ``ssl:`` remote.  Raise
    :class:`os_vif.exception.InvalidArgument`, naming the option, when an
    option is unset or its file cannot be read or used.  Reads the files
    only: nothing connects.
    """
    if not ssl_remotes(connection):
        return None
    missing = [
        name
        for name, value in zip(TLS_OPTIONS, tls.files, strict=True)
        if not value
    ]
    if missing:
        raise exception.InvalidArgument(
            field=tls.option(missing[0]),
            value=None,
            reason="ovsdb_connection %s is a TLS (ssl:) connection, which "
            "needs %s set (unset: %s)"
            % (connection, ", ".join(TLS_OPTIONS), ", ".join(missing)),
        )
    for name, path in zip(TLS_OPTIONS, tls.files, strict=True):
        try:
            with open(str(path), "rb"):
                pass
        except OSError as err:
            raise exception.InvalidArgument(
                field=tls.option(name),
                value=path,
                reason="cannot be read: %s" % (err.strerror or err),
            ) from err
    # The settings python-ovs's own TLS streams use, so that the handshake
    # tried here and the connection's agree: the server's certificate must
    # be signed by the CA, its host name is not checked (OVS certificates
    # name no host), TLS 1.2 at least.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(tls.ssl_ca_cert_file)
    except (ssl.SSLError, ValueError) as err:
        raise exception.InvalidArgument(
            field=tls.option("ssl_ca_cert_file"),
            value=tls.ssl_ca_cert_file,
            reason="not a PEM CA certificate: %s" % err,
        ) from err
    try:
        context.load_cert_chain(str(tls.ssl_cert_file), tls.ssl_key_file)
    except (ssl.SSLError, ValueError) as err:
        raise exception.InvalidArgument(
            field=tls.option("ssl_cert_file"),
            value=tls.ssl_cert_file,
            reason="not a PEM certificate matching %s %s: %s"
            % (tls.option("ssl_key_file"), tls.ssl_key_file, err),
        ) from err
    return context


def tls_failure(err: BaseException, tls: TlsFiles) -> str:
    """Say in words why a TLS handshake with ovsdb-server failed."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return (
            "the server's certificate is not signed by the CA in %s (%s): %s"
            % (
                tls.option("ssl_ca_cert_file"),
                tls.ssl_ca_cert_file,
                err.verify_message or err,
            )
        )
    refused = (
        "ovsdb-server refused the certificate in %s (%s): is it signed by "
        "the CA ovsdb-server trusts (its --ca-cert, or ca_cert in its SSL "
        "table)?" % (tls.option("ssl_cert_file"), tls.ssl_cert_file)
    )
    reason = str(getattr(err, "reason", None) or "")
    if isinstance(err, ssl.SSLError) and any(
        word in reason for word in _REFUSED_CERTIFICATE
    ):
        return "%s (TLS alert %s)" % (refused, reason)
    # ovsdb-server checks the client's certificate once the handshake is
    # over (TLS 1.3) and closes the connection without an alert when it
    # does not trust it.
    if isinstance(
        err,
        (
            ssl.SSLEOFError,
            ssl.SSLZeroReturnError,
            ConnectionResetError,
            EOFError,
        ),
    ):
        return (
            "the connection was closed during the TLS handshake or right "
            "after it: " + refused
        )
    if isinstance(err, TimeoutError):
        return "no answer to the TLS handshake: %s" % err
    return "%s: %s" % (type(err).__name__, err)


def _try_tls(
    remote: str, context: ssl.SSLContext, timeout: float, tls: TlsFiles
) -> str | None:
    """Shake hands with ``remote`` and exchange one message.

    The message matters: with TLS 1.3 a server refuses the client's
    certificate only after the client's side of the handshake is done.
    Return why it failed, or ``None``.
    """
    try:
        host, port = ovs_socket_util.inet_parse_active(remote[4:], 0)
    except ValueError as err:
        return "not an ssl:IP:PORT remote: %s" % err
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw) as conn:
                conn.sendall(b'{"id":0,"method":"echo","params":[]}')
                if not conn.recv(1):
                    raise EOFError("closed by the server")
    except (OSError, EOFError) as err:
        return tls_failure(err, tls)
    return None


def _check_tls(connection: str, tls: TlsFiles, timeout: float) -> None:
    """Make sure ``connection``'s ``ssl:`` remotes can be used with ``tls``.

    Checks the options, then python-ovs's process-wide TLS settings, then
    tries each remote; gives python-ovs the files once one answered.
    Raise an :mod:`os_vif.exception` naming the option or the connection.
    """
    context = tls_context(connection, tls)
    if context is None:
        return
    _check_python_ovs_tls(tls)
    failures = []
    for remote in ssl_remotes(connection):
        failure = _try_tls(remote, context, timeout, tls)
        if failure is None:
            break
        failures.append("%s: %s" % (remote, failure))
    else:
        raise exception.HostOperationFailed(
            operation="TLS connection to ovsdb-server",
            device=connection,
            err="; ".join(failures),
        )
    _give_python_ovs_tls(tls)


def _check_python_ovs_tls(tls: TlsFiles) -> None:
    # python-ovs keeps one key, certificate and CA certificate for the
    # whole process (class attributes of its Stream, read at every
    # connection and reconnection).  Changing them under another user of
    # python-ovs in this process (another library, or another os_vif
    # connection that is open) would break its next reconnection, so os_vif
    # only sets them when they are unset or are its own, unused ones.
    current = tuple(
        getattr(ovs_stream.Stream, name, None) for name in _PYTHON_OVS_TLS
    )
    if current == tls.files or not any(current):
        return
    in_use = any(ssl_remotes(connection) for connection in _APIS)
    if current == _tls_given and not in_use:
        return
    raise exception.InvalidArgument(
        field=", ".join(tls.option(name) for name in TLS_OPTIONS),
        value=tls.files,
        reason="python-ovs has one private key, certificate and CA "
        "certificate per process and they are already set to %s by %s; "
        "give every ssl: connection of this process the same files"
        % (
            current,
            "another os_vif connection" if in_use else "another library",
        ),
    )


def _give_python_ovs_tls(tls: TlsFiles) -> None:
    global _tls_given
    ovs_stream.Stream.ssl_set_private_key_file(tls.ssl_key_file)
    ovs_stream.Stream.ssl_set_certificate_file(tls.ssl_cert_file)
    ovs_stream.Stream.ssl_set_ca_cert_file(tls.ssl_ca_cert_file)
    _tls_given = tls.files


def live_socket(idl: Any) -> socket.socket | None:
    """The socket of ``idl``'s connection (or connection attempt), if any.

    For the keepalive below, and for tests and diagnostics that look at
    the live connection.
    """
    # python-ovs keeps the session private; its stream (while connecting)
    # and its rpc's stream (once connected) are public attributes.
    session = getattr(idl, "_session", None)
    if session is None:
        return None
    rpc = getattr(session, "rpc", None)
    stream = rpc.stream if rpc is not None else session.stream
    sock = getattr(stream, "socket", None)
    return sock if isinstance(sock, socket.socket) else None


def _keep_alive(sock: socket.socket) -> None:
    """Turn TCP keepalive on, with :data:`KEEPALIVE`'s timers."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a unix socket: nothing between the ends to go silent
    try:
        for (level, option), value in KEEPALIVE.items():
            sock.setsockopt(level, option, value)
    except OSError as err:
        # A socket already closed by a failed connection attempt; the
        # next attempt's socket gets its own turn.
        LOG.debug("No TCP keepalive on the OVSDB socket: %s", err)


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
        #: The socket :meth:`run` last gave TCP keepalive.
        self._keepalive_socket: socket.socket | None = None
        self.wiring_changes = 0
        #: Interface UUID -> its :class:`InterfaceConfig`.
        self.interface_configs: dict[uuid.UUID, InterfaceConfig] = {}
        #: Bridge or Port UUID -> its :class:`Members`.
        self.row_members: dict[uuid.UUID, Members] = {}
        super().__init__(*args, **kwargs)

    def run(self) -> Any:
        """Process what the server sent; keep every new socket alive.

        Why here: python-ovs opens every (re)connection's socket inside
        :meth:`run`, through stream classes registered for the whole
        process.  Registering our own classes (as os-vif 5.x did) would
        change the connections of every python-ovs user in the process;
        setting the options on this connection's socket, right after the
        ``run`` that opened it, changes nothing else.  The connection is
        idle in between, and keepalive only matters once it is idle.
        """
        changes = super().run()
        sock = live_socket(self)
        if sock is not None and sock is not self._keepalive_socket:
            self._keepalive_socket = sock
            _keep_alive(sock)
        return changes

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

    #: The ``next_cfg`` this transaction set (None: it changed nothing).
    next_cfg: int | None = None

    def do_post_commit(self, txn: Any) -> None:
        # Kept for a caller that must know when ovs-vswitchd has applied
        # the change (client.OvsdbClient.wait_removals_applied).
        self.next_cfg = txn.get_increment_new_value()


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


def get_api(
    connection: str, timeout: int, tls: TlsFiles | None = None
) -> impl_idl.OvsdbIdl:
    """Return the process's ovsdbapp API for ``connection``.

    ``timeout`` (seconds) bounds each transaction, including the wait for
    ovs-vswitchd to apply it; it is taken from the first caller, as are
    the ``tls`` files that ``ssl:`` remotes need.  Raise
    :class:`os_vif.exception.InvalidArgument` naming the option when
    ``tls`` does not fit an ``ssl:`` connection (before connecting), and
    :class:`os_vif.exception.HostOperationFailed` when ovsdb-server cannot
    be reached or refuses the TLS handshake; the next call tries again.
    """
    api = _APIS.get(connection)
    if api is not None:
        return api
    with _LOCK:
        api = _APIS.get(connection)
        if api is not None:
            return api
        _check_tls(connection, tls or TlsFiles(), timeout or _FOREVER)
        try:
            helper = idlutils.get_schema_helper(connection, "Open_vSwitch")
            for table, columns in MONITORED_COLUMNS.items():
                helper.register_columns(table, list(columns))
            # No inactivity probes from this side (see the module
            # documentation); python-ovs never sends them on unix: anyway.
            idl = _WatchedIdl(connection, helper, probe_interval=0)
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
