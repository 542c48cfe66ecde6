"""``os-vif host-info``: what this host can plug.

Loads the plugins (reading their options from ``--config-file``) and prints
the :class:`~os_vif.objects.host_info.HostInfo` that
:func:`os_vif.host_info` returns: the plugins, the VIF types each plugs and
the port profiles each accepts, with their version ranges.  Give the output
to ``os-vif convert --host-info`` to write VIFs this host reads.
"""

from __future__ import annotations

import argparse

import os_vif
from os_vif import serialization
from os_vif.cli import _documents

__all__ = ["SUMMARY", "add_arguments", "run", "vif_type_names"]


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "print the plugins, VIF types and port profiles of this host"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``host-info``."""
    parser.add_argument(
        "--format",
        choices=serialization.FORMATS,
        default="compact",
        help="output format (default: compact)",
    )
    parser.add_argument(
        "--vif-type",
        action="append",
        default=None,
        metavar="NAME",
        dest="vif_types",
        help="report only this VIF type (class name); may be repeated",
    )
    _documents.add_output_arguments(parser)


def vif_type_names() -> list[str]:
    """The names of every os_vif VIF class, sorted."""
    from os_vif.objects import vif as vif_objects

    found: set[str] = set()
    pending = list(vif_objects.VIFBase.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("os_vif.objects."):
            found.add(cls.obj_name())
    return sorted(found)


def run(args: argparse.Namespace) -> int:
    """Print the host information."""
    if args.vif_types:
        known = vif_type_names()
        unknown = [name for name in args.vif_types if name not in known]
        if unknown:
            from os_vif.cli import CommandError

            raise CommandError(
                "unknown VIF type %s (os_vif has %s)"
                % (", ".join(unknown), ", ".join(known))
            )
    os_vif.initialize()
    info = os_vif.host_info(args.vif_types)
    if args.format == "compact":
        document = serialization.to_compact(info)
    else:
        document = serialization.to_primitive(info)
    _documents.write_document(
        document, args.minify, compact=args.format == "compact"
    )
    return 0
