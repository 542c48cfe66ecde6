"""What ``os-vif plug`` and ``os-vif unplug`` share.

The file holds a VIF, a JSON array of VIFs, or entries of the form
``{"vif": VIF, "instance_info": InstanceInfo}`` (objects in either format).
A bare VIF belongs to the instance given by ``--instance-uuid`` (and
``--instance-name``, ``--project-id``).  Every entry is loaded and checked
before the first host operation.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import os_vif
from os_vif import exception, serialization
from os_vif._serialization import decode
from os_vif.cli import _documents
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects

__all__ = ["add_arguments", "run"]

_ENTRY_KEYS = frozenset({"vif", "instance_info"})


def add_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the arguments of ``plug``/``unplug``."""
    parser.add_argument(
        "file",
        metavar="FILE",
        help="JSON file holding a VIF, an array of VIFs, or entries "
        '{"vif": VIF, "instance_info": InstanceInfo}, in the compact or '
        "the primitive format; '-' reads standard input",
    )
    parser.add_argument(
        "--instance-uuid",
        metavar="UUID",
        help="UUID of the instance (VM or pod) the VIFs belong to; needed "
        "for VIFs given without their instance_info",
    )
    parser.add_argument(
        "--instance-name",
        metavar="NAME",
        default="os-vif-cli",
        help="name of that instance (default: os-vif-cli)",
    )
    parser.add_argument(
        "--project-id",
        metavar="ID",
        default="",
        help="project of that instance (default: empty)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not show progress on standard error",
    )
    parser.epilog = (
        "Every VIF is checked before the first is %sged; the command\n"
        "stops at the first failure (a failed plug undoes its own steps)."
        % verb
    )


def _entry(
    item: Any, index: str, default: Any
) -> tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]:
    def load(value: Any, where: str) -> Any:
        try:
            return serialization.from_data(value)
        except exception.DeserializationError as err:
            inner = "" if err.path == "<document>" else "." + err.path
            raise exception.DeserializationError(
                path=where + inner, reason=err.reason
            ) from None

    instance = default
    if type(item) is dict and "vif" in item and set(item) <= _ENTRY_KEYS:
        vif = load(item["vif"], index + "vif")
        if "instance_info" in item:
            instance = load(item["instance_info"], index + "instance_info")
            if not isinstance(instance, instance_info_objects.InstanceInfo):
                raise exception.DeserializationError(
                    path=index + "instance_info",
                    reason="expected an InstanceInfo, not %s"
                    % instance.obj_name(),
                )
    else:
        vif = load(item, index.rstrip("."))
    if not isinstance(vif, vif_objects.VIFBase):
        raise exception.DeserializationError(
            path=index.rstrip(".") or "",
            reason="expected a VIF, not %s" % vif.obj_name(),
        )
    if instance is None:
        from os_vif.cli import CommandError

        raise CommandError(
            "VIF %s has no instance_info: give --instance-uuid"
            % (vif.id if vif.obj_attr_is_set("id") else index.rstrip("."))
        )
    return vif, instance


def _entries(args: argparse.Namespace) -> list[tuple[Any, Any]]:
    default = None
    if args.instance_uuid is not None:
        default = instance_info_objects.InstanceInfo(
            uuid=args.instance_uuid,
            name=args.instance_name,
            project_id=args.project_id,
        )
    document = decode.parse_json(_documents.read_text(args.file))
    if type(document) is list:
        if not document:
            raise exception.DeserializationError(
                path="", reason="the array holds no VIF"
            )
        return [
            _entry(item, "[%d]." % index, default)
            for index, item in enumerate(document)
        ]
    return [_entry(document, "", default)]


def run(
    args: argparse.Namespace,
    verb: str,
    action: Callable[[Any, Any], None],
) -> int:
    """Plug or unplug every VIF of the file, showing progress."""
    entries = _entries(args)
    os_vif.initialize()
    total = len(entries)
    started = time.monotonic()
    for number, (vif, instance) in enumerate(entries, 1):
        label = "%s %s (plugin %s)" % (
            vif.obj_name(),
            vif.id,
            vif.plugin if vif.obj_attr_is_set("plugin") else "?",
        )
        if not args.quiet:
            print("[%d/%d] %sging %s ..." % (number, total, verb, label),
                  end="", file=sys.stderr, flush=True)
        try:
            action(vif, instance)
        except BaseException:
            if not args.quiet:
                print(" failed", file=sys.stderr, flush=True)
            raise
        if not args.quiet:
            print(" done", file=sys.stderr, flush=True)
    if not args.quiet:
        print(
            "%sged %d VIF%s in %.1f s"
            % (verb, total, "" if total == 1 else "s",
               time.monotonic() - started),
            file=sys.stderr,
        )
    return 0
