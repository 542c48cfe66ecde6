"""A daemon that dies mid-call: seen at once, taken back, retried once.

No daemon and no host here: the runner's privileged call is replaced by a
script of answers, and the channel tests use oslo.privsep's client channel
over a socket pair (the "daemon" is the other end of the pair).
"""

from __future__ import annotations

import socket
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest
from oslo_privsep import comm

from os_vif import exception
from os_vif.internal.unprivileged import daemon, runner
from os_vif.internal.unprivileged.plan import Plan

# -- the runner's retry -------------------------------------------------------


class _Step:
    """A kernel step as the runner sends it (only its wire form is used)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def to_wire(self) -> list[Any]:
        return ["ensure_tap", {"name": self.name}]


def _died(what: str = "plan") -> daemon.DaemonDied:
    return daemon.DaemonDied(
        operation="privileged call", device=what, err="Premature eof"
    )


def _timed_out() -> daemon.DaemonTimedOut:
    return daemon.DaemonTimedOut(
        operation="privileged call",
        device="plan",
        err="no answer from the privsep daemon within 3s; it was killed",
    )


_DONE = {"changed": [True], "undo": []}


class _Script:
    """Stands for daemon.call: answers (or raises) in the given order."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def __call__(
        self,
        context: Any,
        entrypoint: Callable[..., Any],
        argument: Any,
        *,
        timeout: float,
        what: str,
    ) -> Any:
        self.requests.append(argument)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(argument)
        return answer



@pytest.fixture
def host() -> runner.HostRunner:
    # A context without a channel: no daemon was ever started.
    context: Any = types.SimpleNamespace(channel=None)
    return runner.HostRunner("test", context, lambda *a, **k: None, 3)


def _run(
    host: runner.HostRunner,
    script: _Script,
    monkeypatch: pytest.MonkeyPatch,
    plans: int = 1,
) -> list[Any]:
    monkeypatch.setattr(daemon, "call", script)
    todo = {i: [_Step("tap%d" % i)] for i in range(plans)}
    results: list[Any] = [None] * plans
    labels = [Plan(label="vif%d" % i) for i in range(plans)]
    host._kernel(todo, labels, results)
    return results


def test_a_death_is_followed_by_one_more_call(host, monkeypatch):
    script = _Script(_died(), [_DONE])
    assert _run(host, script, monkeypatch) == [None]
    first, retry = script.requests
    # The retry is a plan of its own (its own journal), the same groups.
    assert retry["id"] != first["id"]
    assert retry["groups"] == first["groups"]


def test_a_batch_is_retried_whole(host, monkeypatch):
    script = _Script(_died(), [_DONE] * 3)
    assert _run(host, script, monkeypatch, plans=3) == [None] * 3
    first, retry = script.requests
    assert len(retry["groups"]) == 3
    assert retry["batch_deletions"] is first["batch_deletions"] is True


def test_a_timeout_is_not_retried(host, monkeypatch):
    script = _Script(_timed_out())
    [error] = _run(host, script, monkeypatch)
    assert isinstance(error, daemon.DaemonTimedOut)
    assert len(script.requests) == 1


def test_a_loss_not_taken_back_is_not_retried(host, monkeypatch):
    kept = daemon.DaemonLost(
        operation="privileged call",
        device="vif0",
        err="its changes could not be taken back",
    )
    script = _Script(kept)
    [error] = _run(host, script, monkeypatch)
    assert error is kept
    assert len(script.requests) == 1


def test_a_retry_that_dies_too_fails_once_saying_both(host, monkeypatch):
    script = _Script(_died(), _died())
    [error] = _run(host, script, monkeypatch)
    assert len(script.requests) == 2
    assert isinstance(error, daemon.DaemonLost)
    assert isinstance(error, exception.HostOperationFailed)
    message = str(error)
    assert "died during the call (Premature eof)" in message
    assert "retried once" in message
    assert "failed too (Premature eof)" in message
    assert "what the retry did was taken back" in message
    assert error.kwargs["device"] == "vif0"


def test_a_retry_that_times_out_fails_once(host, monkeypatch):
    script = _Script(_died(), _timed_out())
    [error] = _run(host, script, monkeypatch)
    assert "failed too (no answer from the privsep daemon within 3s" in str(
        error
    )


def test_a_retry_failing_otherwise_fails_once(host, monkeypatch):
    refused = exception.HostOperationFailed(
        operation="privileged call", device="vif0", err="Broken pipe"
    )
    script = _Script(_died(), refused)
    [error] = _run(host, script, monkeypatch)
    assert isinstance(error, daemon.DaemonLost)
    assert str(error).endswith("failed too (Broken pipe)")


def test_a_group_error_of_the_retry_is_that_vifs_own(host, monkeypatch):
    wrong = {"error": ["HostOperationFailed", "no such device", {}]}
    script = _Script(_died(), [wrong, _DONE])
    results = _run(host, script, monkeypatch, plans=2)
    assert isinstance(results[0], exception.HostOperationFailed)
    assert "no such device" in str(results[0])
    assert results[1] is None


# -- the daemon module: a lost channel's plans taken back, once for all -------


