"""The workload daemon killed while it makes a workload's end.

The real daemon (``vif_plug_workload``) in a fresh namespace, killed once
it journaled the undo of the veth it is making (see
tests/functional/daemon_faults.py): the new daemon takes the half-made
end back from the journal -- inside the workload's namespace -- and the
plug completes on it; killed again during the retry, the plug fails once
and leaves nothing, on the host or in the namespace.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.internal.privileged import context
from os_vif.sandbox import vifs
from tests.functional import daemon_faults
from tests.functional.workload.conftest import addressed, run_in, workload

pytestmark = [pytest.mark.functional]


def _vif(n: int) -> Any:
    vif = vifs.bridge_vif(n, bridge="br-wd%d" % n, mtu=1400)
    return addressed(vif, "10.6.0.%d/24" % (n + 2), gateway="10.6.0.1")


def _inside(namespace: str) -> list[str]:
    out = run_in(namespace, "ip", "-j", "link", "show")
    return [link["ifname"] for link in json.loads(out.stdout)]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> daemon_faults.Calls:
    return daemon_faults.Calls(monkeypatch)


@pytest.fixture
def warm(workload_netns) -> None:
    """os_vif with the workload daemon up (a workload plugged)."""
    os_vif.initialize(reset=True)
    os_vif.plug(_vif(9), vifs.INSTANCE, workload=workload(workload_netns()))


def _journaled(calls: daemon_faults.Calls, plans: int):
    def moment(pid: int) -> bool:
        # The plan's first change is journaled just before it is made.
        return calls.kinds().count("plan") == plans and calls.journaled() > 0

    return moment


def test_a_plug_killed_midway_completes_on_a_new_daemon(
    warm, calls, workload_netns
) -> None:
    namespace = workload_netns()
    vif, end = _vif(1), workload(namespace)
    calls.forget()
    outcome = daemon_faults.strike(
        context.vif_plug_workload,
        lambda: os_vif.plug(vif, vifs.INSTANCE, workload=end),
        [_journaled(calls, 1)],
    )
    assert outcome.error is None, outcome.error
    assert calls.kinds() == ["plan", "recover", "plan"]
    assert linkstate.read_link(vif.vif_name) is not None
    assert _inside(namespace) == ["lo", "eth0"]
    assert os_vif.check(vif, vifs.INSTANCE, workload=end).ok
    assert daemon_faults.journals(calls.ids()) == []


def test_a_plug_whose_retry_dies_too_leaves_nothing(
    warm, calls, workload_netns
) -> None:
    namespace = workload_netns()
    vif, end = _vif(2), workload(namespace)
    calls.forget()
    outcome = daemon_faults.strike(
        context.vif_plug_workload,
        lambda: os_vif.plug(vif, vifs.INSTANCE, workload=end),
        [_journaled(calls, 1), _journaled(calls, 2)],
    )
    assert isinstance(outcome.error, exception.PlugException), outcome.error
    assert "failed too" in str(outcome.error)
    assert linkstate.read_link(vif.vif_name) is None
    assert linkstate.read_link(vif.network.bridge) is None
    assert _inside(namespace) == ["lo"]
    assert daemon_faults.journals(calls.ids()) == []
