"""A private RabbitMQ and the RPC peers of the functional tests.

Everything runs inside one throwaway network namespace made for the
session: the broker (``os_vif.sandbox.rabbitmq``, own port, data
directory, cookie and epmd, listening on that namespace's 127.0.0.1), the
compute host of ``doc/source/examples/port_binding.py`` (so that what it
plugs lands in the namespace) and the os-vif 5.3.0 peer.  The test process
reaches them from inside the namespace too: :func:`inside` around every
RPC call (oslo.messaging's threads and sockets are made by the thread that
first needs them, and stay in its namespace).  The broker starts once per
session (about 8 s).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg
from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from os_vif.sandbox import netns as sandbox_netns
from os_vif.sandbox import rabbitmq
from tests.functional.rpc import oracle

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EXAMPLE = os.path.join(ROOT, "doc", "source", "examples", "port_binding.py")
ORACLE_PEER = os.path.join(HERE, "oracle_peer.py")
COMPUTE_HOST = "compute-rpc-test"
ORACLE_TOPIC = "os_vif_oracle"
ORACLE_SERVER = "oracle-5.3.0"


class Env:
    """The session's namespace and broker."""

    def __init__(self, name: str, broker: rabbitmq.RabbitServer) -> None:
        self.netns = name
        self.path = "/run/netns/" + name
        self.broker = broker

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Run the block (and the threads it starts) in the namespace."""
        with sandbox_netns.entered_path(self.path, restart_privsep=False):
            yield

    def enter_in_child(self) -> None:
        """preexec_fn: the child process runs in the namespace."""
        fd = os.open(self.path, os.O_RDONLY)
        sandbox_netns.setns(fd)
        os.close(fd)

    def links(self) -> dict[str, Any]:
        """The namespace's links by name, read with netlink."""
        with self.inside():
            with IPRoute() as ipr:
                return {
                    link.get_attr("IFLA_IFNAME"): link
                    for link in ipr.get_links()
                }

    def spawn(self, argv: list[str], ready: str, log: str) -> Any:
        """Start ``argv`` in the namespace; wait for ``ready`` on stdout."""
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=open(log, "wb"),  # noqa: SIM115 - kept by the child
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=self.enter_in_child,
            cwd=ROOT,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if ready not in line:
            process.kill()
            process.wait()
            with open(log, encoding="utf-8", errors="replace") as err:
                raise RuntimeError(
                    "%s did not start: %r\n%s" % (argv[1], line,
                                                  err.read()[-3000:])
                )
        return process


def _stop(process: Any) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def rpc_env() -> Iterator[Env]:
    """The namespace and the private broker in it, for the session."""
    for reason in (
        sandbox_netns.missing_reason(),
        rabbitmq.missing_reason(),
    ):
        if reason is not None:
            pytest.skip(reason)
    name = "osvif-rpc-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    pyroute2_netns.create(name)
    workdir = tempfile.mkdtemp(prefix="os-vif-rabbit-")
    try:
        with sandbox_netns.entered_path(
            "/run/netns/" + name, restart_privsep=False
        ):
            with IPRoute() as ipr:
                ipr.link("set", index=ipr.link_lookup(ifname="lo")[0],
                         state="up")
        broker = rabbitmq.RabbitServer(workdir, netns=name)
        broker.start()
        try:
            yield Env(name, broker)
        finally:
            broker.stop()
    finally:
        pyroute2_netns.remove(name)
        subprocess.run(["rm", "-rf", workdir], check=False)


@pytest.fixture(scope="session")
def transport(rpc_env: Env) -> Iterator[Any]:
    """The test process's RPC transport to the broker.

    os_vif exceptions raised by a server come back as themselves.
    """
    with rpc_env.inside():
        rpc_transport = oslo_messaging.get_rpc_transport(
            cfg.CONF,
            url=rpc_env.broker.url,
            allowed_remote_exmods=["os_vif.exception"],
        )
    try:
        yield rpc_transport
    finally:
        with rpc_env.inside():
            rpc_transport.cleanup()


@pytest.fixture(scope="session")
def compute_host(rpc_env: Env) -> Iterator[str]:
    """The example's compute side, its own process, plugging for real.

    It reports (and so is sent) the linux_bridge and noop plugins only.
    """
    log = os.path.join(rpc_env.broker.workdir, "compute.log")
    process = rpc_env.spawn(
        [
            sys.executable, "-W", "ignore", EXAMPLE, "compute",
            "--url", rpc_env.broker.url, "--host", COMPUTE_HOST,
            "--plugins", "linux_bridge", "noop",
        ],
        "serving",
        log,
    )
    try:
        yield COMPUTE_HOST
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def oracle_peer(rpc_env: Env) -> Iterator[tuple[str, str]]:
    """An os-vif 5.3.0 RPC server (topic, server) in its own venv."""
    python = oracle.python_or_skip()
    log = os.path.join(rpc_env.broker.workdir, "oracle.log")
    process = rpc_env.spawn(
        [python, ORACLE_PEER, rpc_env.broker.url, ORACLE_TOPIC,
         ORACLE_SERVER],
        "ready",
        log,
    )
    try:
        yield ORACLE_TOPIC, ORACLE_SERVER
    finally:
        _stop(process)
