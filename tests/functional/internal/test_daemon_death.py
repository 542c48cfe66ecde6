"""A privsep daemon killed mid-call: seen at once, taken back, retried once.

Real daemons of both families (the ovs and the linux_bridge contexts) in a
fresh namespace, calls bounded by a 10 s timeout: a death noticed only at
the timeout fails every test here.  The daemon is killed at a known point
(see tests/functional/daemon_faults.py): stopped with the request unread
in its socket (a hold: the connection is then reset, which oslo.privsep
alone never wakes the caller from), or once a plan has made its first
change (a big plan).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif.internal import kernel as d
from os_vif.internal import linkstate
from os_vif.internal.unprivileged import daemon, runner
from os_vif.internal.unprivileged.plan import Plan
from tests.functional import daemon_faults

pytestmark = [pytest.mark.functional]

#: Enough taps that the plan is far from done when the first exists, few
#: enough that a retry of them all fits in the second the test allows.
TAPS = ["tapd%03d" % n for n in range(80)]
#: Seconds from the kill to the call's return.
AT_ONCE = 1.0


@pytest.fixture(
    params=[runner.OVS, runner.LINUX_BRIDGE], ids=lambda host: host.name
)
def host(request, netns) -> Iterator[runner.HostRunner]:
    """A family's runner, its daemon started, calls bounded by 10 s."""
    base = request.param
    host = runner.HostRunner(
        base.name, base.context, base._entrypoint, timeout=10
    )
    host.run(Plan().add(d.EnsureBridge(name="br-warm0")))
    yield host


@pytest.fixture
def calls(monkeypatch) -> daemon_faults.Calls:
    return daemon_faults.Calls(monkeypatch)


def _taps(names: list[str] = TAPS) -> Plan:
    return Plan(label="taps").add(*(d.EnsureTap(name=t) for t in names))


def _made(name: str):
    return lambda pid: linkstate.device_exists(name)


def _left(names: list[str] = TAPS) -> list[str]:
    return [t for t in names if linkstate.device_exists(t)]


def _os_vif_records(caplog, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("os_vif") and r.levelno == level
    ]


def test_a_call_in_flight_is_made_again_on_a_new_daemon(host, calls, caplog):
    caplog.set_level(logging.INFO)
    calls.hold_plans(1)
    outcome = daemon_faults.strike(
        host.context,
        lambda: host.run(_taps(TAPS[:1])),
        [calls.held],
    )
    assert outcome.error is None, outcome.error
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    # Killed before it did anything: nothing to take back.
    assert calls.took_back() == [False]
    assert _left(TAPS[:1]) == TAPS[:1]
    assert daemon.daemon_pid(host.context) not in (None, *outcome.killed)
    assert daemon_faults.journals(calls.ids()) == []
    # What the log says: one warning, then the recovery and the retry.
    [warning] = _os_vif_records(caplog, logging.WARNING)
    assert "(pid %d) died during a call" % outcome.killed[0] in warning
    info = _os_vif_records(caplog, logging.INFO)
    assert any(
        "found nothing to take back of privileged plan" in m for m in info
    )
    assert any("Retrying the privileged call" in m for m in info)
    assert any("The retried privileged call" in m for m in info)
    assert _os_vif_records(caplog, logging.ERROR) == []


def test_a_plan_killed_halfway_is_taken_back_and_done_again(host, calls):
    outcome = daemon_faults.strike(
        host.context, lambda: host.run(_taps()), [_made(TAPS[0])]
    )
    assert outcome.error is None, outcome.error
    # What the death cost: the retry's own work (the whole plan again)
    # aside.
    assert outcome.after_kill - calls.retry_seconds() < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    # The first daemon had made taps: the new one took them back first.
    assert calls.took_back() == [True]
    assert _left() == TAPS
    assert daemon_faults.journals(calls.ids()) == []


def test_a_retry_killed_too_fails_once_and_leaves_nothing(
    host, calls, caplog
):
    caplog.set_level(logging.INFO)

    def retry_made_a_change(pid: int) -> bool:
        # The retry is sent once the recovery is over; its journal has a
        # line just before each change it makes.
        return (
            calls.kinds() == ["plan", "recover", "plan"]
            and calls.journaled() > 0
        )

    outcome = daemon_faults.strike(
        host.context,
        lambda: host.run(_taps()),
        [_made(TAPS[0]), retry_made_a_change],
    )
    error = outcome.error
    assert isinstance(error, daemon.DaemonLost), error
    assert outcome.after_kill < AT_ONCE
    message = str(error)
    assert "the privsep daemon died during the call" in message
    assert "retried once on a new daemon, which failed too" in message
    assert _left() == [], caplog.text
    assert daemon_faults.journals(calls.ids()) == []
    assert calls.kinds() == ["plan", "recover", "plan", "recover"]
    assert calls.took_back() == [True, True], caplog.text
    assert len(_os_vif_records(caplog, logging.WARNING)) == 2
    # A new daemon serves the next call.
    host.run(_taps(TAPS[:1]))
    assert _left(TAPS[:1]) == TAPS[:1]


