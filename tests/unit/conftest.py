"""Unit tests never touch the host: the guard every unit test runs under.

Inside ``tests/unit``, each of these fails with :class:`HostAccess` naming
what was attempted:

* opening a netlink socket: pyroute2's ``IPRoute``, ``NetNS`` and any
  other pyroute2 netlink socket (``NFTables``...), or a raw
  ``socket.socket(AF_NETLINK, ...)``;
* starting an oslo.privsep daemon (``PrivContext.start``, or a client
  channel made directly);
* connecting to an OVSDB server (python-ovs streams, ovsdbapp's
  ``Connection.start``);
* opening a file under ``/proc/sys`` or ``/sys`` for writing.

Code under test may catch the error (a plugin reports a failed check
instead of raising), so an attempt is also recorded, and a test during
which one was made fails at teardown even if it passed.  A test that needs
host state gets it from a fake at the thinnest layer (the link dump, the
sysfs reader, the OVSDB client); a test of the host itself belongs in
``tests/functional``.  ``host_guard.expect()`` lets the guard's own tests
make an attempt on purpose.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import pytest


class HostAccess(RuntimeError):
    """A unit test tried to touch the host."""

    def __init__(self, what: str) -> None:
        super().__init__(
            "unit tests never touch the host, and this one tried to %s; "
            "give it the host state it needs from a fake at the thinnest "
            "layer (link dump, sysfs reader, OVSDB client), or move it to "
            "tests/functional if it tests the host (see tests/unit/"
            "conftest.py)" % what
        )
        self.what = what


class HostGuard:
    """The attempts made during one test."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._expected = 0

    def refuse(self, what: str) -> None:
        """Record the attempt and raise :class:`HostAccess`."""
        self.attempts.append(what)
        raise HostAccess(what)

    def verdict(self) -> str | None:
        """Why the test fails at teardown, or None: no attempt was made
        (outside :meth:`expect`)."""
        if not self.attempts:
            return None
        return (
            "the test tried to touch the host (the code under test may have "
            "caught the error): %s" % "; ".join(self.attempts)
        )

    @contextlib.contextmanager
    def expect(self) -> Iterator[list[str]]:
        """Attempts made inside the block are the test's purpose: yields
        the list they are recorded in, and does not fail the test."""
        start = len(self.attempts)
        seen: list[str] = []
        try:
            yield seen
        finally:
            seen.extend(self.attempts[start:])
            del self.attempts[start:]


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_GUARDED_TREES = ("/proc/sys", "/sys")


def _guarded_path(path: Any) -> str | None:
    """``path`` made absolute if it lies under /proc/sys or /sys."""
    if isinstance(path, int):
        return None
    try:
        text = os.path.abspath(os.fsdecode(os.fspath(path)))
    except TypeError:
        return None
    for tree in _GUARDED_TREES:
        if text == tree or text.startswith(tree + "/"):
            return text
    return None


