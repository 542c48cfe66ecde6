"""The ``os-vif`` command, for operators.

Each subcommand lives in its own module of this package and provides
``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit code.

Errors print one line on stderr and exit non-zero; ``--debug`` adds the
traceback and debug logging.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from oslo_config import cfg

from os_vif import exception

__all__ = ["main", "build_parser"]

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = (
    "demo",
    "host_info",
    "plug",
    "unplug",
    "convert",
    "validate",
    "schema",
)


class CommandError(Exception):
    """A subcommand failed in a way the operator can fix; one line."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``os-vif`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="os-vif",
        description="Inspect, convert, plug and unplug os_vif VIFs.",
    )
    parser.add_argument(
        "--config-file",
        action="append",
        default=[],
        metavar="PATH",
        help="oslo.config file to read (nova.conf, kuryr.conf...); "
        "may be given several times",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log debug messages and show tracebacks on errors",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True
    )
    for name in SUBCOMMANDS:
        module = importlib.import_module("os_vif.cli." + name)
        module.register(subparsers)
    return parser


def _load_config(files: Sequence[str]) -> None:
    # The command's own arguments are parsed by argparse; oslo.config only
    # reads the files, so options of plugins registered later still come
    # from them (oslo.config re-reads the parsed files on registration).
    cfg.CONF([], project="os_vif", default_config_files=list(files))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``os-vif`` command; return its exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    if "--debug" not in words:
        # oslo.versionedobjects imports oslo.messaging, which imports
        # eventlet, whose deprecation notice (eight lines, not ours) would
        # otherwise precede every answer and break "errors are one line".
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        _load_config(args.config_file)
        return int(args.func(args) or 0)
    except (CommandError, exception.ExceptionBase, OSError, cfg.Error) as err:
        if args.debug:
            raise
        print("os-vif %s: error: %s" % (args.command, err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