def test_a_recovery_killed_is_made_again(host, calls):
    calls.hold_recoveries(1)
    outcome = daemon_faults.strike(
        host.context,
        lambda: host.run(_taps()),
        [_made(TAPS[0]), calls.held],
    )
    assert outcome.error is None, outcome.error
    # What the death cost: the retry's own work (the whole plan again)
    # aside.
    assert outcome.after_kill - calls.retry_seconds() < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "recover", "plan"]
    # The second recovery read the journal the first could not.
    assert calls.took_back() == [True]
    assert _left() == TAPS
    assert daemon_faults.journals(calls.ids()) == []


def test_a_batch_killed_halfway_is_retried_whole(host, calls):
    plans = [
        Plan(label="vif%d" % n).add(
            d.EnsureTap(name=TAPS[2 * n]), d.EnsureTap(name=TAPS[2 * n + 1])
        )
        for n in range(len(TAPS) // 2)
    ]
    outcome = daemon_faults.strike(
        host.context, lambda: host.run_many(plans), [_made(TAPS[0])]
    )
    assert outcome.error is None, outcome.error
    assert [r.error for r in outcome.value] == [None] * len(plans)
    # What the death cost: the retry's own work (the whole batch
    # again) aside.
    assert outcome.after_kill - calls.retry_seconds() < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    assert calls.took_back() == [True]
    assert _left() == TAPS


def test_a_batch_of_deletions_in_flight_is_made_again(host, calls):
    host.run(_taps())
    plans = [
        Plan(label="vif%d" % n).add(
            d.DeleteDevice(name=TAPS[2 * n], kind="tun"),
            d.DeleteDevice(name=TAPS[2 * n + 1], kind="tun"),
        )
        for n in range(len(TAPS) // 2)
    ]
    calls.forget()
    calls.hold_plans(1)
    outcome = daemon_faults.strike(
        host.context,
        lambda: host.run_many(plans, order=runner.Order.TOGETHER),
        [calls.held],
    )
    assert outcome.error is None, outcome.error
    assert [r.error for r in outcome.value] == [None] * len(plans)
    assert outcome.after_kill < AT_ONCE
    assert calls.kinds() == ["plan", "recover", "plan"]
    assert _left() == []


def test_calls_of_two_threads_on_a_killed_daemon_both_complete(host, calls):
    """Every plan the lost daemon had is taken back before any is retried.

    Two VIFs on one bridge: had the second's retry run before the first's
    recovery, that recovery would delete the bridge the retry found there.
    """
    # The first plan long enough (a few hundred ms in the daemon) that the
    # kill, made once its first tap exists, lands while it still runs on
    # any machine; the second waits behind it.
    first = ["tapw%03d" % n for n in range(200)]
    second = TAPS[40:]
    names = sorted(first + second)

    def plan(label: str, taps: list[str]) -> Plan:
        return Plan(label=label).add(
            d.EnsureBridge(name="br-shared0"),
            *(d.EnsureTap(name=t, master="br-shared0") for t in taps),
        )

    other: dict[str, Any] = {}

    def run_second() -> None:
        # Sent while the daemon runs the first plan: queued behind it.
        while calls.kinds() != ["plan"]:
            time.sleep(0.0005)
        try:
            host.run(plan("second", second))
        except Exception as err:  # noqa: BLE001 - checked below
            other["error"] = err
        other["end"] = time.monotonic()

    thread = threading.Thread(target=run_second)
    thread.start()
    try:
        outcome = daemon_faults.strike(
            host.context,
            lambda: host.run(plan("first", first)),
            [
                lambda pid: calls.kinds() == ["plan", "plan"]
                and calls.journaled() == 0  # the second waits its turn
                and linkstate.device_exists(first[0])
            ],
        )
    finally:
        thread.join(timeout=60)
    assert outcome.error is None, outcome.error
    assert other.get("error") is None, other.get("error")
    kinds = calls.kinds()
    assert kinds[:4] == ["plan", "plan", "recover", "recover"], kinds
    assert kinds[4:] == ["plan", "plan"], kinds
    assert _left(names) == names
    with IPRoute() as ipr:
        bridge = ipr.link("get", ifname="br-shared0")[0]["index"]
        masters = {
            link.get("ifname"): link.get("master")
            for link in ipr.get_links()
        }
    assert {masters[t] for t in names} == {bridge}
    assert daemon_faults.journals(calls.ids()) == []
