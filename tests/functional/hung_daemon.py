"""A privsep daemon that hangs: stopped (``SIGSTOP``) while a test calls it.

For the tests of the ``privsep_timeout`` option: the daemon is stopped
before the call, so the call cannot be answered and must end by the
timeout, with the daemon killed by os_vif.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from os_vif.internal.unprivileged import daemon

__all__ = ["stopped", "timed_failure"]


def _alive(pid: int) -> bool:
    try:
        with open("/proc/%d/status" % pid) as handle:
            return "zombie" not in handle.read()
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def stopped(context: Any) -> Iterator[int]:
    """Stop ``context``'s running daemon for the block; yield its pid.

    After the block the daemon must be gone (os_vif kills a daemon that
    does not answer in time); if it is not, the test fails, and the
    daemon -- this process's own -- is killed here so that no stopped
    process outlives the test.
    """
    pid = daemon.daemon_pid(context)
    assert pid is not None and pid != os.getpid(), "no daemon running"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("the stopped daemon %d was not killed" % pid)


def timed_failure(call: Callable[[], Any]) -> tuple[BaseException, float]:
    """Run ``call``, which must raise; return what and after how long."""
    start = time.monotonic()
    try:
        call()
    except Exception as err:  # noqa: BLE001 - returned to the test
        return err, time.monotonic() - start
    raise AssertionError("the call returned: it did not hang")
