"""The guard of tests/unit/conftest.py fires on every host access it
covers, and a test that made one fails even if the error was caught."""

from __future__ import annotations

import os
import pathlib
import socket

import pytest

from tests.unit.conftest import HostAccess, HostGuard


def _refused(guard: HostGuard, call, what: str) -> None:  # type: ignore[no-untyped-def]
    with guard.expect() as seen:
        with pytest.raises(HostAccess) as caught:
            call()
    assert seen and what in seen[0], seen
    assert what in str(caught.value)
    assert "tests/functional" in str(caught.value)


def test_netlink_sockets_are_refused(host_guard: HostGuard) -> None:
    import pyroute2
    from pyroute2.nftables.main import NFTables

    _refused(host_guard, pyroute2.IPRoute, "pyroute2 IPRoute")
    _refused(host_guard, lambda: pyroute2.NetNS("x"), "pyroute2 NetNS")
    _refused(host_guard, NFTables, "netlink socket")
    _refused(
        host_guard,
        lambda: socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE
        ),
        "socket.socket(AF_NETLINK)",
    )
    # Other sockets are not the host's state.
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()


def test_the_link_state_reader_is_refused(host_guard: HostGuard) -> None:
    from os_vif.internal import linkstate

    linkstate.close_sockets()
    _refused(host_guard, linkstate.dump_links, "AF_NETLINK")


def test_privsep_daemons_are_refused(host_guard: HostGuard) -> None:
    from oslo_privsep import daemon

    from os_vif.internal.privileged import context

    _refused(host_guard, context.vif_plug_ovs.start, "privsep daemon")
    _refused(
        host_guard,
        lambda: daemon.ForkingClientChannel(context.vif_plug_ovs),
        "ForkingClientChannel",
    )


def test_ovsdb_connections_are_refused(host_guard: HostGuard) -> None:
    from ovs import stream

    from os_vif import exception
    from os_vif.internal.ovsdb import client

    _refused(
        host_guard,
        lambda: stream.Stream.open("tcp:127.0.0.1:6640"),
        "connect to tcp:127.0.0.1:6640",
    )
    # Through os_vif's client, which reports what it could not do.
    ovsdb = client.OvsdbClient(
        "tcp:127.0.0.1:6641", 1, client.TlsFiles.from_config(None)
    )
    with host_guard.expect() as seen:
        with pytest.raises((HostAccess, exception.ExceptionBase)) as caught:
            ovsdb.api  # noqa: B018 - connects
    assert seen, "the guard did not fire"
    assert "tests/functional" in str(caught.value)


def test_writes_under_proc_sys_and_sys_are_refused(
    host_guard: HostGuard,
) -> None:
    forward = "/proc/sys/net/ipv4/ip_forward"
    _refused(host_guard, lambda: open(forward, "w"), "write " + forward)
    _refused(
        host_guard,
        lambda: pathlib.Path("/sys/class/net/lo/mtu").write_text("1500"),
        "write /sys/class/net/lo/mtu",
    )
    _refused(
        host_guard,
        lambda: os.open("/sys/class/net/lo/../lo/mtu", os.O_WRONLY),
        "write /sys/class/net/lo/mtu",
    )
    # Writing elsewhere is not the guard's business.
    with open(os.devnull, "w") as sink:
        sink.write("x")


def test_a_caught_attempt_still_fails_the_test() -> None:
    guard = HostGuard()
    assert guard.verdict() is None
    try:
        guard.refuse("open something")
    except HostAccess:
        pass  # as code under test may do
    verdict = guard.verdict()
    assert verdict is not None and "open something" in verdict
    with guard.expect() as seen:
        with pytest.raises(HostAccess):
            guard.refuse("on purpose")
    assert seen == ["on purpose"]
    assert guard.attempts == ["open something"]
