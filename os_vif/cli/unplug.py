"""``os-vif unplug``: unplug VIFs from this host.

Loads the VIFs of FILE (see ``_plugging``), loads the plugins (options from
``--config-file``) and unplugs them all with :func:`os_vif.unplug_many`,
showing progress on standard error (a bar on a terminal), then a summary
and one line per VIF that failed.
"""

from __future__ import annotations

import argparse
from typing import Any

import os_vif
from os_vif.cli import _documents, _plugging

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``unplug`` subcommand."""
    parser = subparsers.add_parser(
        "unplug",
        help="unplug the VIFs of a file from this host",
        description=_documents.description(__doc__).replace(
            "(see _plugging)", "(see below)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _plugging.add_arguments(parser, "unplug")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Unplug every VIF of the file."""
    return _plugging.run(args, "unplug", os_vif.unplug_many)
