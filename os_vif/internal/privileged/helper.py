"""Start a privsep daemon: ``python -m os_vif.internal.privileged.helper``.

The same as oslo.privsep's ``privsep-helper`` command, run with the caller's
own interpreter, so that a root caller needs neither ``sudo`` nor the
console script on ``PATH`` (see :mod:`os_vif.internal.privileged.context`).
"""

from __future__ import annotations

import warnings

__all__ = ["main"]


def main() -> None:
    """Run the privsep helper with this process's arguments."""
    # oslo.log imports eventlet when it is installed, and eventlet warns on
    # import; the daemon never uses it, so keep that out of the log.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from oslo_privsep import daemon

    daemon.helper_main()


if __name__ == "__main__":
    main()
