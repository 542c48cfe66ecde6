"""Calling a privsep daemon: with a timeout, surviving its death.

oslo.privsep waits for an answer forever by default: a daemon that is
stopped (``SIGSTOP``, a debugger, a hung kernel call) would block a plug
for good.  :func:`call` bounds every call by a timeout; when it expires
the daemon -- a process this one started -- is killed, so that the work it
may still do cannot race with what comes next.  A daemon that died (or was
killed) mid-call is replaced by the next call (oslo.privsep starts a new
one), and :func:`call` raises :class:`DaemonLost` so that the caller can
have the new daemon take back what the old one did (the plan's journal,
see :mod:`os_vif.internal.privileged.journal`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import weakref
from collections.abc import Callable
from typing import Any

from oslo_privsep import comm, priv_context

from os_vif import exception
from os_vif.internal.privileged import context as privileged_context

__all__ = ["DEFAULT_TIMEOUT", "DaemonLost", "call", "daemon_pid", "kill"]

LOG = logging.getLogger(__name__)

#: Seconds a privileged call may take, daemon start included.
DEFAULT_TIMEOUT = 60.0


class DaemonLost(exception.HostOperationFailed):
    """The daemon died, or was killed after a timeout, during a call."""


# The pid of each context's daemon, with (a weak reference to) the channel
# it was learnt on: a stopped channel must not be kept alive by this.
_PIDS: dict[int, tuple[weakref.ref[Any], int]] = {}


def daemon_pid(context: priv_context.PrivContext) -> int | None:
    """Return the pid of ``context``'s running daemon, or None.

    The daemon is a grandchild (the helper command daemonizes), so its pid
    is asked from the daemon itself, once per daemon.
    """
    channel = context.channel
    if channel is None:
        return None
    known = _PIDS.get(id(context))
    if known is not None and known[0]() is channel:
        return known[1]
    return None


def _learn_pid(
    context: priv_context.PrivContext,
    entrypoint: Callable[..., Any],
    timeout: float,
) -> None:
    if context.channel is not None and daemon_pid(context) is not None:
        return
    # Starts the daemon if needed; answers at once (no plan runs).
    answer = entrypoint(
        {"id": "0" * 32, "hello": True}, _wrap_timeout=timeout or None
    )
    _PIDS[id(context)] = (
        weakref.ref(context.channel),
        int(answer[0]["pid"]),
    )


def _hang_up(channel: Any) -> None:
    """End the client side of ``channel`` before its daemon is killed.

    Its reader thread then sees an end of file and exits.  Killed first, a
    daemon that had not read the request yet (stopped before it could)
    resets the connection instead, and the reader thread dies with an
    unhandled ConnectionResetError.
    """
    try:
        channel.writer.writesock.shutdown(socket.SHUT_RDWR)
    except OSError:  # not connected any more: the daemon is gone
        return
    channel.reader_thread.join(timeout=1)


def kill(context: priv_context.PrivContext) -> None:
    """Kill ``context``'s daemon (one this process started) and forget it."""
    pid = daemon_pid(context)
    channel = context.channel
    if channel is not None:
        _hang_up(channel)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        context.stop()
    except Exception as err:  # a channel already broken
        LOG.debug("Stopping the privsep channel: %s", err)
        context.channel = None
    if channel is not None:
        # oslo.privsep only shuts the socket down; this daemon is gone.
        channel.writer.writesock.close()


def call(
    context: priv_context.PrivContext,
    entrypoint: Callable[..., Any],
    argument: Any,
    *,
    timeout: float,
    what: str,
) -> Any:
    """Call ``entrypoint(argument)`` in ``context``'s daemon.

    :raises DaemonLost: the daemon died during the call, or did not answer
        within ``timeout`` seconds and was killed.
    :raises os_vif.exception.ExceptionBase: what the daemon raised.
    """
    try:
        _learn_pid(context, entrypoint, timeout)
        return entrypoint(argument, _wrap_timeout=timeout or None)
    except privileged_context.RemoteError as err:
        raise privileged_context.rebuild(err) from None
    except comm.PrivsepTimeout:
        LOG.warning(
            "The privsep daemon did not answer within %ss; killing it", timeout
        )
        kill(context)
        raise DaemonLost(
            operation="privileged call",
            device=what,
            err="no answer from the privsep daemon within %ss; it was "
            "killed" % timeout,
        ) from None
    except (OSError, EOFError) as err:
        channel = context.channel
        if channel is not None and channel.running:
            # Raised by the daemon's code, not by its death.
            raise exception.HostOperationFailed(
                operation="privileged call", device=what, err=err
            ) from err
        # Premature EOF, a broken pipe: the daemon is gone.
        LOG.warning("The privsep daemon died during a call: %s", err)
        kill(context)
        raise DaemonLost(
            operation="privileged call", device=what, err=err
        ) from None
