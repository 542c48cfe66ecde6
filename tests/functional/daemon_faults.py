"""Kill a privsep daemon in the middle of a call, at a known point.

Two ways to be sure a call is in flight when its daemon is killed, with
no test code in the daemon:

* **a trap** (:class:`Calls`, ``trap_plans``): the caller's side of
  the call (``daemon._remote_call``) puts a FIFO where the daemon will
  open the plan's journal (:func:`os_vif.internal.privileged.journal.path`,
  named after the plan's id, which the caller chooses).  Opening a FIFO to
  write blocks until someone opens it to read: the daemon is then stuck at
  the start of the plan, its request read, nothing done.  :func:`blocked`
  sees that in ``/proc`` (the thread waits in the kernel's
  ``wait_for_partner``); the FIFO is removed before the kill, so that the
  new daemon finds no journal to take back.  ``trap_recovery`` does the
  same to the *recovery* of a plan: its journal is put aside and a FIFO
  put in its place until the test kills that daemon too, then put back.
* **a big plan**: the test waits for the plan's first device to appear
  in the kernel and kills then, with the rest still to do (the daemon's
  changes are then really taken back from the journal).

:func:`strike` runs the call in a thread and kills when told; it returns
what the call gave and how long after the (last) kill it returned.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from os_vif.internal.privileged import journal
from os_vif.internal.unprivileged import daemon

__all__ = ["Calls", "Outcome", "blocked", "journals", "strike"]

#: What a thread blocked opening a FIFO (no other end yet) waits in.
FIFO_WAIT = "wait_for_partner"


def blocked(pid: int | None) -> bool:
    """Whether a thread of ``pid`` waits to open a FIFO."""
    if pid is None:
        return False
    for wchan in glob.glob("/proc/%d/task/*/wchan" % pid):
        try:
            with open(wchan) as handle:
                if handle.read().strip() == FIFO_WAIT:
                    return True
        except OSError:
            continue
    return False


def journals(identifiers: list[str]) -> list[str]:
    """The journal files of ``identifiers`` still on disk."""
    return [
        journal.path(i)
        for i in identifiers
        if os.path.lexists(journal.path(i))
    ]


class Calls:
    """Records (and may trap) the requests sent to the daemons.

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
        self._plans_to_trap = 0
        self._recoveries_to_trap = 0
        #: FIFOs standing in for journals: path -> journal put aside.
        self._traps: dict[str, str | None] = {}
        self._lock = threading.Lock()
        real = daemon._remote_call

        def remote_call(
            context: Any,
            channel: Any,
            entrypoint: Any,
            argument: Any,
            timeout: float,
        ) -> Any:
            kind = self._before(argument)
            start = time.monotonic()
            try:
                answer = real(context, channel, entrypoint, argument, timeout)
            finally:
                self.seconds.append((kind, time.monotonic() - start))
            if argument.get("recover"):
                self.recovered.append(answer)
            return answer

        monkeypatch.setattr(daemon, "_remote_call", remote_call)

    def trap_plans(self, count: int = 1) -> None:
        """Block the daemon at the start of the next ``count`` plans."""
        self._plans_to_trap = count

    def trap_recovery(self, count: int = 1) -> None:
        """Block the daemon at the start of the next ``count`` recoveries."""
        self._recoveries_to_trap = count

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
        except OSError:  # not made yet, or a trap
            return 0

    def took_back(self) -> list[bool]:
        """For each recovery that answered: whether it undid anything."""
        return [bool(answer[0]["changed"][0]) for answer in self.recovered]

    def kinds(self) -> list[str]:
        """The kinds of the requests so far, hellos left out."""
        return [kind for kind, _ in self.requests if kind != "hello"]

    def ids(self) -> list[str]:
        """The plan ids sent so far."""
        return sorted({i for kind, i in self.requests if kind != "hello"})

    def _before(self, argument: Any) -> str:
        kind = (
            "recover"
            if argument.get("recover")
            else "hello"
            if argument.get("hello")
            else "plan"
        )
        identifier = argument["id"]
        with self._lock:
            self.requests.append((kind, identifier))
            path = journal.path(identifier)
            if kind == "plan" and self._plans_to_trap:
                self._plans_to_trap -= 1
                journal.private_directory()
                os.mkfifo(path, 0o600)
                self._traps[path] = None
            elif kind == "recover" and self._recoveries_to_trap:
                self._recoveries_to_trap -= 1
                aside = path + ".aside"
                os.rename(path, aside)
                os.mkfifo(path, 0o600)
                self._traps[path] = aside
        return kind

    def spring(self) -> None:
        """Remove the FIFOs (a daemon blocked on one stays blocked).

        A journal put aside is put back, for the next daemon to read.
        """
        with self._lock:
            for path, aside in self._traps.items():
                journal.remove(path)
                if aside is not None:
                    os.rename(aside, path)
            self._traps.clear()


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
    before_kill: Callable[[], None] | None,
) -> int:
    deadline = time.monotonic() + 30
    while True:
        pid = daemon.daemon_pid(context)
        # A daemon killed already may still be the context's for a moment.
        if pid is not None and pid not in killed and moment(pid):
            if before_kill is not None:
                before_kill()
            os.kill(pid, signal.SIGKILL)
            return pid
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.0005)


def strike(
    context: Any,
    call: Callable[[], Any],
    moments: list[Callable[[int], bool]],
    before_kill: Callable[[], None] | None = None,
) -> Outcome:
    """Run ``call`` in a thread; SIGKILL ``context``'s daemon at each moment.

    Each moment is a test of the current daemon's pid; the daemon is
    killed as soon as it holds (each moment waits for a daemon not killed
    yet).  ``before_kill`` runs just
    before each kill (to spring the traps).
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
            pid = _kill(context, moment, killed, before_kill)
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
