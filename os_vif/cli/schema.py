"""``os-vif schema``: print the JSON Schema of an os_vif object.

The schema (JSON Schema draft 2020-12) of class NAME at ``--version``
(default: the newest) in ``--format`` (default: compact).  The same
schemas are published in the documentation.
"""

from __future__ import annotations

import argparse

from os_vif import serialization
from os_vif.cli import _documents

__all__ = ["SUMMARY", "add_arguments", "run"]


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "print the JSON Schema of an object class"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``schema``."""
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


def run(args: argparse.Namespace) -> int:
    """Print the schema."""
    schema = serialization.json_schema(args.name, args.version, args.format)
    _documents.write_document(schema, args.minify, compact=True)
    return 0
