"""Kill a privsep daemon in the middle of a call, at a known point.

Two ways to be sure a call is in flight when its daemon is killed, with
no test code in the daemon:

* **a hold** (:class:`Calls`, ``hold_plans`` / ``hold_recoveries``): the
  caller's side of the call (``daemon._remote_call``, wrapped for the
  test) stops the daemon (``SIGSTOP``) just before the request is sent.
  The request then waits, unread, in the daemon's socket; :meth:`Calls.held`
  sees it there (the socket's unread byte count) and the test kills the
  stopped daemon.  Killed with a request unread, the daemon resets the
  connection: the case oslo.privsep alone never wakes the caller from.
* **a big plan**: the test waits for the plan's first device to appear
  in the kernel (or for a line in its journal) and kills then, with the
  rest still to do: the daemon's changes are really taken back from the
  journal.

:func:`strike` runs the call in a thread and kills when told; it returns
what the call gave and how long after the (last) kill it returned.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import signal
import struct
import termios
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from os_vif.internal.privileged import journal
from os_vif.internal.unprivileged import daemon

__all__ = ["Calls", "Outcome", "journals", "strike", "unread"]


def unread(channel: Any) -> int:
    """Bytes sent on ``channel`` that its daemon has not read yet."""
    queued = fcntl.ioctl(
        channel.writer.writesock.fileno(), termios.TIOCOUTQ, b"\0" * 4
    )
    return int(struct.unpack("i", queued)[0])


def journals(identifiers: list[str]) -> list[str]:
    """The journal files of ``identifiers`` still on disk."""
    return [
        journal.path(i)
        for i in identifiers
        if os.path.lexists(journal.path(i))
    ]


class Calls:
    """Records (and may hold) the requests sent to the daemons.

    Wraps ``daemon._remote_call`` (the caller's side, in this process) for
    the test: ``requests`` lists what was sent, in order, as (kind, plan
    id) with kind ``plan`` or ``recover`` (a new daemon's first request,
    asking its pid, is not seen).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[tuple[str, str]] = []
        #: What each recovery answered: [{"changed": [took back?], ...}].
        self.recovered: list[Any] = []
        #: How long each request took, in order: (kind, seconds).
        self.seconds: list[tuple[str, float]] = []
        self._plans_to_hold = 0
        self._recoveries_to_hold = 0
        #: The channels whose daemon was stopped before a request: pid.
        self._held: dict[int, Any] = {}
        self._lock = threading.Lock()
        real = daemon._remote_call

        def remote_call(
            context: Any,
            channel: Any,
            entrypoint: Any,
            argument: Any,
            timeout: float,
        ) -> Any:
            kind = self._before(argument, channel)
            start = time.monotonic()
            try:
                answer = real(context, channel, entrypoint, argument, timeout)
            finally:
                self.seconds.append((kind, time.monotonic() - start))
            if argument.get("recover"):
                self.recovered.append(answer)
            return answer

        monkeypatch.setattr(daemon, "_remote_call", remote_call)

    def hold_plans(self, count: int = 1) -> None:
        """Stop the daemon just before each of the next ``count`` plans."""
        self._plans_to_hold = count

    def hold_recoveries(self, count: int = 1) -> None:
        """Stop the daemon just before the next ``count`` recoveries."""
        self._recoveries_to_hold = count

    def held(self, pid: int) -> bool:
        """Whether daemon ``pid`` is stopped with a request unread.

        The moment to kill it (see :func:`strike`).
        """
        with self._lock:
            channel = self._held.get(pid)
        return channel is not None and unread(channel) > 0

    def forget(self) -> None:
        """Start the record anew (after a test's setup)."""
        self.requests.clear()
        self.recovered.clear()
        self.seconds.clear()

    def retry_seconds(self) -> float:
        """How long the last plan took (the retry's own work)."""
        return [s for kind, s in self.seconds if kind == "plan"][-1]

    def journaled(self) -> int:
        """Undo lines in the journal of the latest plan sent (0: none)."""
        plans = [i for kind, i in self.requests if kind == "plan"]
        if not plans:
            return 0
        try:
            with open(journal.path(plans[-1])) as handle:
                return handle.read().count("\n")
        except OSError:  # not made yet
            return 0

    def took_back(self) -> list[bool]:
        """For each recovery that answered: whether it undid anything."""
        return [bool(answer[0]["changed"][0]) for answer in self.recovered]

    def kinds(self) -> list[str]:
        """The kinds of the requests so far."""
        return [kind for kind, _ in self.requests]

    def ids(self) -> list[str]:
        """The plan ids sent so far."""
        return sorted({i for _kind, i in self.requests})

    def _before(self, argument: Any, channel: Any) -> str:
        kind = "recover" if argument.get("recover") else "plan"
        with self._lock:
            self.requests.append((kind, argument["id"]))
            hold = False
            if kind == "plan" and self._plans_to_hold:
                self._plans_to_hold -= 1
                hold = True
            elif kind == "recover" and self._recoveries_to_hold:
                self._recoveries_to_hold -= 1
                hold = True
            pid = daemon._PIDS.get(channel)
            if hold and pid is not None:
                os.kill(pid, signal.SIGSTOP)
                self._held[pid] = channel
        return kind


@dataclasses.dataclass
class Outcome:
    """How a struck call ended."""

    #: What the call returned, or None when it raised.
    value: Any
    #: What it raised, or None.
    error: BaseException | None
    #: Seconds from the last kill to the call's return.
    after_kill: float
    #: The pids killed, in order.
    killed: list[int]


def _kill(
    context: Any,
    moment: Callable[[int], bool],
    killed: list[int],
) -> int:
    deadline = time.monotonic() + 30
    while True:
        pid = daemon.daemon_pid(context)
        # A daemon killed already may still be the context's for a moment.
        if pid is not None and pid not in killed and moment(pid):
            os.kill(pid, signal.SIGKILL)
            return pid
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.0005)


def strike(
    context: Any,
    call: Callable[[], Any],
    moments: list[Callable[[int], bool]],
) -> Outcome:
    """Run ``call`` in a thread; SIGKILL ``context``'s daemon at each moment.

    Each moment is a test of the current daemon's pid; the daemon is
    killed as soon as it holds (each moment waits for a daemon not killed
    yet).
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except Exception as err:  # noqa: BLE001 - returned to the test
            result["error"] = err
        result["end"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    killed: list[int] = []
    last = 0.0
    try:
        for moment in moments:
            pid = _kill(context, moment, killed)
            last = time.monotonic()
            killed.append(pid)
    finally:
        worker.join(timeout=120)
    assert not worker.is_alive(), "the call did not return"
    assert killed, "nothing was killed"
    return Outcome(
        value=result.get("value"),
        error=result.get("error"),
        after_kill=result["end"] - last,
        killed=killed,
    )
