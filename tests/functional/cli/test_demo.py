"""The README's main job: ``os-vif demo`` plugs real VIFs and cleans up."""

from __future__ import annotations

import os

import pytest
from pyroute2 import netns as pyroute2_netns

from os_vif.cli import main
from os_vif.sandbox import netns as netns_sandbox
from os_vif.sandbox import ovs as ovs_sandbox

pytestmark = pytest.mark.skipif(
    netns_sandbox.missing_reason() is not None,
    reason=str(netns_sandbox.missing_reason()),
)


def run_demo(capsys, *args: str) -> str:
    from oslo_config import cfg

    host_before = netns_sandbox.current_netns_inode()
    assert main(["demo", *args]) == 0
    # The demo's option overrides end with it (it ran in this process).
    assert cfg.CONF.os_vif_linux_bridge.create_tap is False
    out = capsys.readouterr().out
    # The namespace is gone and the thread is back where it was.
    assert not [
        name
        for name in pyroute2_netns.listnetns()
        if name.startswith("os-vif-demo-%d-" % os.getpid())
    ]
    assert netns_sandbox.current_netns_inode() == host_before
    return out


def test_demo_linux_bridge(capsys, conf):
    out = run_demo(capsys, "--no-ovs")
    assert "== linux_bridge: VIFBridge" in out
    assert "brdemo           bridge  mtu 1450  up" in out
    assert "tapdemo0         tun     mtu 1450  up" in out
    assert "master brdemo" in out
    assert "unplugged (twice): brdemo, tapdemo0 gone" in out
    assert "Open vSwitch part skipped: --no-ovs" in out


@pytest.mark.skipif(
    ovs_sandbox.missing_reason() is not None,
    reason=str(ovs_sandbox.missing_reason()),
)
def test_demo_with_ovs(capsys, conf):
    out = run_demo(capsys)
    assert "== ovs: VIFOpenVSwitch (create_port, create_tap)" in out
    assert 'iface-id="' in out and "vm-uuid=" in out
    assert "== ovs: hybrid VIFBridge" in out
    assert out.count("gone") == 3
    assert not [
        name
        for name in os.listdir("/tmp")
        if name.startswith("os-vif-demo-ovs")
    ]
