"""``os-vif plug``: plug VIFs into this host.

Loads the VIFs of FILE (see ``_plugging``), loads the plugins (options from
``--config-file``) and plugs them all with :func:`os_vif.plug_many`,
showing progress on standard error (a bar on a terminal), then a summary
and one line per VIF that failed.
"""

from __future__ import annotations

from typing import Any

import os_vif
from os_vif.cli import _plugging

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``plug`` subcommand."""
    _plugging.register_verb(
        subparsers,
        "plug",
        "plug the VIFs of a file into this host",
        __doc__ or "",
        os_vif.plug_many,
    )
