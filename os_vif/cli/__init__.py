"""The ``os-vif`` command, for operators.

Each subcommand lives in its own module of this package, whose docstring
is its ``--help`` description, and provides ``SUMMARY`` (its line in
``os-vif --help``), ``add_arguments(parser)`` and ``run(args)``, which
returns the exit code; :func:`build_parser` adds them all the same way.

Errors print one line on stderr and exit non-zero; ``--debug`` adds the
traceback and debug logging.  The global options (``--config-file``,
``--debug``) are accepted before and after the subcommand.  Every os_vif
option of the configuration files is read when the command starts, so a
bad value is reported before anything runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence

from os_vif import exception
from os_vif.sandbox import interrupts

__all__ = ["main", "build_parser", "one_line", "CommandError"]

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = (
    "demo",
    "host_info",
    "plug",
    "unplug",
    "check",
    "gc",
    "convert",
    "validate",
    "schema",
)


#: The subcommands as typed.
_COMMAND_NAMES = frozenset(name.replace("_", "-") for name in SUBCOMMANDS)


class CommandError(Exception):
    """A subcommand failed in a way the operator can fix; one line."""


def _version() -> str:
    # Imported here: the command should catch signals as early as it can,
    # and importlib.metadata is the slowest import of this module.
    from importlib import metadata

    try:
        return metadata.version("os-vif")
    except metadata.PackageNotFoundError:  # running from a bare checkout
        return "unknown (not installed)"


def _global_options(
    parser: argparse.ArgumentParser, after_command: bool
) -> None:
    """Add ``--config-file`` and ``--debug`` to ``parser``.

    After the subcommand they go to names of their own (argparse would
    otherwise overwrite, not extend, what was given before it); ``main``
    merges them.
    """
    prefix = "late_" if after_command else ""
    parser.add_argument(
        "--config-file",
        action="append",
        dest=prefix + "config_file",
        default=[],
        metavar="PATH",
        help="oslo.config file to read (nova.conf, kuryr.conf...); "
        "may be given several times",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        dest=prefix + "debug",
        help="log debug messages and show tracebacks on errors",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``os-vif`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="os-vif",
        description="Inspect, convert, plug and unplug os_vif VIFs.",
    )
    parser.add_argument(
        "--version", action="version", version="os-vif " + _version()
    )
    _global_options(parser, after_command=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, after_command=True)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True
    )
    # Imported here, as the subcommands are: main() guards against signals
    # before the slow imports (os_vif.serialization) run.
    from os_vif.cli import _documents

    for name in SUBCOMMANDS:
        module = importlib.import_module("os_vif.cli." + name)
        command = subparsers.add_parser(
            name.replace("_", "-"),
            help=module.SUMMARY,
            description=_documents.description(module.__doc__),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        module.add_arguments(command)
        command.set_defaults(func=module.run)
    return parser


def _load_config(files: Sequence[str]) -> None:
    """Read every os_vif option of ``files`` now, or raise CommandError.

    See :func:`os_vif.opts.load_config`.
    """
    from os_vif import opts

    try:
        opts.load_config(files)
    except ValueError as err:
        raise CommandError(str(err)) from None


def _below_error(record: logging.LogRecord) -> bool:
    return record.levelno < logging.ERROR


@contextlib.contextmanager
def _quiet_library_errors(quiet: bool) -> Iterator[None]:
    """Leave the reporting of a failed plug or unplug to the command.

    :func:`os_vif.plug` logs "Failed to plug VIF ..." on the ``os_vif``
    logger before raising; the command prints its own one-line error
    naming the VIF.  A filter on that logger only drops records logged
    there directly: the plugins' own warnings (children) still show.  It
    is removed when the command ends (which may run in a client's process).
    """
    library = logging.getLogger("os_vif")
    if quiet:
        library.addFilter(_below_error)
    try:
        yield
    finally:
        library.removeFilter(_below_error)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``os-vif`` command; return its exit code.

    SIGINT, SIGTERM and SIGHUP end it with one line saying so and the
    status 128 + the signal's number, after every clean-up on the way ran
    (see :mod:`os_vif.sandbox.interrupts`).
    """
    # Run as a program (no argv given), the handlers stay to the end.
    with interrupts.guard(restore=argv is not None):
        try:
            return _main(argv)
        except interrupts.Interrupted as stop:
            command = _command_of(sys.argv[1:] if argv is None else argv)
            print(
                "os-vif%s: interrupted by %s"
                % (" " + command if command else "", stop.name),
                file=sys.stderr,
                flush=True,
            )
            return stop.exit_code


def _command_of(words: Sequence[str]) -> str | None:
    for word in words:
        if word.replace("_", "-") in _COMMAND_NAMES:
            return word
    return None


def _main(argv: Sequence[str] | None) -> int:
    from oslo_config import cfg

    words = sys.argv[1:] if argv is None else list(argv)
    if "--debug" not in words:
        # oslo.versionedobjects imports oslo.messaging, which imports
        # eventlet, whose deprecation notice (eight lines, not ours) would
        # otherwise precede every answer and break "errors are one line".
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config_file = args.config_file + args.late_config_file
    args.debug = args.debug or args.late_debug
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with _quiet_library_errors(not args.debug):
            _load_config(args.config_file)
            return int(args.func(args) or 0)
    except (CommandError, exception.ExceptionBase, OSError, cfg.Error) as err:
        if args.debug:
            raise
        print(
            "os-vif %s: error: %s" % (args.command, one_line(err)),
            file=sys.stderr,
        )
        return 1


def one_line(err: BaseException) -> str:
    """``str(err)`` on one line (oslo.config's messages span several)."""
    return " ".join(str(err).split())


if __name__ == "__main__":
    sys.exit(main())
