"""Calling a privsep daemon: with a timeout, seeing its death at once.

oslo.privsep waits for an answer forever by default: a daemon that is
stopped (``SIGSTOP``, a debugger, a hung kernel call) would block a plug
for good.  :func:`call` bounds every call by a timeout; when it expires
the daemon -- a process this one started -- is killed, so that the work it
may still do cannot race with what comes next, and :class:`DaemonTimedOut`
is raised.

A daemon that dies mid-call (killed, crashed) closes its socket; the call
sees that at once and raises :class:`DaemonDied` (see :func:`_watch` for
why oslo.privsep alone does not always wake it).  The next call starts a
new daemon, which can take back what the dead one did from the plan's
journal (see :mod:`os_vif.internal.privileged.journal` and the runner,
:mod:`os_vif.internal.unprivileged.runner`, which also retries the call).

Each call is made on one channel (one daemon), checked before the call:
several threads may call at once, and one of them seeing the daemon die
must not stop or kill the new daemon another thread already started.
"""

from __future__ import annotations

import functools
import logging
import os
import select
import signal
import socket
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any, NoReturn

from oslo_privsep import comm, priv_context
from oslo_privsep import daemon as privsep_daemon

from os_vif import exception
from os_vif.internal.privileged import context as privileged_context

__all__ = [
    "DEFAULT_TIMEOUT",
    "DaemonDied",
    "DaemonLost",
    "DaemonTimedOut",
    "call",
    "daemon_pid",
    "kill",
]

LOG = logging.getLogger(__name__)

#: Seconds a privileged call may take, daemon start included.
DEFAULT_TIMEOUT = 60.0


class DaemonLost(exception.HostOperationFailed):
    """The daemon died, or was killed after a timeout, during a call."""


class DaemonDied(DaemonLost):
    """The daemon's socket closed during a call: the process is gone.

    Seen as soon as the socket closes; a call that met this may be made
    again on a new daemon once the dead one's changes are taken back.
    """


class DaemonTimedOut(DaemonLost):
    """The daemon did not answer in time and was killed.

    Not retried: a daemon that hangs once (a stuck kernel call) may hang
    again, and the caller has already waited the whole timeout.
    """


# The peer closed (or we shut the socket down): nothing more will come.
_HANGUP = select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)

# The pid of each channel's daemon, learnt once per daemon.  Weak keys: a
# stopped channel must not be kept alive by this.
_PIDS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
# The channels whose reader thread is watched (see _watch).
_WATCHED: weakref.WeakSet[Any] = weakref.WeakSet()
# Starting, replacing and stopping a context's channel: one thread at a
# time per context (calls themselves run concurrently).
_LIFECYCLE: dict[int, threading.RLock] = {}
_LIFECYCLE_GUARD = threading.Lock()


def _lifecycle(context: priv_context.PrivContext) -> threading.RLock:
    with _LIFECYCLE_GUARD:
        return _LIFECYCLE.setdefault(id(context), threading.RLock())


def daemon_pid(context: priv_context.PrivContext) -> int | None:
    """Return the pid of ``context``'s running daemon, or None.

    The daemon is a grandchild (the helper command daemonizes), so its pid
    is asked from the daemon itself, once per daemon.
    """
    channel = context.channel
    if channel is None:
        return None
    return _PIDS.get(channel)


def _alive(channel: Any) -> bool:
    """Whether ``channel``'s daemon may still answer.

    Its socket is asked too: a call that finds the pipe broken may do so
    before the reader thread has read the end of file.
    """
    if not channel.running or not channel.reader_thread.is_alive():
        return False
    try:
        poller = select.poll()
        poller.register(channel.writer.writesock, _HANGUP)
        return not poller.poll(0)
    except (OSError, ValueError):  # closed already
        return False


def _watch(channel: Any) -> None:
    """Wake every call waiting on ``channel`` when its reader thread ends.

    oslo.privsep's reader thread fails the waiting calls only when it
    reads a clean end of file.  A daemon killed while a request of ours
    was still unread in its socket resets the connection instead: the
    reader thread dies of ConnectionResetError, the waiting calls are
    never told and each waits its whole timeout (a minute by default)
    for an answer that cannot come.

    The narrowest remedy that covers every way the reader can end (end of
    file, a reset, a message it cannot decode) is to watch the thread from
    outside: a thread per channel that waits for the reader to end, then
    fails what is still waiting, marks the channel stopped (so the next
    call starts a new daemon) and shuts the socket down (so that a call
    made a moment later fails at once instead of waiting).  Replacing the
    reader would mean a channel class of our own and a copy of
    ``PrivContext.start``; patching oslo.privsep's classes would change
    every privsep user in the process.  This needs neither, only the
    channel's documented-in-code state (its lock, pending calls and
    ``running`` flag).
    """
    if channel in _WATCHED:
        return
    _WATCHED.add(channel)

    def watch() -> None:
        channel.reader_thread.join()
        lost = OSError("the privsep daemon's socket closed")
        with channel.lock:
            for future in list(channel.outstanding_msgs.values()):
                if future.data is None and future.error is None:
                    future.set_exception(lost)
            channel.running = False
            try:
                channel.writer.writesock.shutdown(socket.SHUT_RDWR)
            except OSError:  # not connected any more
                pass

    threading.Thread(
        target=watch, name="os_vif-privsep-watch", daemon=True
    ).start()


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


