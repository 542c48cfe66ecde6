"""``os-vif-cni-python``: the plugin run in-process, without the daemon.

The same commands as the daemon answers, for a host where no daemon may
run (or to compare): the runtime executes this script as the plugin.  It
costs a Python start and os_vif's imports on every call, which is why the
C client and the daemon are the normal way (see the operators' CNI page).
Records live in ``$OS_VIF_CNI_STATE_DIR`` (default
``/var/lib/os-vif/cni``), shared with a daemon using the same directory.
"""

from __future__ import annotations

import os
import sys

from os_vif.cni import commands, store

__all__ = ["main"]


def main() -> int:
    """Answer the call in this process's environment and stdin."""
    plugin = commands.Plugin(store.Store(
        os.environ.get("OS_VIF_CNI_STATE_DIR") or store.DEFAULT_STATE_DIR))
    code, out = plugin.run(os.environ, sys.stdin.buffer.read())
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
