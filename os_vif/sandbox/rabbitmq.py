"""A private RabbitMQ node, for the RPC functional tests and benchmark.

:class:`RabbitServer` runs ``rabbitmq-server`` (the distribution's, from
``/usr/lib/rabbitmq/bin``, as the calling user) with everything of its own:
a listener on ``127.0.0.1`` at a free port, its Erlang distribution port,
an ``epmd`` on a private port (``ERL_EPMD_PORT``), a data directory
(``RABBITMQ_MNESIA_BASE``), logs, configuration and enabled-plugins
files, and its own ``HOME`` holding its own Erlang cookie, all in one
temporary directory; optionally inside a network namespace.  The
packaged node (``/var/lib/rabbitmq``, the system cookie, port 5672) is
never started nor read, and whatever runs on the default ports is left
alone.  :meth:`RabbitServer.stop` stops the node and its epmd.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from os_vif.sandbox import netns

__all__ = ["RabbitServer", "RabbitServerError", "missing_reason"]

_LIB = "/usr/lib/rabbitmq/bin"


class RabbitServerError(RuntimeError):
    """The node did not start or stop; the message quotes its log."""


def _server_script() -> str | None:
    # The packaged wrapper (/usr/sbin/rabbitmq-server) switches to the
    # rabbitmq user and its HOME and cookie; the script behind it does not.
    script = os.path.join(_LIB, "rabbitmq-server")
    return script if os.access(script, os.X_OK) else None


def missing_reason() -> str | None:
    """Say why a private RabbitMQ node cannot be started here, or None."""
    if _server_script() is None:
        return (
            "RabbitMQ is not installed (no %s/rabbitmq-server); install "
            "the rabbitmq-server package (tools/test.sh does)" % _LIB
        )
    if shutil.which("epmd") is None:
        return "epmd (Erlang) is missing"
    return None


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class RabbitServer:
    """One RabbitMQ node running from ``workdir``.

    ``netns`` names a network namespace (as in ``ip netns``) to run it in;
    the node is then reachable on 127.0.0.1 from inside that namespace
    only.
    """

    def __init__(self, workdir: str, netns: str | None = None) -> None:
        self.workdir = os.path.abspath(workdir)
        self.netns = netns
        self.port, self.dist_port, self.epmd_port = _free_ports(3)
        self.node = "osvif%d@localhost" % os.getpid()
        home = os.path.join(self.workdir, "home")
        self.log_dir = os.path.join(self.workdir, "log")
        for directory in (home, self.log_dir):
            os.makedirs(directory, exist_ok=True)
        cookie = os.path.join(home, ".erlang.cookie")
        with open(
            os.open(cookie, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400),
            "w",
            encoding="ascii",
        ) as out:
            out.write(secrets.token_hex(20))
        conf = os.path.join(self.workdir, "rabbitmq.conf")
        with open(conf, "w", encoding="ascii") as out:
            out.write(
                "listeners.tcp.default = 127.0.0.1:%d\n"
                "loopback_users.guest = true\n"
                # A nearly full disk must not block publishers in tests.
                "disk_free_limit.absolute = 1MB\n"
                "log.console = false\n"
                "log.file.level = info\n" % self.port
            )
        plugins = os.path.join(self.workdir, "enabled_plugins")
        with open(plugins, "w", encoding="ascii") as out:
            out.write("[].\n")
        env_file = os.path.join(self.workdir, "rabbitmq-env.conf")
        open(env_file, "w", encoding="ascii").close()
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": home,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": os.path.join(self.workdir, "mnesia"),
            "RABBITMQ_LOG_BASE": self.log_dir,
            "RABBITMQ_LOGS": os.path.join(self.log_dir, "node.log"),
            "RABBITMQ_PID_FILE": os.path.join(self.workdir, "node.pid"),
            "RABBITMQ_CONFIG_FILE": conf,
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(
                self.workdir, "advanced.config"
            ),
            "RABBITMQ_ENABLED_PLUGINS_FILE": plugins,
            "RABBITMQ_CONF_ENV_FILE": env_file,
            "RABBITMQ_ALLOW_INPUT": "",
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The oslo.messaging transport URL of the node."""
        return "rabbit://guest:guest@127.0.0.1:%d/" % self.port

    def log(self) -> str:
        """The end of the node's log (for error messages)."""
        try:
            with open(
                os.path.join(self.log_dir, "node.log"), encoding="utf-8",
                errors="replace",
            ) as log:
                return log.read()[-3000:]
        except OSError:
            return ""

    def _enter_netns(self) -> None:
        # In the child between fork and exec: the node (and the epmd it
        # starts) live in the namespace.
        if self.netns:
            fd = os.open("/run/netns/" + self.netns, os.O_RDONLY)
            netns.setns(fd)
        os.setsid()

    @contextmanager
    def _here(self) -> Iterator[None]:
        if self.netns:
            with netns.entered_path(
                "/run/netns/" + self.netns, restart_privsep=False
            ):
                yield
        else:
            yield

    def accepting(self) -> bool:
        """Tell whether the AMQP listener accepts connections."""
        with self._here():
            try:
                with socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1
                ):
                    return True
            except OSError:
                return False

    def start(self, timeout: float = 60.0) -> None:
        """Start the node and wait until it accepts AMQP connections."""
        script = _server_script()
        if script is None:
            raise RabbitServerError(str(missing_reason()))
        self._process = subprocess.Popen(
            [script],
            env=self._env,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=open(  # noqa: SIM115 - the node keeps it open
                os.path.join(self.log_dir, "stdout.log"), "ab"
            ),
            stderr=subprocess.STDOUT,
            preexec_fn=self._enter_netns,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RabbitServerError(
                    "rabbitmq-server exited with %s: %s"
                    % (self._process.returncode, self.log())
                )
            if self.accepting():
                return
            time.sleep(0.2)
        self.stop()
        raise RabbitServerError(
            "rabbitmq-server did not listen within %ss: %s"
            % (timeout, self.log())
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the node (SIGTERM, then SIGKILL) and its epmd."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # Its process group: the node and the helpers it spawned.
            with _no_such_process():
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with _no_such_process():
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        epmd = shutil.which("epmd")
        if epmd:
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                env=self._env,
                preexec_fn=self._enter_netns,
                capture_output=True,
                timeout=30,
                check=False,
            )

    def restart(self) -> None:
        """Stop and start again (same port, same data directory)."""
        self.stop()
        self.start()

    def __enter__(self) -> RabbitServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def _no_such_process() -> Iterator[None]:
    try:
        yield
    except ProcessLookupError:
        pass
