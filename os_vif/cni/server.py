"""The os-vif-cni daemon: answers the C client's calls on a unix socket.

``os-vif-cni-daemon`` (or ``python -m os_vif.cni.server``) serves one
socket, by default ``/run/os-vif/cni.sock`` (``$OS_VIF_CNI_SOCKET``).  It
is started on demand: by the C client when nothing listens (detached, one
daemon per socket: a second one started meanwhile sees the first's lock
and exits), or by systemd socket activation (``LISTEN_FDS``: the socket
unit owns the socket).  Each call runs in its own thread, so calls for
different containers proceed together; calls on one attachment wait for
each other (the record's lock).

The daemon holds ``<socket>.lock`` (``flock``) while it serves, and
writes its pid there.  Only root and the daemon's own user may call it
(``SO_PEERCRED``); the socket is mode 0600.

The wire format is described in ``os_vif/cni/shim/os_vif_cni.c``:
a request is ``os-vif-cni 1\\n``, the ``CNI_*`` variables each ended by a
NUL byte, a NUL byte, then stdin; the answer is the exit status and a
newline, then stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import logging
import os
import signal
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from os_vif.cni import commands, store

__all__ = [
    "DEFAULT_SOCKET",
    "MAGIC",
    "MAX_REQUEST",
    "REQUEST_TIMEOUT",
    "encode_request",
    "decode_request",
    "Server",
    "serve",
    "load_config",
    "main",
]

LOG = logging.getLogger(__name__)

#: The socket unless ``--socket`` or ``$OS_VIF_CNI_SOCKET`` says otherwise.
DEFAULT_SOCKET = "/run/os-vif/cni.sock"
#: The first line of a request (the format's version).
MAGIC = b"os-vif-cni 1\n"
#: The largest request read (a network configuration is a few KiB).
MAX_REQUEST = 4 << 20
#: How long a client may take to send its request (seconds).
REQUEST_TIMEOUT = 30.0

_SD_LISTEN_FDS_START = 3


class RequestError(ValueError):
    """A request that is not in the wire format."""


def encode_request(env: Mapping[str, str], stdin: bytes) -> bytes:
    """A request as the C client sends it (tests and Python callers)."""
    parts = [MAGIC]
    for name, value in env.items():
        if name.startswith("CNI_"):
            parts.append(("%s=%s" % (name, value)).encode() + b"\0")
    parts.append(b"\0")
    parts.append(stdin)
    return b"".join(parts)


def decode_request(data: bytes) -> tuple[dict[str, str], bytes]:
    """The environment and stdin of a request."""
    if not data.startswith(MAGIC):
        raise RequestError("not an os-vif-cni request (or another version)")
    pos = len(MAGIC)
    env: dict[str, str] = {}
    while True:
        end = data.find(b"\0", pos)
        if end < 0:
            raise RequestError("the environment is not terminated")
        if end == pos:
            return env, data[end + 1:]
        name, sep, value = data[pos:end].decode(
            errors="surrogateescape").partition("=")
        if not sep or not name.startswith("CNI_"):
            raise RequestError("bad environment entry %r" % data[pos:end])
        env[name] = value
        pos = end + 1


def _peer_allowed(sock: socket.socket) -> bool:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (0, os.getuid())


class _Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        with self.server.busy():
            self._handle()

    def _handle(self) -> None:
        sock: socket.socket = self.request
        if not _peer_allowed(sock):
            LOG.warning("refused a call from another user")
            return
        chunks = []
        size = 0
        # A client that never finishes its request must not hold a thread.
        sock.settimeout(REQUEST_TIMEOUT)
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                LOG.warning("refused a request not sent within %g s",
                            REQUEST_TIMEOUT)
                return
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_REQUEST:
                LOG.warning("refused a request of more than %d bytes",
                            MAX_REQUEST)
                return
            chunks.append(chunk)
        try:
            env, stdin = decode_request(b"".join(chunks))
        except RequestError as exc:
            LOG.warning("refused a request: %s", exc)
            return
        code, out = self.server.plugin.run(env, stdin)
        with contextlib.suppress(OSError):  # the client went away
            sock.sendall(b"%d\n" % code + out)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The daemon's server: one thread per call."""

    # Not daemon threads: server_close() waits for the calls in flight
    # (ThreadingMixIn tracks only threads that are not daemons).
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128

    def __init__(self, listener: socket.socket,
                 plugin: commands.Plugin) -> None:
        # The socket is bound already (by us or by systemd).
        super().__init__(listener.getsockname(), _Handler,
                         bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.plugin = plugin
        self.last_used = time.monotonic()
        self._active = 0
        self._active_lock = threading.Lock()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Count a call in flight (the idle timeout waits for none)."""
        with self._active_lock:
            self._active += 1
        try:
            yield
        finally:
            with self._active_lock:
                self._active -= 1
                self.last_used = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last call ended; 0 while one is in flight."""
        with self._active_lock:
            if self._active:
                return 0.0
            return time.monotonic() - self.last_used


def _systemd_socket() -> socket.socket | None:
    if (os.environ.get("LISTEN_PID") != str(os.getpid())
            or int(os.environ.get("LISTEN_FDS", "0")) < 1):
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    return socket.socket(fileno=_SD_LISTEN_FDS_START)


@contextlib.contextmanager
def _bound(path: str) -> Iterator[socket.socket | None]:
    """Our own socket at ``path``, or None if a daemon serves it."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                      0o600)
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        # The lock file names the daemon holding it (to stop it).
        os.ftruncate(lock_fd, 0)
        os.write(lock_fd, b"%d\n" % os.getpid())
        # We hold the lock: a socket file left is a dead daemon's.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(path)
        finally:
            os.umask(old_umask)
        listener.listen(128)
        try:
            yield listener
        finally:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    finally:
        os.close(lock_fd)


def serve(socket_path: str = DEFAULT_SOCKET,
          state_dir: str = store.DEFAULT_STATE_DIR,
          idle_timeout: float = 0.0,
          ready: threading.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or ``idle_timeout`` seconds idle)."""
    plugin = commands.Plugin(store.Store(state_dir))
    activated = _systemd_socket()
    with contextlib.ExitStack() as stack:
        listener = activated
        if listener is None:
            listener = stack.enter_context(_bound(socket_path))
        if listener is None:
            LOG.info("another daemon serves %s", socket_path)
            return 0
        server = Server(listener, plugin)
        stop = threading.Event()

        def _stop(*_args: Any) -> None:
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={"poll_interval": 0.5},
                                  name="os-vif-cni", daemon=True)
        thread.start()
        LOG.info("os-vif-cni daemon serving %s%s (records in %s)",
                 listener.getsockname(),
                 " (socket activation)" if activated is not None else "",
                 state_dir)
        if ready is not None:
            ready.set()
        while not stop.wait(1.0):
            if idle_timeout and server.idle_for() > idle_timeout:
                LOG.info("idle for %g s: exiting", idle_timeout)
                break
        server.shutdown()
        thread.join()
        # Calls in flight finish (each is bounded by the IPAM plugin's
        # timeout): an ADD cut short would leave its record pending.
        server.server_close()
    return 0


