"""Start a privsep daemon: ``python -m os_vif.internal.privileged.helper``.

The same as oslo.privsep's ``privsep-helper`` command, run with the caller's
own interpreter, so that a root caller needs neither ``sudo`` nor the
console script on ``PATH`` (see :mod:`os_vif.internal.privileged.context`).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

__all__ = ["main"]


def main() -> None:
    """Run the privsep helper with this process's arguments."""
    # oslo.log imports eventlet when it is installed, and eventlet warns on
    # import; the daemon never uses it, so keep that out of the log.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    # The daemon lives as long as its client's socket.  Ctrl-C or a hang-up
    # on the terminal reaches the whole process group; the client stops
    # the daemon (or its exit closes the socket), which must not die first
    # in the middle of a plan with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # A fresh interpreter that never uses eventlet: oslo.privsep and
    # oslo.log import it only to see whether it monkey-patched anything,
    # which costs a tenth of a second of every daemon start (the caller
    # waits for it, and a dead daemon's replacement is on a call's path).
    sys.modules.setdefault("eventlet", None)  # type: ignore[arg-type]
    from oslo_privsep import daemon

    daemon.helper_main()
    # Only the parent returns: the daemon it forked serves the socket
    # until its client goes.  The client waits for this process to end,
    # so skip the interpreter's orderly shutdown (module teardown, atexit
    # hooks of the libraries it imported), which is slower than the start.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