class _Channel:
    """A channel as far as the loss handling sees it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


class _Daemons:
    """Stands for daemon._connect and _remote_call: scripted daemons."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *fates: Any) -> None:
        #: What each new daemon does with a recovery: "ok" or "dies".
        self.fates = list(fates)
        self.started: list[_Channel] = []
        self.recovered: list[tuple[int, str]] = []
        self.context = types.SimpleNamespace(channel=None)
        monkeypatch.setattr(daemon, "_connect", self.connect)
        monkeypatch.setattr(daemon, "_remote_call", self.remote_call)
        monkeypatch.setattr(daemon, "_forget", self.forget)

    def connect(self, context: Any, entrypoint: Any, timeout: float) -> Any:
        if context.channel is None:
            context.channel = _Channel(100 + len(self.started))
            self.started.append(context.channel)
        return context.channel

    def forget(self, context: Any, channel: Any) -> None:
        if context.channel is channel:
            context.channel = None

    def remote_call(
        self,
        context: Any,
        channel: Any,
        entrypoint: Any,
        argument: Any,
        timeout: float,
    ) -> Any:
        assert argument["recover"] is True
        if self.fates[self.started.index(channel) - 1] == "dies":
            raise OSError("Premature eof")
        self.recovered.append((channel.pid, argument["id"]))
        return [{"changed": [True], "undo": []}]


def test_every_plan_in_flight_is_taken_back_before_the_new_daemon_serves(
    monkeypatch,
):
    daemons = _Daemons(monkeypatch, "ok")
    lost = daemons.connect(daemons.context, None, 3)
    daemon._IN_FLIGHT[lost] = {"a" * 32: "vif-a", "b" * 32: "vif-b"}
    # The first caller of the lost channel takes back every plan sent on
    # it (its own and other threads'); the others find that done.
    assert daemon._lost(daemons.context, lost, None, 3, False) is None
    assert daemon._lost(daemons.context, lost, None, 3, False) is None
    assert daemons.recovered == [(101, "a" * 32), (101, "b" * 32)]
    assert len(daemons.started) == 2


def test_a_recovery_whose_daemon_dies_is_made_on_another(monkeypatch):
    daemons = _Daemons(monkeypatch, "dies", "ok")
    lost = daemons.connect(daemons.context, None, 3)
    daemon._IN_FLIGHT[lost] = {"a" * 32: "vif-a"}
    assert daemon._lost(daemons.context, lost, None, 3, False) is None
    assert daemons.recovered == [(102, "a" * 32)]


def test_what_cannot_be_taken_back_is_said_once(monkeypatch):
    daemons = _Daemons(monkeypatch, "dies", "dies")
    lost = daemons.connect(daemons.context, None, 3)
    daemon._IN_FLIGHT[lost] = {"a" * 32: "vif-a"}
    outcome = daemon._lost(daemons.context, lost, None, 3, False)
    assert isinstance(outcome, daemon.DaemonLost)
    assert not isinstance(outcome, daemon.DaemonDied)  # not to be retried
    assert "could not be taken back (Premature eof)" in str(outcome)
    assert "the journal of plan %s is kept" % ("a" * 32) in str(outcome)
    assert daemon._lost(daemons.context, lost, None, 3, False) is outcome


# -- the channel: a waiting call is woken when the daemon's socket goes -------


def _channel() -> tuple[comm.ClientChannel, socket.socket]:
    ours, theirs = socket.socketpair()
    return comm.ClientChannel(ours), theirs


def _die_unread(theirs: socket.socket) -> None:
    """Close the daemon's end with our request unread in it: a reset."""
    theirs.recv(1, socket.MSG_PEEK)
    theirs.close()


def _die_after_reading(theirs: socket.socket) -> None:
    """Read the request, then close: a plain end of file."""
    theirs.recv(65536)
    theirs.close()


@pytest.mark.parametrize("death", [_die_unread, _die_after_reading])
def test_a_watched_call_returns_at_once_when_the_daemon_dies(death):
    channel, theirs = _channel()
    daemon._watch(channel)
    threading.Thread(target=death, args=(theirs,), daemon=True).start()
    start = time.monotonic()
    with pytest.raises(OSError):
        channel.send_recv(("call",), timeout=30)
    assert time.monotonic() - start < 1
    # Marked stopped: oslo.privsep starts a new daemon for the next call,
    # and os_vif's check agrees.
    assert not channel.running and not daemon._alive(channel)


def test_unwatched_a_reset_leaves_the_call_waiting_its_timeout():
    """Why the watch exists: oslo.privsep alone does not wake the call.

    Should a new oslo.privsep fail the waiting calls on a reset too, this
    test fails, and the watch (daemon._watch) may go.
    """
    channel, theirs = _channel()
    threading.Thread(target=_die_unread, args=(theirs,), daemon=True).start()
    start = time.monotonic()
    reply = channel.send_recv(("call",), timeout=1)
    assert time.monotonic() - start >= 1
    assert "PrivsepTimeout" in reply[1]
    assert channel.running  # and the dead channel still looks alive


def test_a_call_on_a_channel_found_dead_fails_at_once():
    channel, theirs = _channel()
    daemon._watch(channel)
    theirs.close()
    channel.reader_thread.join(timeout=5)
    deadline = time.monotonic() + 5
    while channel.running and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    with pytest.raises(OSError):
        channel.send_recv(("call",), timeout=30)
    assert time.monotonic() - start < 1