def _forget(context: priv_context.PrivContext, channel: Any) -> None:
    """Stop using ``channel`` (its daemon is gone or being killed)."""
    with _lifecycle(context):
        if context.channel is channel:
            try:
                context.stop()
            except Exception as err:  # a channel already broken
                LOG.debug("Stopping the privsep channel: %s", err)
                context.channel = None
        # oslo.privsep only shuts the socket down; this daemon is gone.
        try:
            channel.writer.writesock.close()
        except OSError:
            pass


def kill(
    context: priv_context.PrivContext, channel: Any | None = None
) -> None:
    """Kill the daemon of ``channel`` (default: ``context``'s) and forget it.

    Only a daemon this process started and that did not die by itself: a
    dead daemon's pid may already be another process's.
    """
    with _lifecycle(context):
        if channel is None:
            channel = context.channel
        if channel is None:
            return
        pid = _PIDS.get(channel)
        _hang_up(channel)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _forget(context, channel)


def _connect(
    context: priv_context.PrivContext,
    entrypoint: Callable[..., Any],
    timeout: float,
) -> Any:
    """Return ``context``'s channel, a daemon started if need be.

    A channel whose daemon is gone is replaced first.  A new daemon is
    asked its pid (it answers at once: no plan runs), and its channel is
    watched.
    """
    with _lifecycle(context):
        channel = context.channel
        if channel is not None and not _alive(channel):
            _forget(context, channel)
            channel = None
        if channel is not None and channel in _PIDS:
            return channel
        try:
            answer = entrypoint(
                {"id": uuid.uuid4().hex, "hello": True},
                _wrap_timeout=timeout or None,
            )
        except privsep_daemon.FailedToDropPrivileges as err:
            raise exception.HostOperationFailed(
                operation="start privsep daemon",
                device=context.pypath,
                err=err,
            ) from None
        channel = context.channel
        _PIDS[channel] = int(answer[0]["pid"])
        _watch(channel)
        # Died between its answer and the watch: seen by the caller's
        # check below, or by the watch (the reader has ended).
        return channel


def _remote_call(
    context: priv_context.PrivContext,
    channel: Any,
    entrypoint: Callable[..., Any],
    argument: Any,
    timeout: float,
) -> Any:
    """Call ``entrypoint(argument)`` on ``channel``, not on any other.

    Calling the entrypoint itself would let oslo.privsep start a new
    daemon behind this module's back when the channel just died (another
    thread may be doing the same).  An entrypoint is a partial of the
    context's wrapper around the function; the daemon knows the function
    by its dotted name.
    """
    target = (
        entrypoint.args[0]
        if isinstance(entrypoint, functools.partial) and entrypoint.args
        else None
    )
    if target is None or not callable(target):
        return entrypoint(argument, _wrap_timeout=timeout or None)
    name = "%s.%s" % (target.__module__, target.__name__)
    return channel.remote_call(
        name, (argument,), {}, timeout or context.timeout
    )


# The plans sent on each channel and not answered yet: plan id -> what.
_IN_FLIGHT: weakref.WeakKeyDictionary[Any, dict[str, str]] = (
    weakref.WeakKeyDictionary()
)
# How the loss of each lost channel ended: None (what its plans did was
# taken back) or the error saying why not.
_LOST: weakref.WeakKeyDictionary[Any, DaemonLost | None] = (
    weakref.WeakKeyDictionary()
)
_IN_FLIGHT_LOCK = threading.Lock()


def _plan_id(argument: Any) -> str | None:
    """The id of a plan that changes the host (one with a journal)."""
    if isinstance(argument, dict) and "groups" in argument:
        identifier = argument.get("id")
        return identifier if isinstance(identifier, str) else None
    return None


def _recover(
    context: priv_context.PrivContext,
    entrypoint: Callable[..., Any],
    plans: dict[str, str],
    timeout: float,
) -> DaemonLost | None:
    """Have a new daemon take back what ``plans`` did; None when done.

    Called with the context's lifecycle lock held: no other call gets the
    new daemon before every plan of the lost one is taken back (a plan
    retried on it first could otherwise be undone in part -- a bridge two
    VIFs share).  A new daemon that dies while it recovers is replaced
    once (the undo operations are idempotent: what was taken back is
    found so).
    """
    pending = dict(plans)
    error: Exception | None = None
    for _attempt in range(2):
        if not pending:
            return None
        channel = None
        try:
            channel = _connect(context, entrypoint, timeout)
            for identifier, what in list(pending.items()):
                answer = _remote_call(
                    context,
                    channel,
                    entrypoint,
                    {"id": identifier, "recover": True},
                    timeout,
                )
                del pending[identifier]
                LOG.info(
                    "A new privsep daemon (pid %s) %s privileged plan %s (%s)",
                    _PIDS.get(channel),
                    "took back the changes of"
                    if answer[0]["changed"][0]
                    else "found nothing to take back of",
                    identifier,
                    what,
                )
        except (OSError, EOFError) as err:  # this daemon died too
            error = err
            if channel is not None:
                _forget(context, channel)
            continue
        except comm.PrivsepTimeout:
            error = OSError("no answer within %ss" % timeout)
            if channel is not None:
                kill(context, channel)
            break
        except Exception as err:  # noqa: BLE001 - reported below
            error = err
            break
    if not pending:
        return None
    for identifier, what in pending.items():
        LOG.error(
            "Could not take back the changes of privileged plan %s (%s): %s",
            identifier,
            what,
            error,
        )
    return DaemonLost(
        operation="privileged call",
        device=", ".join(pending.values()),
        err="its changes could not be taken back (%s): the journal of "
        "plan %s is kept" % (error, ", ".join(pending)),
    )


