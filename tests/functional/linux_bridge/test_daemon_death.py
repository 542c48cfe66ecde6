"""The linux_bridge plugin's privsep daemon killed while VIFs are plugged.

The real daemon (its context ``vif_plug_linux_bridge``, a process of its
own, apart from the ovs plugin's) in a fresh namespace.  The daemon is
killed at a known point (see tests/functional/daemon_faults.py): the plug
in flight completes on a new daemon within a second of the kill; killed
again during the retry, the plug fails once and leaves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.internal.privileged import context
from os_vif.internal.unprivileged import daemon
from os_vif.objects import instance_info
from os_vif.sandbox import vifs
from tests.functional import daemon_faults

pytestmark = [pytest.mark.functional]

INSTANCE = instance_info.InstanceInfo(
    uuid="6a0b7c57-4f4c-4b1e-9b7e-37a2c1e2d0f1", name="vm-1", project_id="p"
)
#: Seconds from the kill to the call's return.
AT_ONCE = 1.0
#: VIFs in a batch, a bridge and a tap each: far from done when the first
#: bridge exists.
BATCH = 12


def _vif(n: int) -> Any:
    return vifs.bridge_vif(n, bridge="br-dd%d" % n, tap="tap-dd%d" % n)


def _devices(vif: Any) -> set[str]:
    return {vif.network.bridge, vif.vif_name}


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def _made(vif: Any):
    return lambda pid: linkstate.device_exists(vif.network.bridge)


@pytest.fixture
def lb(netns, conf) -> Iterator[Any]:
    """os_vif with the linux_bridge plugin making taps, its daemon up."""
    os_vif.initialize(reset=True)
    conf.config(create_tap=True, group="os_vif_linux_bridge")
    os_vif.plug(_vif(99), INSTANCE)
    yield conf


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> daemon_faults.Calls:
    return daemon_faults.Calls(monkeypatch)


def test_a_plug_in_flight_completes_on_a_new_daemon(lb, calls) -> None:
    vif = _vif(1)
    calls.hold_plans(1)
    outcome = daemon_faults.strike(
        context.vif_plug_linux_bridge,
        lambda: os_vif.plug(vif, INSTANCE),
        [calls.held],
    )
    assert outcome.error is None, outcome.error
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    assert _devices(vif) <= _links()
    assert os_vif.check(vif, INSTANCE).ok
    assert daemon_faults.journals(calls.ids()) == []


def test_a_plug_whose_retry_dies_too_fails_once(lb, calls) -> None:
    vif = _vif(2)
    calls.hold_plans(2)
    outcome = daemon_faults.strike(
        context.vif_plug_linux_bridge,
        lambda: os_vif.plug(vif, INSTANCE),
        [calls.held, calls.held],
    )
    error = outcome.error
    assert isinstance(error, exception.PlugException), error
    assert isinstance(error.kwargs["err"], daemon.DaemonLost)
    assert "died during the call" in str(error)
    assert "failed too" in str(error)
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan", "recover"]
    assert not _devices(vif) & _links()
    assert daemon_faults.journals(calls.ids()) == []


def test_a_batch_killed_halfway_is_plugged_whole(lb, calls) -> None:
    batch = [_vif(10 + n) for n in range(BATCH)]
    outcome = daemon_faults.strike(
        context.vif_plug_linux_bridge,
        lambda: os_vif.plug_many([(v, INSTANCE) for v in batch]),
        [_made(batch[0])],
    )
    assert outcome.error is None, outcome.error
    assert outcome.value == [None] * BATCH
    # What the death cost: the retry's own work (the whole batch
    # again) aside.
    assert outcome.after_kill - calls.retry_seconds() < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    assert calls.took_back() == [True]
    links = _links()
    for vif in batch:
        assert _devices(vif) <= links
        assert os_vif.check(vif, INSTANCE).ok


def test_a_batch_whose_retry_dies_too_leaves_nothing(lb, calls) -> None:
    batch = [_vif(50 + n) for n in range(BATCH)]

    def retry_made_a_change(pid: int) -> bool:
        # The retry is sent once the recovery is over; its journal has a
        # line just before each change it makes.
        return (
            calls.kinds() == ["plan", "recover", "plan"]
            and calls.journaled() > 0
        )

    outcome = daemon_faults.strike(
        context.vif_plug_linux_bridge,
        lambda: os_vif.plug_many([(v, INSTANCE) for v in batch]),
        [_made(batch[0]), retry_made_a_change],
    )
    assert outcome.error is None, outcome.error
    assert outcome.after_kill < AT_ONCE
    for result in outcome.value:
        assert isinstance(result, exception.PlugException), result
        assert "failed too" in str(result)
    links = _links()
    for vif in batch:
        assert not _devices(vif) & links
    assert daemon_faults.journals(calls.ids()) == []
    assert calls.took_back() == [True, True]
