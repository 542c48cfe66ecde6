"""``os-vif validate``: check a file as ``os-vif plug`` does, change nothing.

Loads the file as :func:`os_vif.serialization.loads` does: strictly (only
os_vif classes, versions this os_vif reads, their fields, each of its
type).  The file may also hold the ``{"vif": VIF, "instance_info":
InstanceInfo}`` entries ``os-vif plug`` takes.  Each VIF then gets exactly
the checks ``os-vif plug`` makes before plugging anything: a plugin of
that name is loaded (options from ``--config-file``), and the plugin
builds the plan of the plug and validates every argument as its
privileged daemon would.  A bare VIF is checked for the instance
``--instance-uuid`` names, or for a placeholder instance when none is
given (``os-vif plug`` needs one).

Prints one line per object; on the first invalid value, prints where it
is (``[1].network.subnets.objects[0].cidr``) or which VIF and what is
wrong, and exits with status 1.
"""

from __future__ import annotations

import argparse

import os_vif
from os_vif.cli import _documents, _plugging
from os_vif.objects import instance_info as instance_info_objects

__all__ = [
    "SUMMARY", "add_arguments", "run", "PLACEHOLDER_INSTANCE_UUID"
]

#: The instance a bare VIF is checked for without ``--instance-uuid``.
PLACEHOLDER_INSTANCE_UUID = "00000000-0000-4000-8000-000000000000"


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "check a file of os_vif objects as plug would, strictly"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``validate``."""
    _documents.add_file_argument(
        parser, "os_vif objects (or plug entries), or a JSON array of them"
    )
    _plugging.add_instance_arguments(parser)
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing when the file is valid",
    )


def run(args: argparse.Namespace) -> int:
    """Validate the file."""
    default = _plugging.default_instance(args)
    if default is None:
        default = instance_info_objects.InstanceInfo(
            uuid=PLACEHOLDER_INSTANCE_UUID,
            name=args.instance_name,
            project_id=args.project_id,
        )
    entries, many = _plugging.load_entries(args.file, vifs_only=False)
    if any(entry.vif is not None for entry in entries):
        os_vif.initialize()
    for entry in entries:
        if entry.vif is not None:
            _plugging.check(entry.vif, entry.instance or default)
    if args.quiet:
        return 0
    for entry in entries:
        obj = entry.obj
        identity = ""
        if "id" in obj.fields and obj.obj_attr_is_set("id"):
            identity = " " + str(obj.id)
        if entry.vif is not None and obj.obj_attr_is_set("plugin"):
            identity += " (plugin %s)" % obj.plugin
        print(
            "%svalid: %s %s%s"
            % (entry.where + " " if many else "", obj.obj_name(),
               obj.VERSION, identity)
        )
    return 0
