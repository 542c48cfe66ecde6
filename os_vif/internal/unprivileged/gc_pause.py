"""Hold off Python's cyclic garbage collector while a batch is planned.

Planning and checking hundreds of VIFs allocates tens of thousands of
small containers (operations, their arguments, decoded links) that live
until the batch ends and form no reference cycles: reference counting
frees them all.  The cyclic collector does not know that; every 700
allocations it walks the young objects, and now and then the whole heap --
in a service holding an OVSDB copy of a host's ports, 30 to 45 ms, more
than the whole check of a few hundred unchanged VIFs.  While
:func:`paused` is entered the collector is off; it is switched back on as
it was (a process that runs with it off keeps it off), and it runs as
usual on the next allocations.  Only for phases that compute without
waiting (never around a privileged call or an OVSDB transaction), so that
the process's other threads are held up for milliseconds at most.

Mercurial's ``util.nogc`` does the same around building large structures.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["paused"]

_LOCK = threading.Lock()


class _State:
    #: How many threads are inside :func:`paused`.
    depth = 0
    #: Whether the collector was on when the first of them entered.
    was_enabled = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Keep the cyclic collector off while inside (threads may nest)."""
    with _LOCK:
        if _State.depth == 0:
            _State.was_enabled = gc.isenabled()
            gc.disable()
        _State.depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _State.depth -= 1
            if _State.depth == 0 and _State.was_enabled:
                gc.enable()