def load_config(files: Sequence[str]) -> None:
    """Read os_vif's options from ``files`` (:func:`os_vif.opts.
    load_config`: every value checked now, so a bad one stops the daemon
    at its start, not in a plug)."""
    from os_vif import opts

    opts.load_config(files)


def main(argv: Sequence[str] | None = None) -> int:
    """``os-vif-cni-daemon``."""
    parser = argparse.ArgumentParser(
        prog="os-vif-cni-daemon",
        description="Serve os-vif-cni calls on a unix socket.")
    parser.add_argument(
        "--socket", default=os.environ.get("OS_VIF_CNI_SOCKET")
        or DEFAULT_SOCKET, help="the socket (default: $OS_VIF_CNI_SOCKET "
        "or %(default)s)")
    parser.add_argument(
        "--state-dir", default=os.environ.get("OS_VIF_CNI_STATE_DIR")
        or store.DEFAULT_STATE_DIR, help="where attachment records live "
        "(default: $OS_VIF_CNI_STATE_DIR or %(default)s)")
    parser.add_argument(
        "--idle-timeout", type=float, default=float(
            os.environ.get("OS_VIF_CNI_IDLE_TIMEOUT") or 0),
        help="exit after this many seconds without a call (0: never; "
        "default: $OS_VIF_CNI_IDLE_TIMEOUT or 0)")
    parser.add_argument(
        "--config-file", action="append", default=None, metavar="PATH",
        help="an oslo.config file with os_vif's options ([os_vif_ovs] "
        "ovsdb_connection, the privsep groups...); may be repeated "
        "(default: $OS_VIF_CNI_CONFIG, files separated by ':')")
    parser.add_argument("--log-file", help="log here (default: stderr)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        filename=args.log_file,
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s")
    files = args.config_file
    if files is None:
        files = [f for f in os.environ.get("OS_VIF_CNI_CONFIG", "").split(
            ":") if f]
    try:
        load_config(files)
    except (OSError, ValueError) as exc:
        LOG.error("cannot read the configuration %s: %s",
                  ", ".join(files), exc)
        return 1
    try:
        return serve(args.socket, args.state_dir, args.idle_timeout)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EADDRINUSE, errno.EPERM):
            LOG.error("cannot serve %s: %s", args.socket, exc)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
