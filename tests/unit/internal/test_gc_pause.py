"""gc_pause.paused: the cyclic collector is off inside, as it was after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from os_vif.internal.unprivileged import gc_pause


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_and_on_again_after() -> None:
    with gc_pause.paused():
        assert not gc.isenabled()
        with gc_pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_on_again_after_an_error() -> None:
    with pytest.raises(RuntimeError), gc_pause.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_process_that_keeps_it_off_keeps_it_off() -> None:
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()


def test_on_again_only_when_the_last_thread_leaves() -> None:
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with gc_pause.paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with gc_pause.paused():
        pass
    # The other thread is still inside: the collector stays off.
    assert not gc.isenabled()
    leave.set()
    thread.join(10)
    assert gc.isenabled()
