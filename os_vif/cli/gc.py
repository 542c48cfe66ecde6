"""``os-vif gc``: remove what os_vif made for VIFs that no longer exist.

``--keep FILE`` holds every VIF that should exist on this host (VIFs or
``{"vif": ..., "instance_info": ...}`` entries, as ``os-vif plug`` takes
them; ``[]`` keeps none).  Every loaded plugin (options from
``--config-file``) is offered its VIFs of the file and removes each
device, port and bridge it owns that belongs to none of them
(:func:`os_vif.gc`); ``--dry-run`` only lists them.

Prints a table of what went (or would go) and why, then one line per
plugin that could not collect; progress (each plugin as it finishes) goes
to standard error.  Exits with status 1 when a removal or a plugin
failed.
"""

from __future__ import annotations

import argparse
import sys
import time

import os_vif
from os_vif import host_state
from os_vif.cli import _plugging

__all__ = ["SUMMARY", "add_arguments", "run", "table"]

_COLUMNS = ("ACTION", "KIND", "WHAT", "OWNER", "PLUGIN", "REASON")


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "remove the devices and ports of VIFs that no longer exist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gc``."""
    parser.add_argument(
        "--keep",
        metavar="FILE",
        required=True,
        help="JSON file of every VIF to keep ('-' reads standard input; "
        "[] keeps none)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be removed; remove nothing",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not show progress on standard error",
    )


def _action(removal: host_state.Removal, dry_run: bool) -> str:
    if removal.failed:
        return "failed"
    return "would remove" if dry_run else "removed"


def table(report: host_state.GCReport) -> list[str]:
    """The lines of the table of removals (a header, then one each)."""
    rows = [_COLUMNS] + [
        (
            _action(removal, report.dry_run),
            removal.kind,
            removal.what,
            removal.owner or "-",
            removal.plugin or "-",
            removal.reason
            + (
                ""
                if removal.error is None
                else " (error: %s)"
                % " ".join(_plugging._text(removal.error).split())
            ),
        )
        for removal in report
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def _plugin_line(collection: host_state.PluginCollection) -> str | None:
    """What to say of a plugin that did not simply collect; else None."""
    if collection.error is not None:
        return "plugin %s: failed: %s" % (
            collection.plugin,
            " ".join(_plugging._text(collection.error).split()),
        )
    if not collection.supported:
        return "plugin %s: not supported: %s" % (
            collection.plugin,
            collection.reason or "this plugin cannot collect",
        )
    return None


def run(args: argparse.Namespace) -> int:
    """Collect, then print the table."""
    entries, _many = _plugging.load_entries(args.keep, allow_empty=True)
    keep = [entry.vif for entry in entries if entry.vif is not None]
    os_vif.initialize()
    started = time.monotonic()
    done = [0]

    def progress(collection: host_state.PluginCollection) -> None:
        done[0] += 1
        if args.quiet:
            return
        said = _plugin_line(collection) or "plugin %s: %d %s" % (
            collection.plugin,
            len(collection.removals),
            "to remove" if args.dry_run else "removed",
        )
        print("[%d] %s" % (done[0], said), file=sys.stderr, flush=True)

    report = os_vif.gc(keep, dry_run=args.dry_run, progress=progress)
    if len(report):
        for line in table(report):
            print(line)
    else:
        print("nothing to remove")
    for collection in report.plugins:
        said = _plugin_line(collection)
        if said is not None:
            print(said)
    if not args.quiet:
        failed = sum(1 for removal in report if removal.failed)
        print(
            "gc%s: %d %s, %d failed in %.1f s"
            % (
                " (dry run)" if args.dry_run else "",
                len(report) - failed,
                "would be removed" if args.dry_run else "removed",
                failed,
                time.monotonic() - started,
            ),
            file=sys.stderr,
        )
    failed_plugins = any(c.error is not None for c in report.plugins)
    failed_removals = any(removal.failed for removal in report)
    return 1 if failed_plugins or failed_removals else 0
