"""os_vif.sandbox.interrupts: signals become one clean unwind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from os_vif.sandbox import interrupts


def deliver(signum: int) -> None:
    os.kill(os.getpid(), signum)
    # The handler runs in the main thread at the next bytecode boundary.
    time.sleep(0.01)


def test_a_signal_raises_interrupted_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(interrupts.Interrupted) as info:
        with interrupts.guard():
            deliver(signal.SIGTERM)
    assert info.value.signum == signal.SIGTERM
    assert (info.value.name, info.value.exit_code) == ("SIGTERM", 143)
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_shielded_step_finishes_before_the_signal_is_raised():
    done = []
    with pytest.raises(interrupts.Interrupted) as info:
        with interrupts.guard():
            with interrupts.shielded():
                deliver(signal.SIGHUP)
                done.append("step")
            done.append("after")  # not reached
    assert done == ["step"]
    assert info.value.exit_code == 129


def test_clean_up_after_the_first_signal_is_not_interrupted():
    cleaned = []
    with pytest.raises(interrupts.Interrupted):
        with interrupts.guard():
            try:
                deliver(signal.SIGINT)
            finally:
                deliver(signal.SIGTERM)  # ignored: the unwind goes on
                cleaned.append(True)
    assert cleaned == [True]


def test_an_error_a_signal_caused_in_a_shield_becomes_the_interruption():
    with pytest.raises(interrupts.Interrupted):
        with interrupts.guard():
            with interrupts.shielded():
                deliver(signal.SIGTERM)
                raise OSError("the child the signal killed")


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with interrupts.guard():
            deliver(signal.SIGHUP)
            assert interrupts.received() is None
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_shielded_outside_a_guard_keeps_python_defaults():
    # The functional tests use the sandbox without a guard: Ctrl-C there
    # is still a KeyboardInterrupt, even in a shielded step.
    with pytest.raises(KeyboardInterrupt):
        with interrupts.shielded():
            deliver(signal.SIGINT)
