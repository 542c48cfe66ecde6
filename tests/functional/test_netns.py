"""The fresh-namespace fixture itself: it enters, restores and cleans up."""

from __future__ import annotations

import os

import pytest
from pyroute2 import IPRoute

from os_vif.internal import kernel as devices
from os_vif.internal.unprivileged import plan, runner
from os_vif.sandbox import netns as netns_fixture


@pytest.fixture(autouse=True)
def needs_root():
    reason = netns_fixture.missing_reason()
    if reason is not None:
        pytest.skip(reason)


def test_fresh_netns_enters_restores_and_deletes():
    before = netns_fixture.current_netns_inode()
    with netns_fixture.fresh_netns("osvif-self") as ns:
        assert netns_fixture.current_netns_inode() == ns.inode != before
        path = ns.path
        # The daemon started now runs in here: its bridge appears here.
        runner.LINUX_BRIDGE.run(
            plan.Plan().add(devices.EnsureBridge(name="br-self0"))
        )
        assert ns.link_names() == ["br-self0", "lo"]
        with IPRoute() as ipr:
            assert ipr.link_lookup(ifname="lo")
    assert netns_fixture.current_netns_inode() == before
    assert not os.path.exists(path)
    with IPRoute() as ipr:
        assert not ipr.link_lookup(ifname="br-self0")


def test_fresh_netns_cleans_up_when_the_test_fails():
    before = netns_fixture.current_netns_inode()
    with pytest.raises(RuntimeError):
        with netns_fixture.fresh_netns("osvif-self") as ns:
            path = ns.path
            raise RuntimeError("test failed")
    assert netns_fixture.current_netns_inode() == before
    assert not os.path.exists(path)
