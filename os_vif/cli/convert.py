"""``os-vif convert``: rewrite os_vif objects in the other format.

Reads one object or a JSON array of them in either format and writes them
in the format ``--to`` names.  ``--target-version`` writes each object at
that version of its class (nested objects follow the version rules of
their parent); ``--host-info FILE`` writes each VIF for the host that
produced FILE with ``os-vif host-info``: its type and port profile at the
newest versions the host's plugin reads, or an error saying why the host
cannot take it.
"""

from __future__ import annotations

import argparse
from typing import Any

from os_vif import serialization
from os_vif.cli import _documents

__all__ = ["SUMMARY", "add_arguments", "run"]


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "convert objects between the compact and primitive formats"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``convert``."""
    _documents.add_file_argument(
        parser, "os_vif objects, or a JSON array of them"
    )
    parser.add_argument(
        "--to",
        required=True,
        choices=serialization.FORMATS,
        help="the output format",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--target-version",
        metavar="VERSION",
        help="write each object at this version of its class (e.g. 1.0)",
    )
    target.add_argument(
        "--host-info",
        metavar="FILE",
        help="write each VIF for the host whose 'os-vif host-info' output "
        "FILE holds",
    )
    _documents.add_output_arguments(parser)


def _target(args: argparse.Namespace) -> serialization.Target:
    if args.target_version is not None:
        return str(args.target_version)
    if args.host_info is not None:
        objects, many = _documents.read_objects(args.host_info)
        from os_vif.objects import host_info

        if many or not isinstance(objects[0], host_info.HostInfo):
            from os_vif.cli import CommandError

            raise CommandError(
                "%s does not hold one HostInfo object" % args.host_info
            )
        return objects[0]
    return None


def run(args: argparse.Namespace) -> int:
    """Convert the objects of the file."""
    target = _target(args)
    objects, many = _documents.read_objects(args.file)
    compact = args.to == "compact"
    documents: list[Any] = [
        serialization.to_compact(obj, target)
        if compact
        else serialization.to_primitive(obj, target)
        for obj in objects
    ]
    _documents.write_document(
        documents if many else documents[0], args.minify, compact
    )
    return 0
