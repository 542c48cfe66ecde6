"""The ovs plugin's privsep daemon killed while VIFs are being plugged.

The real daemon (its context ``vif_plug_ovs``), kernel and private Open
vSwitch.  The daemon is killed at a known point (see
tests/functional/daemon_faults.py): the plug in flight completes on a new
daemon within a second of the kill; killed again during the retry, the
plug fails once, with nothing left in the kernel or in OVSDB.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.internal.privileged import context
from os_vif.internal.unprivileged import daemon
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional import daemon_faults
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE
#: Seconds from the kill to the call's return.
AT_ONCE = 1.0
#: VIFs in a batch: far from done when the first VIF's bridge exists.
BATCH = 24


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def _hybrid(vif: Any) -> tuple[set[str], str]:
    """The devices a hybrid plug makes, and its OVS port."""
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    return {qbr, qvb, qvo}, qvo


def _plugged(ovs: OvsServer, plugin: Any, vif: Any) -> None:
    devices, port = _hybrid(vif)
    assert devices <= _links(), vif.id
    assert ovsdb_rows.port_bridge(ovs, port) == "br-int"
    assert plugin.check(vif, INSTANCE).ok


def _nothing_of(ovs: OvsServer, vif: Any) -> None:
    devices, port = _hybrid(vif)
    assert not devices & _links(), vif.id
    assert ovsdb_rows.row(ovs, "Port", port) is None


def _bridge_made(vif: Any):
    qbr = naming.hybrid_names(vif.id)[0]
    return lambda pid: linkstate.device_exists(qbr)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> daemon_faults.Calls:
    return daemon_faults.Calls(monkeypatch)


@pytest.fixture
def loaded(ovs_plugin: Any) -> Any:
    """os_vif's plugins loaded (for plug_many), the ovs one configured."""
    os_vif.initialize(reset=True)
    return ovs_plugin


def test_a_hybrid_plug_in_flight_completes_on_a_new_daemon(
    ovs_plugin, ovs, calls
) -> None:
    vif = vifs.hybrid_vif(1)
    calls.hold_plans(1)
    outcome = daemon_faults.strike(
        context.vif_plug_ovs,
        lambda: ovs_plugin.plug(vif, INSTANCE),
        [calls.held],
    )
    assert outcome.error is None, outcome.error
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    _plugged(ovs, ovs_plugin, vif)
    assert daemon_faults.journals(calls.ids()) == []
    ovs_plugin.unplug(vif, INSTANCE)
    _nothing_of(ovs, vif)


def test_a_hybrid_plug_whose_retry_dies_too_fails_once(
    ovs_plugin, ovs, calls
) -> None:
    vif = vifs.hybrid_vif(2)
    calls.hold_plans(2)
    outcome = daemon_faults.strike(
        context.vif_plug_ovs,
        lambda: ovs_plugin.plug(vif, INSTANCE),
        [calls.held, calls.held],
    )
    error = outcome.error
    assert isinstance(error, daemon.DaemonLost), error
    assert isinstance(error, exception.HostOperationFailed)
    assert "died during the call" in str(error)
    assert "failed too" in str(error)
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan", "recover"]
    _nothing_of(ovs, vif)
    assert daemon_faults.journals(calls.ids()) == []
    # The next plug works.
    ovs_plugin.plug(vif, INSTANCE)
    _plugged(ovs, ovs_plugin, vif)


def test_a_batch_killed_halfway_is_plugged_whole(loaded, ovs, calls) -> None:
    batch = [vifs.hybrid_vif(10 + n) for n in range(BATCH)]
    outcome = daemon_faults.strike(
        context.vif_plug_ovs,
        lambda: os_vif.plug_many([(v, INSTANCE) for v in batch]),
        [_bridge_made(batch[0])],
    )
    assert outcome.error is None, outcome.error
    assert outcome.value == [None] * BATCH
    # What the death cost: the retry's own work (the whole batch
    # again) aside.
    assert outcome.after_kill - calls.retry_seconds() < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    # The first daemon had made devices: the new one took them back.
    assert calls.took_back() == [True]
    for vif in batch:
        _plugged(ovs, loaded, vif)

    # An unplug of the batch in flight: done on the new daemon as well.
    calls.forget()
    calls.hold_plans(1)
    outcome = daemon_faults.strike(
        context.vif_plug_ovs,
        lambda: os_vif.unplug_many([(v, INSTANCE) for v in batch]),
        [calls.held],
    )
    assert outcome.error is None, outcome.error
    assert outcome.value == [None] * BATCH
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    for vif in batch:
        _nothing_of(ovs, vif)


def test_a_batch_whose_retry_dies_too_leaves_nothing(
    loaded, ovs, calls
) -> None:
    batch = [vifs.hybrid_vif(40 + n) for n in range(BATCH)]

    def retry_made_a_change(pid: int) -> bool:
        # The retry is sent once the recovery is over; its journal has a
        # line just before each change it makes.
        return (
            calls.kinds() == ["plan", "recover", "plan"]
            and calls.journaled() > 0
        )

    outcome = daemon_faults.strike(
        context.vif_plug_ovs,
        lambda: os_vif.plug_many([(v, INSTANCE) for v in batch]),
        [_bridge_made(batch[0]), retry_made_a_change],
    )
    assert outcome.error is None, outcome.error
    assert outcome.after_kill < AT_ONCE
    for result in outcome.value:
        assert isinstance(result, exception.PlugException), result
        assert isinstance(result.kwargs["err"], daemon.DaemonLost)
        assert "failed too" in str(result.kwargs["err"])
    for vif in batch:
        _nothing_of(ovs, vif)
    assert daemon_faults.journals(calls.ids()) == []
    assert calls.took_back() == [True, True]
