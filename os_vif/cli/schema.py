"""``os-vif schema``: print the JSON Schema of an os_vif object.

The schema (JSON Schema draft 2020-12) of class NAME at ``--version``
(default: the newest) in ``--format`` (default: compact).  The same
schemas are published in the documentation.
"""

from __future__ import annotations

import argparse
from typing import Any

from os_vif import serialization
from os_vif.cli import _documents

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``schema`` subcommand."""
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of an object class",
        description=_documents.description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "name", metavar="NAME", help="object class, e.g. VIFOpenVSwitch"
    )
    parser.add_argument(
        "--version", metavar="VERSION", help="class version (default: newest)"
    )
    parser.add_argument(
        "--format",
        choices=serialization.FORMATS,
        default="compact",
        help="the format the schema describes (default: compact)",
    )
    _documents.add_output_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the schema."""
    schema = serialization.json_schema(args.name, args.version, args.format)
    _documents.write_document(schema, args.minify, compact=True)
    return 0