def _install(monkeypatch: pytest.MonkeyPatch, guard: HostGuard) -> None:
    # Netlink: pyroute2's sockets, and raw ones.
    from pyroute2.iproute import linux as pyroute2_linux
    from pyroute2.netlink import nlsocket

    def refused(what: str) -> Callable[..., None]:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            guard.refuse(what)

        return init

    iproute_init = pyroute2_linux.IPRoute.__init__

    def guarded_iproute(self: Any, *args: Any, **kwargs: Any) -> None:
        # IPBatch only compiles requests (tests compare encodings with it):
        # let it be made; a socket it opened would still be refused below.
        if not isinstance(self, pyroute2_linux.IPBatch):
            guard.refuse("open a pyroute2 IPRoute")
        iproute_init(self, *args, **kwargs)

    monkeypatch.setattr(pyroute2_linux.IPRoute, "__init__", guarded_iproute)
    monkeypatch.setattr(
        pyroute2_linux.NetNS, "__init__", refused("open a pyroute2 NetNS")
    )
    nlsocket_init = nlsocket.NetlinkSocket.__init__

    def guarded_nlsocket(self: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(self, pyroute2_linux.IPBatch):
            guard.refuse("open a pyroute2 netlink socket")
        nlsocket_init(self, *args, **kwargs)

    monkeypatch.setattr(nlsocket.NetlinkSocket, "__init__", guarded_nlsocket)
    socket_init = socket.socket.__init__

    def guarded_socket(self: Any, family: Any = -1, *args: Any,
                       **kwargs: Any) -> None:
        if family == socket.AF_NETLINK:
            guard.refuse("open a netlink socket (socket.socket(AF_NETLINK))")
        socket_init(self, family, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "__init__", guarded_socket)

    # oslo.privsep daemons.
    from oslo_privsep import daemon as privsep_daemon
    from oslo_privsep import priv_context

    def refused_start(self: Any, *args: Any, **kwargs: Any) -> None:
        guard.refuse(
            "start the privsep daemon of %s" % getattr(self, "pypath", self)
        )

    monkeypatch.setattr(priv_context.PrivContext, "start", refused_start)
    for channel in ("RootwrapClientChannel", "ForkingClientChannel"):
        monkeypatch.setattr(
            getattr(privsep_daemon, channel),
            "__init__",
            refused("start a privsep daemon (%s)" % channel),
        )

    # OVSDB.
    from ovs import stream as ovs_stream
    from ovsdbapp.backend.ovs_idl import connection as ovs_connection

    def refused_open(what: str) -> Callable[..., Any]:
        def open_(*args: Any, **kwargs: Any) -> Any:
            guard.refuse(
                "%s %s" % (what, " ".join(str(a) for a in args[-2:][:1]))
            )

        return open_

    monkeypatch.setattr(
        ovs_stream.Stream, "open", staticmethod(refused_open("connect to"))
    )
    monkeypatch.setattr(
        ovs_stream.PassiveStream,
        "open",
        staticmethod(refused_open("listen on")),
    )
    monkeypatch.setattr(
        ovs_connection.Connection,
        "start",
        refused("connect to an OVSDB server (ovsdbapp Connection.start)"),
    )

    # Writes under /proc/sys and /sys.
    real_open = builtins.open
    real_os_open = os.open

    def guarded_open(file: Any, mode: str = "r", *args: Any,
                     **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            path = _guarded_path(file)
            if path is not None:
                guard.refuse("write %s" % path)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any,
                        **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS:
            target = _guarded_path(path)
            if target is not None:
                guard.refuse("write %s" % target)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)


@pytest.fixture(autouse=True)
def host_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[HostGuard]:
    """Refuse every host access the test makes (see the module)."""
    guard = HostGuard()
    _install(monkeypatch, guard)
    yield guard
    verdict = guard.verdict()
    if verdict is not None:
        pytest.fail(verdict, pytrace=False)


class EmptyNetlink:
    """rtnetlink of a namespace without links, for
    :mod:`os_vif.internal.linkstate`'s socket.

    A dump is answered ``NLMSG_DONE``, a request for one link ``ENODEV``:
    everything above the socket (decoding, snapshots, the plugins' checks
    and collections) runs as on a host where nothing exists.
    """

    _HEADER = struct.Struct("=IHHII")
    _DONE, _ERROR, _DUMP = 3, 2, 0x300

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._answers: list[bytes] = []

    def send(self, data: bytes) -> int:
        """Take a request; queue the kernel's answer."""
        self.requests.append(bytes(data))
        _length, _kind, flags, seq, _pid = self._HEADER.unpack_from(data)
        if flags & self._DUMP == self._DUMP:
            body = struct.pack("=i", 0)
            kind = self._DONE
        else:
            body = struct.pack("=i", -errno.ENODEV) + bytes(data[:16])
            kind = self._ERROR
        self._answers.append(
            self._HEADER.pack(16 + len(body), kind, 0, seq, 0) + body
        )
        return len(data)

    def recv(self, size: int) -> bytes:
        """The next answer."""
        return self._answers.pop(0)

    def close(self) -> None:
        """Nothing to close."""


@pytest.fixture
def empty_host(monkeypatch: pytest.MonkeyPatch) -> EmptyNetlink:
    """The link state reader sees a namespace without links."""
    from os_vif.internal import linkstate

    fake = EmptyNetlink()
    monkeypatch.setattr(linkstate, "_socket", lambda: fake)
    return fake


class EmptyOvsdb:
    """The ovsdbapp API of an empty Open_vSwitch database (no bridge, port
    or interface), as :func:`os_vif.internal.ovsdb.connection.get_api`
    returns a connected one: tables of rows, the IDL, the connection's
    lock.  Enough for reads; a transaction fails (no ``transaction``)."""

    class _Table:
        def __init__(self) -> None:
            self.rows: dict[Any, Any] = {}

    class _Idl:
        # A class of its own: the client keeps weak references to IDLs.
        def __init__(self, tables: dict[str, Any]) -> None:
            self.tables = tables
            self.change_seqno = 0
            self.wiring_changes = 0
            self.txn = None

    def __init__(self) -> None:
        import collections
        import threading
        import types

        self.tables: dict[str, EmptyOvsdb._Table] = collections.defaultdict(
            EmptyOvsdb._Table
        )
        self.idl = EmptyOvsdb._Idl(self.tables)
        self.ovsdb_connection = types.SimpleNamespace(
            lock=threading.RLock(), idl=self.idl
        )
        self.connections: list[str] = []


@pytest.fixture
def empty_ovsdb(monkeypatch: pytest.MonkeyPatch) -> EmptyOvsdb:
    """Every OVSDB connection reaches an empty database."""
    from os_vif.internal.ovsdb import connection

    fake = EmptyOvsdb()

    def get_api(target: str, *args: Any, **kwargs: Any) -> EmptyOvsdb:
        fake.connections.append(target)
        return fake

    monkeypatch.setattr(connection, "get_api", get_api)
    return fake