def _lost(
    context: priv_context.PrivContext,
    channel: Any,
    entrypoint: Callable[..., Any],
    timeout: float,
    kill_it: bool,
) -> DaemonLost | None:
    """Handle the loss of ``channel``'s daemon, once for all its callers.

    The first caller to get here kills the daemon (``kill_it``: it hangs)
    or forgets it (it died), then has a new daemon take back every plan
    that was in flight on it; the others find that done.
    """
    with _lifecycle(context):
        if channel in _LOST:
            return _LOST[channel]
        if kill_it:
            kill(context, channel)
        else:
            _forget(context, channel)
        with _IN_FLIGHT_LOCK:
            plans = _IN_FLIGHT.pop(channel, {})
        outcome = _recover(context, entrypoint, plans, timeout)
        _LOST[channel] = outcome
        return outcome


def call(
    context: priv_context.PrivContext,
    entrypoint: Callable[..., Any],
    argument: Any,
    *,
    timeout: float,
    what: str,
) -> Any:
    """Call ``entrypoint(argument)`` in ``context``'s daemon.

    A daemon lost during the call (dead, or killed after the timeout) is
    replaced, and the new daemon takes back what the plans in flight on
    the lost one did (their journals) before this raises.

    :raises DaemonDied: the daemon died during the call (seen at once);
        what the call did was taken back: it may be made again.
    :raises DaemonTimedOut: the daemon did not answer within ``timeout``
        seconds and was killed; what the call did was taken back.
    :raises DaemonLost: the daemon was lost and what the call did could
        not be taken back.
    :raises os_vif.exception.ExceptionBase: what the daemon raised.
    """
    channel = None
    identifier = _plan_id(argument)
    try:
        channel = _connect(context, entrypoint, timeout)
        if identifier is not None:
            with _IN_FLIGHT_LOCK:
                _IN_FLIGHT.setdefault(channel, {})[identifier] = what
        answer = _remote_call(context, channel, entrypoint, argument, timeout)
    except privileged_context.RemoteError as err:
        _answered(channel, identifier)
        raise privileged_context.rebuild(err) from None
    except comm.PrivsepTimeout:
        # A daemon that hangs at its first answer: the context's new one.
        channel = channel if channel is not None else context.channel
        LOG.warning(
            "The privsep daemon did not answer within %ss; killing it", timeout
        )
        lost: DaemonLost = DaemonTimedOut(
            operation="privileged call",
            device=what,
            err="no answer from the privsep daemon within %ss; it was "
            "killed" % timeout,
        )
        _raise_lost(context, channel, entrypoint, timeout, True, lost)
    except (OSError, EOFError) as err:
        channel = channel if channel is not None else context.channel
        if channel is not None and _alive(channel):
            # Raised by the daemon's code, not by its death.
            _answered(channel, identifier)
            raise exception.HostOperationFailed(
                operation="privileged call", device=what, err=err
            ) from err
        # Premature EOF, a reset, a broken pipe: the daemon is gone.
        pid = _PIDS.get(channel) if channel is not None else None
        LOG.warning(
            "The privsep daemon%s died during a call for %s: %s",
            "" if pid is None else " (pid %d)" % pid,
            what,
            err,
        )
        lost = DaemonDied(operation="privileged call", device=what, err=err)
        _raise_lost(context, channel, entrypoint, timeout, False, lost)
    _answered(channel, identifier)
    return answer


def _answered(channel: Any, identifier: str | None) -> None:
    if channel is not None and identifier is not None:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.get(channel, {}).pop(identifier, None)


def _raise_lost(
    context: priv_context.PrivContext,
    channel: Any,
    entrypoint: Callable[..., Any],
    timeout: float,
    kill_it: bool,
    lost: DaemonLost,
) -> NoReturn:
    outcome = (
        _lost(context, channel, entrypoint, timeout, kill_it)
        if channel is not None
        else None
    )
    if outcome is not None:
        raise DaemonLost(
            operation="privileged call",
            device=lost.kwargs["device"],
            err="%s; %s" % (lost.kwargs["err"], outcome.kwargs["err"]),
        ) from None
    raise lost from None
