"""``os-vif unplug``: unplug VIFs from this host.

Loads the VIFs of FILE (see ``_plugging``), loads the plugins (options from
``--config-file``) and unplugs them all with :func:`os_vif.unplug_many`,
showing progress on standard error (a bar on a terminal), then a summary
and one line per VIF that failed.
"""

from __future__ import annotations

from typing import Any

import os_vif
from os_vif.cli import _plugging

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``unplug`` subcommand."""
    _plugging.register_verb(
        subparsers,
        "unplug",
        "unplug the VIFs of a file from this host",
        __doc__ or "",
        os_vif.unplug_many,
    )
