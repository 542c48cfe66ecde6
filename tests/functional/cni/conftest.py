"""The compiled os-vif-cni client and the daemon it starts, per test."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping

import pytest
from pyroute2 import netns as pyroute2_netns

from os_vif.cni import shim

CNI_PATH = "/usr/lib/cni"


def host_local_missing() -> str | None:
    """Why host-local cannot be used here, or None."""
    if not os.access(os.path.join(CNI_PATH, "host-local"), os.X_OK):
        return ("host-local is missing (containernetworking-plugins: "
                "tools/setup-env.sh ensure_podman installs it)")
    return None


class Client:
    """The built client, its socket and state directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.binary = os.path.join(root, "os-vif-cni")
        self.socket = os.path.join(root, "cni.sock")
        self.state_dir = os.path.join(root, "state")
        self.data_dir = os.path.join(root, "ipam")
        self.config_file = os.path.join(root, "os-vif.conf")
        self.env = {
            "OS_VIF_CNI_SOCKET": self.socket,
            "OS_VIF_CNI_STATE_DIR": self.state_dir,
            # A daemon this test forgot would end by itself.
            "OS_VIF_CNI_IDLE_TIMEOUT": "120",
        }

    def use_config(self, text: str) -> None:
        """Give the daemon this oslo.config file (os_vif's options); set
        before the daemon starts."""
        with open(self.config_file, "w") as stream:
            stream.write(text)
        self.env["OS_VIF_CNI_CONFIG"] = self.config_file

    def run(self, env: Mapping[str, str], stdin: bytes | str = b"",
            binary: str | None = None) -> tuple[int, bytes]:
        """One call: the exit status and stdout."""
        data = stdin.encode() if isinstance(stdin, str) else stdin
        proc = subprocess.run(
            [binary or self.binary], input=data, capture_output=True,
            env={**self.env, **env}, timeout=60, check=False)
        return proc.returncode, proc.stdout

    def config(self, name: str = "cnitest", **extra: object) -> str:
        """A network configuration with host-local in a private dir."""
        doc: dict[str, object] = {
            "cniVersion": "1.1.0", "name": name, "type": "os-vif-cni",
            "plugin": "ovs",
            "ipam": {"type": "host-local", "dataDir": self.data_dir,
                     "ranges": [[{"subnet": "10.97.0.0/24"}]]},
        }
        doc.update(extra)
        return json.dumps(doc)

    def daemon_pid(self) -> int | None:
        """The pid the serving daemon wrote, if any."""
        try:
            with open(self.socket + ".lock") as stream:
                text = stream.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def daemon_running(self) -> bool:
        """Whether a daemon holds the socket's lock."""
        try:
            fd = os.open(self.socket + ".lock", os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def stop_daemon(self) -> None:
        """Stop the daemon this test started (SIGTERM, then wait).

        Waits for the lock to be released, not for the process to vanish:
        a detached daemon is reaped by init, whenever init gets to it.
        """
        pid = self.daemon_pid()
        if pid is None or not self.daemon_running():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.daemon_running():
            time.sleep(0.02)


@contextlib.contextmanager
def built_client() -> Iterator[Client]:
    """A freshly built client; its daemon is stopped afterwards."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) to build the os-vif-cni client")
    # Short: a unix socket path has at most 107 characters.
    root = tempfile.mkdtemp(prefix="oscni-", dir="/tmp")
    handle = Client(root)
    # The socket, the state directory and the configuration are built
    # into the client (its daemon command): podman's clean-up process
    # calls the plugin without the test's environment.
    shim.build(
        handle.binary, socket_path=handle.socket,
        daemon_command="[ -e %s ] && export OS_VIF_CNI_CONFIG=%s; "
        "exec %s -m os_vif.cni.server --state-dir %s "
        "--idle-timeout ${OS_VIF_CNI_IDLE_TIMEOUT:-120}"
        % (handle.config_file, handle.config_file, sys.executable,
           handle.state_dir))
    try:
        yield handle
    finally:
        handle.stop_daemon()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A client and its daemon shared by a module's tests (a daemon
    starts in about half a second); tests keep apart by network name."""
    with built_client() as handle:
        yield handle


@pytest.fixture
def fresh_client() -> Iterator[Client]:
    """A client of its own, whose daemon is not running yet."""
    with built_client() as handle:
        yield handle


class Pods:
    """Network namespaces standing for containers (``/run/netns/<name>``),
    deleted at the end of the test with whatever is left in them."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def make(self) -> str:
        """A new namespace; returns its path (what a runtime gives as
        ``CNI_NETNS``)."""
        name = "cnipod-%d-%d-%s" % (os.getpid(), len(self.names),
                                    os.urandom(3).hex())
        pyroute2_netns.create(name)
        self.names.append(name)
        return "/run/netns/" + name

    def remove(self, path: str) -> None:
        """Delete a namespace now (a container gone before its DEL)."""
        name = os.path.basename(path)
        pyroute2_netns.remove(name)
        self.names.remove(name)

    def exec(self, path: str, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the namespace (tests only: os_vif itself uses
        netlink)."""
        return subprocess.run(
            ["ip", "netns", "exec", os.path.basename(path), *argv],
            capture_output=True, text=True, timeout=60, check=False)

    def links(self, path: str) -> dict[str, dict[str, object]]:
        """The namespace's links by name: MAC, MTU, state, addresses."""
        proc = self.exec(path, "ip", "-j", "addr", "show")
        return {link["ifname"]: link for link in json.loads(proc.stdout)}

    def routes(self, path: str, version: int = 4) -> list[dict[str, object]]:
        """The namespace's main routing table."""
        proc = self.exec(path, "ip", "-j", "-%d" % version, "route", "show")
        return list(json.loads(proc.stdout or "[]"))

    def close(self) -> None:
        """Delete every namespace left."""
        for name in self.names:
            with contextlib.suppress(OSError):
                pyroute2_netns.remove(name)
        self.names = []


@pytest.fixture
def pods() -> Iterator[Pods]:
    """Containers' namespaces for one test."""
    handle = Pods()
    try:
        yield handle
    finally:
        handle.close()
