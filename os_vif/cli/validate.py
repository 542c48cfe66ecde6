"""``os-vif validate``: check that a file holds valid os_vif objects.

Loads the file as :func:`os_vif.serialization.loads` does: strictly (only
os_vif classes, versions this os_vif reads, their fields, each of its
type).  Prints one line per object; on the first invalid value, prints
where it is (``[1].network.subnets.objects[0].cidr``) and what is wrong,
and exits with status 1.
"""

from __future__ import annotations

import argparse
from typing import Any

from os_vif.cli import _documents

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check a file of os_vif objects, strictly",
        description=_documents.description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _documents.add_file_argument(parser, "os_vif objects")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing when the file is valid",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the file."""
    objects, many = _documents.read_objects(args.file)
    if not args.quiet:
        for index, obj in enumerate(objects):
            where = "[%d] " % index if many else ""
            identity = ""
            if obj.obj_attr_is_set("id") if "id" in obj.fields else False:
                identity = " " + str(obj.id)
            print("%svalid: %s %s%s" % (where, obj.obj_name(), obj.VERSION,
                                          identity))
    return 0
