"""Turning SIGINT, SIGTERM and SIGHUP into a clean, complete unwind.

While :func:`guard` is active, the first of these signals raises
:class:`Interrupted` in the main thread, so every ``finally`` and context
manager between there and the guard runs: the demo's namespace is deleted,
its private Open vSwitch stopped, its temporary directory removed.

A signal must not cut a set-up or clean-up step in half (an
``ovsdb-server`` forked but its pid file not yet written, a namespace
created but not yet recorded for deletion): such steps run under
:func:`shielded`, which holds a signal back until the step is over and
then raises.  Once :class:`Interrupted` is raised, further signals are
ignored, so that nothing interrupts the clean-up itself.

Outside :func:`guard`, :func:`shielded` does nothing: the functional
tests, which use the same sandbox, keep Python's default behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = [
    "Interrupted",
    "SIGNALS",
    "guard",
    "shielded",
    "call_shielded",
    "received",
]

#: The signals :func:`guard` handles.
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A signal asked the program to stop; ``signum`` says which.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that no
    ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name, e.g. ``SIGTERM``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's status for a process the signal ended: 128 + N."""
        return 128 + self.signum


@dataclasses.dataclass
class _State:
    active: bool = False
    depth: int = 0  # nested shielded() blocks running
    pending: int | None = None  # signal held back by a shield
    raised: bool = False  # Interrupted was raised: ignore the rest
    received: int | None = None  # the first signal caught


_STATE = _State()


def _handle(signum: int, frame: FrameType | None) -> None:
    state = _STATE
    if state.received is None:
        state.received = signum
    if state.raised:
        return
    if state.depth:
        if state.pending is None:
            state.pending = signum
        return
    state.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Run the block to its end; a signal meanwhile is raised after it."""
    state = _STATE
    if not state.active or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
        if state.depth == 0 and state.pending is not None:
            if not state.raised:
                # Also replaces an error the block met because of the
                # signal (a child process the same signal killed).
                state.raised = True
                raise Interrupted(state.pending)


def received() -> int | None:
    """The first signal :func:`guard` caught, if any."""
    return _STATE.received


def call_shielded(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` under :func:`shielded` (for clean-ups)."""
    with shielded():
        return func(*args, **kwargs)


@contextlib.contextmanager
def guard(restore: bool = True) -> Iterator[None]:
    """Handle :data:`SIGNALS` in the block as the module says.

    A signal the process was started ignoring (``nohup`` ignores SIGHUP)
    stays ignored.  The previous handlers are put back at the end, unless
    ``restore`` is false: a program about to exit then ignores the signals
    that come after its work is done, rather than dying of one with a
    traceback on the way out.  Inside an active guard, another one changes
    nothing.
    """
    if _STATE.active:
        yield
        return
    previous = {}
    for signum in SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_IGN:
            continue
        previous[signum] = handler
        signal.signal(signum, _handle)
    _STATE.active = True
    _STATE.depth = 0
    _STATE.pending = None
    _STATE.raised = False
    _STATE.received = None
    try:
        yield
    finally:
        # Whatever arrives from here on is ignored rather than lost in the
        # middle of restoring the handlers.
        _STATE.raised = True
        if restore:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _STATE.active = False
