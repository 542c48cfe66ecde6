"""The test switch itself: it runs where it should and survives restarts."""

from __future__ import annotations

import os

import pytest
from pyroute2 import IPRoute, NetNS

from os_vif.sandbox import ovs as ovs_server

pytestmark = [pytest.mark.functional, pytest.mark.ovs]


def _links(netns: str) -> set[str]:
    with NetNS(netns) as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def test_daemons_run_in_the_namespace_from_the_temp_dir(
    ovs: ovs_server.OvsServer,
) -> None:
    assert ovs.netns is not None
    for daemon in ("ovsdb-server", "ovs-vswitchd"):
        assert ovs.running(daemon)
        pid = ovs._pid(daemon)
        daemon_ns = os.stat("/proc/%d/ns/net" % pid)
        test_ns = os.stat("/run/netns/" + ovs.netns)
        assert (daemon_ns.st_dev, daemon_ns.st_ino) == (
            test_ns.st_dev,
            test_ns.st_ino,
        )
        assert os.path.exists(os.path.join(ovs.workdir, daemon + ".ctl"))


def _host_links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


@pytest.mark.parametrize("host_has_ovs", [False, True])
def test_netdev_bridge_and_tap_port(
    ovs: ovs_server.OvsServer, netns: object, host_has_ovs: bool
) -> None:
    # The test runs in a fresh namespace standing for the host.  A host
    # may run an Open vSwitch of its own, with its own ovs-netdev: only
    # what appears during the test counts.
    if host_has_ovs:
        with IPRoute() as ipr:
            ipr.link("add", ifname="ovs-netdev", kind="tuntap", mode="tap")
    host_before = _host_links()
    ovs.vsctl(
        "add-br",
        "br-harness",
        "--",
        "set",
        "Bridge",
        "br-harness",
        "datapath_type=netdev",
    )
    with NetNS(ovs.netns) as ipr:
        ipr.link("add", ifname="tapharness", kind="tuntap", mode="tap")
    ovs.vsctl("add-port", "br-harness", "tapharness")
    ofport = ovs.vsctl("get", "Interface", "tapharness", "ofport").strip()
    assert int(ofport) > 0
    assert "br-harness" in _links(ovs.netns)
    assert ovs.bridges() == ["br-harness"]
    # The userspace datapath lives in the namespace, not on the host.
    assert {"ovs-netdev", "br-harness"} <= _links(ovs.netns)
    appeared = _host_links() - host_before
    assert not {"ovs-netdev", "br-harness", "tapharness"} & appeared


def test_bridges_from_an_earlier_test_are_gone(
    ovs: ovs_server.OvsServer,
) -> None:
    assert ovs.bridges() == []
    assert _links(ovs.netns) <= {"lo", "ovs-netdev"}


def test_restarted_ovsdb_keeps_its_data(ovs: ovs_server.OvsServer) -> None:
    ovs.vsctl(
        "add-br",
        "br-keep",
        "--",
        "set",
        "Bridge",
        "br-keep",
        "datapath_type=netdev",
    )
    ovs.restart_ovsdb()
    assert ovs.bridges() == ["br-keep"]
    assert ovs.running("ovs-vswitchd")


def test_compacted_database_keeps_its_data(ovs: ovs_server.OvsServer) -> None:
    for number in range(20):
        ovs.vsctl("--no-wait", "add-br", "br-c%d" % number)
    for number in range(1, 20):
        ovs.vsctl("--no-wait", "del-br", "br-c%d" % number)
    database = ovs.db_file
    before = os.path.getsize(database)
    ovs.compact()
    assert os.path.getsize(database) < before
    assert ovs.bridges() == ["br-c0"]


def test_missing_reason_names_the_package(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(ovs_server, "_SBIN", ())
    reason = ovs_server.missing_reason()
    assert reason is not None and "openvswitch-switch" in reason
