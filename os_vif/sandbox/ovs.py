"""A private Open vSwitch, for the demo and the functional tests.

:class:`OvsServer` runs its own ``ovsdb-server`` and ``ovs-vswitchd`` with
every file they write (database, sockets, pid files, logs, ``--unixctl``
control sockets, the bridges' ``.mgmt``/``.snoop`` sockets) in one temporary
directory, optionally inside a network namespace, and stops them again.
Nothing of the host's own Open vSwitch (if it had one running) is touched:
the daemons never look at ``/var/run/openvswitch`` or ``/etc/openvswitch``.

The kernel of the test machines has no ``openvswitch`` module, so bridges
must use the userspace datapath (``datapath_type=netdev``); ovs-vswitchd
then opens ports with ordinary sockets, which works in any namespace.

Clients reach the database through a unix socket (:attr:`OvsServer.
connection`), which works from any network namespace; a ``ptcp:`` listener
and a TLS (``pssl:``) listener on random loopback ports are added on request
(they are only reachable from inside the daemons' namespace).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import time
from collections.abc import Sequence

from os_vif.sandbox import _process, interrupts, netns

__all__ = [
    "OVS_SCHEMA",
    "OvsServer",
    "OvsServerError",
    "ServerTls",
    "missing_reason",
]

#: The database schema shipped by Debian's openvswitch-common.
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
_BINARIES = ("ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl")
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class OvsServerError(RuntimeError):
    """A daemon did not start or stop; the message quotes its log."""


@dataclasses.dataclass(frozen=True)
class ServerTls:
    """The PEM files of ovsdb-server's TLS listener.

    ovsdb-server presents ``certificate`` (with ``private_key``) and
    accepts only clients whose certificate ``ca_cert`` signed.
    """

    private_key: str
    certificate: str
    ca_cert: str


def _which(binary: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which(binary, path=path)


def missing_reason() -> str | None:
    """Say why an Open vSwitch cannot be started here, or ``None``."""
    missing = [name for name in _BINARIES if _which(name) is None]
    if missing:
        return (
            "Open vSwitch is not installed (missing %s); install the "
            "openvswitch-switch package" % ", ".join(missing)
        )
    if not os.path.exists(OVS_SCHEMA):
        return "the Open vSwitch schema %s is missing" % OVS_SCHEMA
    if os.geteuid() != 0:
        return "ovs-vswitchd needs root to open tap devices"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (the userspace datapath needs it)"
    return None


def _alive(pid: int) -> bool:
    """Say whether ``pid`` runs; a zombie does not.

    Detached daemons are re-parented to PID 1, which may take its time to
    reap them, so ``/proc/<pid>`` alone would keep a dead daemon alive.
    """
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OvsServer:
    """ovsdb-server and ovs-vswitchd running from ``workdir``.

    ``netns`` is the name of a network namespace (as in ``ip netns``) to
    run both daemons in, or ``None`` for the caller's namespace.  With
    ``tcp=True`` the database also listens on ``127.0.0.1:<random port>``
    (see :attr:`tcp_connection`); with ``tls`` it also listens for TLS
    connections on another such port (see :attr:`ssl_connection`).
    """

    def __init__(
        self,
        workdir: str,
        netns: str | None = None,
        tcp: bool = False,
        tls: ServerTls | None = None,
    ) -> None:
        self.workdir = os.path.abspath(workdir)
        self.netns = netns
        self.db_file = os.path.join(self.workdir, "conf.db")
        self.db_socket = os.path.join(self.workdir, "db.sock")
        self.tcp_port = _free_port() if tcp else None
        self.tls = tls
        self.ssl_port = _free_port() if tls is not None else None
        self._env = dict(
            os.environ,
            OVS_RUNDIR=self.workdir,
            OVS_LOGDIR=self.workdir,
            OVS_DBDIR=self.workdir,
            OVS_SYSCONFDIR=self.workdir,
        )

    # -- locations ---------------------------------------------------------

    @property
    def connection(self) -> str:
        """The OVSDB connection string of the unix socket."""
        return "unix:" + self.db_socket

    @property
    def tcp_connection(self) -> str | None:
        """``tcp:127.0.0.1:<port>`` when started with ``tcp=True``."""
        if self.tcp_port is None:
            return None
        return "tcp:127.0.0.1:%d" % self.tcp_port

    @property
    def ssl_connection(self) -> str | None:
        """``ssl:127.0.0.1:<port>`` when started with ``tls``."""
        if self.ssl_port is None:
            return None
        return "ssl:127.0.0.1:%d" % self.ssl_port

    def _path(self, daemon: str, suffix: str) -> str:
        return os.path.join(self.workdir, daemon + suffix)

    def log(self, daemon: str) -> str:
        """Return the log of ``daemon`` (``ovsdb-server``/``ovs-vswitchd``)."""
        try:
            with open(self._path(daemon, ".log"), encoding="utf-8") as log:
                return log.read()
        except OSError:
            return ""

    # -- running commands --------------------------------------------------

    def _enter_netns(self) -> None:
        # Runs in the child between fork and exec: the daemon starts inside
        # the namespace without shelling out to "ip netns exec".
        fd = os.open("/run/netns/" + str(self.netns), os.O_RDONLY)
        netns.setns(fd)

    def _run(
        self, argv: Sequence[str], what: str, in_netns: bool = False
    ) -> str:
        return _process.run(
            argv,
            OvsServerError,
            what,
            env=self._env,
            preexec_fn=(
                self._enter_netns if in_netns and self.netns else None
            ),
        )

    def vsctl(self, *args: str) -> str:
        """Run ``ovs-vsctl`` against this database; return its output."""
        argv = [
            _which("ovs-vsctl") or "ovs-vsctl",
            "--db=" + self.connection,
            "--timeout=30",
            *args,
        ]
        return self._run(argv, "ovs-vsctl")

    def compact(self) -> None:
        """Compact the database now (``ovsdb-server/compact``).

        ovsdb-server also compacts by itself once its log has grown enough
        (in a thread of its own); a benchmark that resets the switch
        between contenders compacts there, so that none of them pays for
        the transactions of the one before.
        """
        self._run(
            [
                _which("ovs-appctl") or "ovs-appctl",
                "-t",
                self._path("ovsdb-server", ".ctl"),
                "ovsdb-server/compact",
            ],
            "ovs-appctl",
        )

    # -- daemons -------------------------------------------------------------

    def _daemon_argv(self, daemon: str) -> list[str]:
        return [
            "--pidfile=" + self._path(daemon, ".pid"),
            "--unixctl=" + self._path(daemon, ".ctl"),
            "--log-file=" + self._path(daemon, ".log"),
            "--detach",
            "--no-chdir",
        ]

    def _pid(self, daemon: str) -> int | None:
        try:
            with open(self._path(daemon, ".pid"), encoding="ascii") as pid:
                return int(pid.read().strip())
        except (OSError, ValueError):
            return None

    def start_ovsdb(self) -> None:
        """Start ovsdb-server, creating the database on first use.

        ``--detach`` returns once the server listens, so the socket is
        usable when this returns.
        """
        os.makedirs(self.workdir, exist_ok=True)
        if not os.path.exists(self.db_file):
            self._run(
                [
                    _which("ovsdb-tool") or "ovsdb-tool",
                    "create",
                    self.db_file,
                    OVS_SCHEMA,
                ],
                "ovsdb-tool create",
            )
        remotes = ["--remote=punix:" + self.db_socket]
        if self.tcp_port is not None:
            remotes.append("--remote=ptcp:%d:127.0.0.1" % self.tcp_port)
        if self.tls is not None and self.ssl_port is not None:
            # Given on the command line rather than through the database's
            # SSL table: the listener is up when --detach returns, and
            # ovs-vswitchd (which also reads that table) is left alone.
            remotes += [
                "--private-key=" + self.tls.private_key,
                "--certificate=" + self.tls.certificate,
                "--ca-cert=" + self.tls.ca_cert,
                "--remote=pssl:%d:127.0.0.1" % self.ssl_port,
            ]
        argv = [
            _which("ovsdb-server") or "ovsdb-server",
            self.db_file,
            *remotes,
            *self._daemon_argv("ovsdb-server"),
        ]
        self._run(argv, "starting ovsdb-server", in_netns=True)
        self.vsctl("--no-wait", "init")

    def start_vswitchd(self) -> None:
        """Start ovs-vswitchd on this database (returns once it runs)."""
        argv = [
            _which("ovs-vswitchd") or "ovs-vswitchd",
            self.connection,
            *self._daemon_argv("ovs-vswitchd"),
        ]
        self._run(argv, "starting ovs-vswitchd", in_netns=True)

    def start(self) -> None:
        """Start both daemons; stop what did start if one fails.

        Shielded from signals (see :mod:`os_vif.sandbox.interrupts`): a
        daemon forked but not yet known by its pid file could not be
        stopped.
        """
        try:
            with interrupts.shielded():
                self.start_ovsdb()
                self.start_vswitchd()
        except BaseException:
            self.stop()
            raise

    def _stop_daemon(self, daemon: str, timeout: float = 10.0) -> None:
        pid = self._pid(daemon)
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.01)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.unlink(self._path(daemon, ".pid"))
        except FileNotFoundError:
            pass

    def running(self, daemon: str) -> bool:
        """Say whether ``daemon`` (``ovsdb-server``...) is running."""
        pid = self._pid(daemon)
        return pid is not None and _alive(pid)

    def ensure_running(self) -> None:
        """Start whichever daemon a test stopped."""
        if not self.running("ovsdb-server"):
            self.start_ovsdb()
        if not self.running("ovs-vswitchd"):
            self.start_vswitchd()

    def stop_ovsdb(self) -> None:
        """Stop ovsdb-server (the database file stays)."""
        self._stop_daemon("ovsdb-server")

    def restart_ovsdb(self) -> None:
        """Stop and start ovsdb-server on the same database and socket."""
        self.stop_ovsdb()
        self.start_ovsdb()

    def stop_vswitchd(self) -> None:
        """Stop ovs-vswitchd (the database and its ports stay)."""
        self._stop_daemon("ovs-vswitchd")

    def restart_vswitchd(self) -> None:
        """Stop and start ovs-vswitchd on the same database.

        The datapath is rebuilt from the database: internal ports' kernel
        devices are made again, other ports are opened again.
        """
        self.stop_vswitchd()
        self.start_vswitchd()

    def stop(self) -> None:
        """Stop both daemons; safe to call twice or after a failed start."""
        with interrupts.shielded():
            self._stop_daemon("ovs-vswitchd")
            self._stop_daemon("ovsdb-server")

    def __enter__(self) -> OvsServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- cleanup between tests -------------------------------------------

    def bridges(self) -> list[str]:
        """Return the names of all bridges in the database."""
        return self.vsctl("list-br").split()

    def delete_bridges(self, keep: Sequence[str] = ()) -> None:
        """Delete every bridge not named in ``keep``, in one transaction."""
        argv: list[str] = []
        for bridge in self.bridges():
            if bridge not in keep:
                argv += ["--", "--if-exists", "del-br", bridge]
        if argv:
            self.vsctl(*argv)
