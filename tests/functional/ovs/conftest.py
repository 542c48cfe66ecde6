"""Fixtures that give functional tests a private Open vSwitch.

One ovsdb-server and ovs-vswitchd run for the whole session, inside a
network namespace made for them (starting them per test would cost more
than most tests).  The per-test fixture :func:`ovs` gives each test an
empty switch and an empty namespace: after the test every bridge is
deleted and every link other than ``lo`` and the datapath's own
``ovs-netdev`` is removed, whether the test passed or not.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyroute2 import NetNS

from os_vif.sandbox import ovs as ovs_server
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import addressed, workload_namespaces

#: Links the userspace datapath and the namespace itself own.
PERMANENT_LINKS = frozenset({"lo", "ovs-netdev"})


def _skip_reason() -> str | None:
    reason = ovs_server.missing_reason()
    if (
        reason is None
        and subprocess.run(
            ["ip", "netns", "list"], capture_output=True, check=False
        ).returncode
    ):
        reason = "'ip netns' does not work here"
    return reason


@pytest.fixture(scope="session")
def ovs_netns() -> Iterator[str]:
    """The name of the network namespace the session's switch runs in."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    name = "osvif-ovs-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(
            ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
            check=True,
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture(scope="session")
def ovs_server_session(
    ovs_netns: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ovs_server.OvsServer]:
    """ovsdb-server and ovs-vswitchd for the whole session."""
    workdir = tmp_path_factory.mktemp("ovs")
    server = ovs_server.OvsServer(str(workdir), netns=ovs_netns, tcp=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def remove_test_links(netns: str) -> list[str]:
    """Delete every link of ``netns`` but the permanent ones.

    Return the names deleted, so that callers can report leftovers.
    """
    removed = []
    with NetNS(netns) as ipr:
        for link in ipr.get_links():
            name = link.get("ifname")
            if name in PERMANENT_LINKS:
                continue
            try:
                ipr.link("del", index=link["index"])
            except Exception:  # noqa: BLE001 - the peer may be gone already
                continue
            removed.append(name)
    return removed


@pytest.fixture
def ovs(
    ovs_server_session: ovs_server.OvsServer,
) -> Iterator[ovs_server.OvsServer]:
    """The session's switch, emptied after the test."""
    server = ovs_server_session
    server.ensure_running()
    try:
        yield server
    finally:
        server.ensure_running()
        server.delete_bridges()
        if server.netns is not None:
            remove_test_links(server.netns)


@pytest.fixture(scope="module")
def in_ovs_netns(ovs_server_session: ovs_server.OvsServer) -> Iterator[str]:
    """Run the module's tests inside the switch's namespace.

    The privsep daemon is restarted in there (once per module: starting
    it per test would cost more than the tests), so the plugin's devices
    are made where ovs-vswitchd can open them.
    """
    from os_vif.sandbox import netns as netns_fixture

    assert ovs_server_session.netns is not None
    with netns_fixture.entered(ovs_server_session.netns):
        yield ovs_server_session.netns


@pytest.fixture
def ovs_plugin(
    in_ovs_netns: str, ovs: ovs_server.OvsServer, conf: Any
) -> Iterator[Any]:
    """The ``ovs`` plugin configured for the test switch."""
    from os_vif.internal.ovsdb import connection
    from os_vif.plugins.ovs import OvsPlugin

    plugin = OvsPlugin.load("ovs")
    conf.config(
        ovsdb_connection=ovs.connection, ovs_vsctl_timeout=20,
        group="os_vif_ovs",
    )
    try:
        yield plugin
    finally:
        connection.close_all()


@pytest.fixture
def workload_netns() -> Iterator[Callable[[], str]]:
    """Workload namespaces made on demand, deleted after the test.

    The switch's own namespace fixture (``in_ovs_netns``) is the host
    side here, not ``netns``.
    """
    with workload_namespaces() as make:
        yield make


def ovs_workload_vif(n: int) -> Any:
    """A workload's VIFOpenVSwitch on ``br-int``, ``10.8.0.<n + 2>/24``."""
    # create_port False: a workload's port is made whatever it says.
    vif = vifs.ovs_vif(n, create_tap=False, create_port=False)
    return addressed(vif, "10.8.0.%d/24" % (n + 2), gateway="10.8.0.1")


def hybrid_workload_vif(n: int) -> Any:
    """A workload's hybrid VIFBridge (filtering), ``10.8.0.<n + 2>/24``."""
    vif = vifs.hybrid_vif(n, filtering=True)
    return addressed(vif, "10.8.0.%d/24" % (n + 2), gateway="10.8.0.1")
