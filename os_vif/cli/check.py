"""``os-vif check``: is each VIF of a file plugged as it should be?

Loads the VIFs of FILE (``-``: standard input; as ``os-vif plug`` takes
them), loads the plugins (options from ``--config-file``) and asks each
VIF's plugin, with :func:`os_vif.check_many`, what on the host differs
from what plugging the VIF would make.  Reads only: nothing changes and
no privilege is needed.

Prints one line per VIF: ``ok``, its problems (each naming the object,
what differs, the value found and the value expected), ``not supported``
when its plugin has no check, or ``error`` when the check failed.  Exits
with status 1 when any VIF is not ok (a VIF that could not be checked is
not ok).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import os_vif
from os_vif import host_state
from os_vif.cli import _plugging

__all__ = [
    "SUMMARY", "add_arguments", "run", "report_line", "report_data"
]


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "check that the VIFs of a file are plugged as they should be"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``check``."""
    _plugging.add_file_argument(parser)
    _plugging.add_instance_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="one line per VIF (text, the default) or a JSON array",
    )


def _label(report: host_state.CheckReport) -> str:
    return "VIF %s (plugin %s)" % (report.vif_id or "(no id)", report.plugin)


def report_line(report: host_state.CheckReport) -> str:
    """One line: ``VIF <id> (plugin <name>): ok`` or what is wrong."""
    if report.ok:
        return "%s: ok" % _label(report)
    if not report.supported:
        return "%s: not supported: plugin %s cannot check VIFs" % (
            _label(report),
            report.plugin,
        )
    if report.error is not None:
        return "%s: error: %s" % (
            _label(report),
            " ".join(_plugging._text(report.error).split()),
        )
    return "%s: %d problem%s: %s" % (
        _label(report),
        len(report.problems),
        "" if len(report.problems) == 1 else "s",
        "; ".join(str(problem) for problem in report.problems),
    )


def _plain(value: Any) -> Any:
    """A value for JSON: what json cannot write is written as its repr."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def report_data(report: host_state.CheckReport) -> dict[str, Any]:
    """The report as JSON-ready data (``--format json``)."""
    return {
        "vif": report.vif_id,
        "plugin": report.plugin,
        "status": report.status,
        "ok": report.ok,
        "supported": report.supported,
        "problems": [
            {
                "object": problem.object,
                "what": problem.what,
                "expected": _plain(problem.expected),
                "found": _plain(problem.found),
            }
            for problem in report.problems
        ],
        "error": None
        if report.error is None
        else _plugging._text(report.error),
    }


def run(args: argparse.Namespace) -> int:
    """Check every VIF of the file."""
    pairs = _plugging.checked_entries(args)
    os_vif.initialize()
    for vif, instance in pairs:
        _plugging.resolved(vif, instance)
    reports = os_vif.check_many(pairs)
    if args.format == "json":
        json.dump([report_data(r) for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for report in reports:
            print(report_line(report))
    return 0 if all(report.ok for report in reports) else 1
