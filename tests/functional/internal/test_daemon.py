"""The privsep daemons themselves: capabilities, a daemon stopped mid-call.

Real daemons in a fresh namespace; a plan big enough (hundreds of taps in
one call) that the test can strike while the daemon is working.  A daemon
killed mid-call: see test_daemon_death.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from oslo_privsep import capabilities as caps

from os_vif import exception
from os_vif.internal import kernel as d
from os_vif.internal import linkstate
from os_vif.internal.privileged import context
from os_vif.internal.unprivileged import daemon, runner
from os_vif.internal.unprivileged.plan import Plan
from tests.functional import daemon_faults

pytestmark = [pytest.mark.functional]

TAPS = ["tapk%03d" % n for n in range(300)]


def _mask(capabilities: tuple[int, ...]) -> int:
    return sum(1 << cap for cap in capabilities)


def _status(pid: int) -> dict[str, str]:
    with open("/proc/%d/status" % pid) as handle:
        return dict(
            line.split(":\t", 1)
            for line in handle.read().splitlines()
            if ":\t" in line
        )


@pytest.mark.parametrize("host", [runner.LINUX_BRIDGE, runner.OVS], ids=str)
def test_each_daemon_has_only_the_documented_capabilities(netns, host):
    host.run(Plan().add(d.EnsureBridge(name="br-caps0")))
    pid = daemon.daemon_pid(host.context)
    assert pid is not None and pid != os.getpid()
    status = _status(pid)
    name = host.context.pypath.rsplit(".", 1)[1]
    wanted = _mask(context.CAPABILITIES[name])
    assert int(status["CapEff"].strip(), 16) == wanted
    assert int(status["CapPrm"].strip(), 16) == wanted
    # What doc/source/operators/privsep.rst states.
    assert wanted == _mask((caps.CAP_NET_ADMIN, caps.CAP_DAC_OVERRIDE))
    assert "%016x" % wanted == "0000000000001002"


def test_the_workload_daemon_alone_may_enter_a_namespace(netns):
    host = runner.WORKLOAD
    host.run(Plan().add(d.EnsureBridge(name="br-caps1")))
    pid = daemon.daemon_pid(host.context)
    assert pid is not None and pid != os.getpid()
    for other in (runner.LINUX_BRIDGE, runner.OVS):
        assert daemon.daemon_pid(other.context) != pid
    status = _status(pid)
    wanted = _mask(
        (caps.CAP_NET_ADMIN, caps.CAP_DAC_OVERRIDE, caps.CAP_SYS_ADMIN)
    )
    assert int(status["CapEff"].strip(), 16) == wanted
    assert int(status["CapPrm"].strip(), 16) == wanted
    # What doc/source/operators/privsep.rst states.
    assert "%016x" % wanted == "0000000000201002"


@pytest.fixture
def slow_host(netns) -> Iterator[runner.HostRunner]:
    """The ovs family with a short timeout, its daemon started."""
    host = runner.HostRunner(
        "test", runner.OVS.context, runner.OVS._entrypoint, timeout=3
    )
    host.run(Plan().add(d.EnsureBridge(name="br-warm0")))
    yield host


def _strike(host: runner.HostRunner, signum: int) -> tuple[Exception, float]:
    """Plug 300 taps; hit the daemon with ``signum`` once the first is made.

    Return the plug's error and how long it took after the signal.
    """
    pid = daemon.daemon_pid(host.context)
    assert pid is not None
    outcome: dict[str, Exception] = {}

    def plug() -> None:
        try:
            host.run(Plan().add(*(d.EnsureTap(name=t) for t in TAPS)))
        except Exception as err:
            outcome["error"] = err

    worker = threading.Thread(target=plug)
    worker.start()
    deadline = time.monotonic() + 30
    while not linkstate.device_exists(TAPS[0]):
        assert time.monotonic() < deadline, "the daemon made no tap"
        time.sleep(0.001)
    os.kill(pid, signum)
    struck = time.monotonic()
    worker.join(timeout=60)
    took = time.monotonic() - struck
    assert not worker.is_alive()
    # The daemon is gone (killed by the test or, stopped, by os_vif).
    deadline = time.monotonic() + 5
    while os.path.exists("/proc/%d" % pid) and "zombie" not in _status(
        pid
    ).get("State", ""):
        assert time.monotonic() < deadline, "the daemon was not killed"
        time.sleep(0.01)
    return outcome["error"], took


def _taps_left() -> list[str]:
    return [t for t in TAPS if linkstate.device_exists(t)]


def test_a_stopped_daemon_does_not_block_past_the_timeout(
    slow_host, monkeypatch
):
    calls = daemon_faults.Calls(monkeypatch)
    error, took = _strike(slow_host, signal.SIGSTOP)
    assert isinstance(error, exception.HostOperationFailed)
    # A hung daemon is not retried: the caller waited the timeout already.
    assert isinstance(error, daemon.DaemonTimedOut)
    assert calls.kinds() == ["plan", "recover"]
    assert calls.took_back() == [True]
    assert "within 3" in str(error)
    assert took < 3 + 5
    assert _taps_left() == []
    slow_host.run(Plan().add(d.EnsureTap(name="tap-after0")))
    assert linkstate.device_exists("tap-after0")


def test_a_vm_daemon_cannot_enter_a_namespace(netns):
    import subprocess
    import uuid

    name = "osvif-caps-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        plan = Plan().add(
            d.EnsureWorkloadEnd(
                netns=name, name="eth0", kind="veth", host="tapcaps0"
            )
        )
        with pytest.raises(exception.ExceptionBase) as caught:
            runner.LINUX_BRIDGE.run(plan)
        assert "Operation not permitted" in str(caught.value)
        assert linkstate.read_link("tapcaps0") is None
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
