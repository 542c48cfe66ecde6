"""What ``os-vif plug``, ``unplug`` and ``validate`` share.

The file holds a VIF, a JSON array of VIFs, or entries of the form
``{"vif": VIF, "instance_info": InstanceInfo}`` (objects in either format).
A bare VIF belongs to the instance given by ``--instance-uuid`` (and
``--instance-name``, ``--project-id``).  Every entry is loaded and checked
before the first host operation: the checks :func:`os_vif.plug` makes (a
plugin of that name is loaded) and the plugin's ``validate_plug``, which
builds the plan a plug would run and validates every argument as the
privileged daemon will, changing nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import os_vif
from os_vif import exception, host_state, serialization
from os_vif.cli import _documents
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects

__all__ = [
    "Entry",
    "add_file_argument",
    "add_arguments",
    "add_instance_arguments",
    "load_entries",
    "check",
    "resolved",
    "checked_entries",
    "plugin_of",
    "vif_label",
    "run",
]

_ENTRY_KEYS = frozenset({"vif", "instance_info"})


@dataclasses.dataclass
class Entry:
    """One object of the file; ``vif``/``instance`` set for a VIF."""

    where: str
    obj: Any
    vif: vif_objects.VIFBase | None = None
    instance: instance_info_objects.InstanceInfo | None = None


# The instance of the VIFs given without theirs: option, metavar, default,
# help.
_INSTANCE_OPTIONS = (
    ("--instance-uuid", "UUID", None,
     "UUID of the instance (VM or pod) the VIFs belong to; needed for VIFs "
     "given without their instance_info"),
    ("--instance-name", "NAME", "os-vif-cli",
     "name of that instance (default: os-vif-cli)"),
    ("--project-id", "ID", "", "project of that instance (default: empty)"),
)


def add_instance_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--instance-uuid``, ``--instance-name`` and ``--project-id``."""
    for option, metavar, default, text in _INSTANCE_OPTIONS:
        parser.add_argument(option, metavar=metavar, default=default,
                            help=text)


def add_file_argument(parser: argparse.ArgumentParser) -> None:
    """Add FILE, holding VIFs or plug entries (``plug``, ``check``...)."""
    _documents.add_file_argument(
        parser,
        'a VIF, an array of VIFs, or entries {"vif": VIF, "instance_info": '
        "InstanceInfo}",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``plug`` and ``unplug``."""
    add_file_argument(parser)
    add_instance_arguments(parser)
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not show progress on standard error",
    )
    parser.epilog = _documents.description(_BATCH_OUTPUT)


# What plug and unplug print, whichever of the two runs.
_BATCH_OUTPUT = """
The plugins are loaded with the options of ``--config-file``.  Progress
goes to standard error (a bar on a terminal), then a summary counting the
done, failed and unchanged VIFs, then one line per VIF that failed, naming
it; any failure makes the exit status 1.
"""


def _command_error(message: str) -> Exception:
    from os_vif.cli import CommandError

    return CommandError(message)


def default_instance(
    args: argparse.Namespace,
) -> instance_info_objects.InstanceInfo | None:
    """The instance ``--instance-uuid`` names, or None; checks the UUID."""
    if args.instance_uuid is None:
        return None
    try:
        canonical = str(uuid.UUID(args.instance_uuid))
    except ValueError:
        raise _command_error(
            "--instance-uuid %r is not a UUID" % args.instance_uuid
        ) from None
    return instance_info_objects.InstanceInfo(
        uuid=canonical, name=args.instance_name, project_id=args.project_id
    )


def _load(value: Any, where: str) -> Any:
    try:
        return serialization.from_data(value)
    except exception.DeserializationError as err:
        inner = "" if err.path == "<document>" else err.path
        path = where + (
            "." + inner if where and inner and not inner.startswith("[")
            else inner
        )
        raise exception.DeserializationError(
            path=path or "<document>", reason=err.reason
        ) from None


def _entry(item: Any, where: str, vifs_only: bool) -> Entry:
    if type(item) is dict and "vif" in item and set(item) <= _ENTRY_KEYS:
        prefix = where + "." if where else ""
        vif = _load(item["vif"], prefix + "vif")
        instance = None
        if "instance_info" in item:
            instance = _load(item["instance_info"], prefix + "instance_info")
            if not isinstance(instance, instance_info_objects.InstanceInfo):
                raise exception.DeserializationError(
                    path=prefix + "instance_info",
                    reason="expected an InstanceInfo, not %s"
                    % instance.obj_name(),
                )
        if not isinstance(vif, vif_objects.VIFBase):
            raise exception.DeserializationError(
                path=prefix + "vif",
                reason="expected a VIF, not %s" % vif.obj_name(),
            )
        return Entry(where, vif, vif, instance)
    obj = _load(item, where)
    if isinstance(obj, vif_objects.VIFBase):
        return Entry(where, obj, obj)
    if vifs_only:
        raise exception.DeserializationError(
            path=where or "<document>",
            reason="expected a VIF, not %s" % obj.obj_name(),
        )
    return Entry(where, obj)


def load_entries(
    path: str, vifs_only: bool = True, allow_empty: bool = False
) -> tuple[list[Entry], bool]:
    """Load the entries of ``path``; also tell whether it held an array.

    With ``vifs_only``, every entry must be a VIF (bare or in an entry).
    An empty array is refused unless ``allow_empty``.
    """
    document = serialization.parse_json(_documents.read_text(path))
    if type(document) is not list:
        return [_entry(document, "", vifs_only)], False
    if not document and not allow_empty:
        raise exception.DeserializationError(
            path="", reason="the array holds no object"
        )
    return [
        _entry(item, "[%d]" % index, vifs_only)
        for index, item in enumerate(document)
    ], True


def vif_label(vif: Any) -> str:
    """How messages name a VIF: its id, else its class."""
    if "id" in vif.fields and vif.obj_attr_is_set("id"):
        return "VIF %s" % vif.id
    return "%s (no id)" % vif.obj_name()


def _names_a_plugin(vif: vif_objects.VIFBase) -> None:
    if not vif.obj_attr_is_set("plugin"):
        raise exception.InvalidArgument(
            field="vif.plugin", value=None, reason="the VIF names no plugin"
        )


def plugin_of(vif: vif_objects.VIFBase) -> Any:
    """The loaded plugin :func:`os_vif.plug` would hand ``vif`` to.

    :raises LibraryNotInitialized: :func:`os_vif.initialize` did not run.
    :raises InvalidArgument: the VIF names no plugin.
    :raises NoMatchingPlugin: no loaded plugin has that name.
    """
    _names_a_plugin(vif)
    return os_vif.plugin_for(vif)


def check(vif: vif_objects.VIFBase, instance: Any) -> None:
    """Make the checks a plug of ``vif`` makes, changing nothing.

    :func:`os_vif.validate_plug`: the argument checks and plugin lookup of
    :func:`os_vif.plug` (the same code), then the plugin's
    ``validate_plug``.

    :raises CommandError: naming the VIF, with the reason.
    """
    _named(vif, lambda: os_vif.validate_plug(vif, instance))


def resolved(vif: vif_objects.VIFBase, instance: Any) -> None:
    """The argument checks and plugin lookup alone (no ``validate_plug``).

    :raises CommandError: naming the VIF, with the reason.
    """
    _named(vif, lambda: os_vif.plugin_for(vif, instance))


def _named(vif: vif_objects.VIFBase, checks: Callable[[], object]) -> None:
    """Run ``checks`` on ``vif``; an os_vif refusal becomes a CommandError
    naming the VIF."""
    try:
        _names_a_plugin(vif)
        checks()
    except exception.ExceptionBase as err:
        raise _command_error("%s: %s" % (vif_label(vif), err)) from err


def checked_entries(
    args: argparse.Namespace,
) -> list[tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]]:
    """Every VIF of the file with its instance; raise before any change."""
    default = default_instance(args)
    entries, _many = load_entries(args.file)
    pairs = []
    for entry in entries:
        assert entry.vif is not None  # vifs_only
        instance = entry.instance or default
        if instance is None:
            raise _command_error(
                "%s has no instance_info: give --instance-uuid"
                % vif_label(entry.vif)
            )
        pairs.append((entry.vif, instance))
    return pairs


def _failure(vif: Any, verb: str, err: Exception) -> Exception:
    """One line naming the VIF and what the plugin said."""
    # PlugException/UnplugException carry the plugin's error as ``err``;
    # their own text names the VIF by its repr, too long for one line.
    kwargs = getattr(err, "kwargs", None) or {}
    inner = kwargs.get("err") if isinstance(kwargs, dict) else None
    reason = inner if isinstance(inner, BaseException) else err
    return _command_error(
        "%s: %s failed: %s" % (vif_label(vif), verb, _text(reason))
    )


def _text(err: BaseException) -> str:
    """``str(err)``, or its type and repr when that raises.

    (ovsdbapp 3.0's ``TimeoutException()`` has a ``str()`` that raises.)
    """
    try:
        return str(err)
    except Exception:
        try:
            return "%s %r" % (type(err).__name__, err)
        except Exception:
            return type(err).__name__


class _Progress:
    """Progress of a batch on standard error: a bar on a terminal, else
    one whole line per VIF (a log record printed meanwhile gets its own)."""

    WIDTH = 30

    def __init__(self, verb: str, pairs: list[tuple[Any, Any]], quiet: bool):
        self.verb = verb
        self.pairs = pairs
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.counts = {"done": 0, "failed": 0, "unchanged": 0}

    def __call__(self, index: int, result: Any) -> None:
        """Count ``result`` (an Outcome or an exception) and show it."""
        status = (
            str(result) if isinstance(result, host_state.Outcome) else "failed"
        )
        self.counts[status] += 1
        if self.quiet:
            return
        finished = sum(self.counts.values())
        total = len(self.pairs)
        if self.tty:
            filled = self.WIDTH * finished // total
            sys.stderr.write(
                "\r[%s%s] %d/%d %s, %d failed"
                % ("#" * filled, "." * (self.WIDTH - filled), finished,
                   total, _PAST[self.verb], self.counts["failed"])
            )
            if finished == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
            return
        vif = self.pairs[index][0]
        print(
            "[%d/%d] %s %s %s (plugin %s)"
            % (
                finished,
                total,
                _PAST[self.verb] if status == "done" else status,
                vif.obj_name(),
                vif.id if vif.obj_attr_is_set("id") else "(no id)",
                vif.plugin if vif.obj_attr_is_set("plugin") else "?",
            ),
            file=sys.stderr,
            flush=True,
        )

    def summary(self, seconds: float) -> str:
        """``plug of 3 VIFs in 1.2 s: 2 done, 1 failed, 0 unchanged``."""
        total = len(self.pairs)
        return "%s of %d VIF%s in %.1f s: %d done, %d failed, %d unchanged" % (
            self.verb,
            total,
            "" if total == 1 else "s",
            seconds,
            self.counts["done"],
            self.counts["failed"],
            self.counts["unchanged"],
        )


_PAST = {"plug": "plugged", "unplug": "unplugged"}


def run(args: argparse.Namespace) -> int:
    """Plug or unplug (``args.command``) every VIF of the file in one batch.

    The batch is :func:`os_vif.plug_many` or :func:`os_vif.unplug_many`.
    Every VIF is tried; the failures are listed at the end, one line each
    naming the VIF, and make the exit status 1.
    """
    verb = args.command
    action = os_vif.plug_many if verb == "plug" else os_vif.unplug_many
    entries = checked_entries(args)
    os_vif.initialize()
    if verb == "plug":
        for vif, instance in entries:
            check(vif, instance)
    progress = _Progress(verb, entries, args.quiet)
    started = time.monotonic()
    results = action(entries, progress)
    if not args.quiet:
        print(progress.summary(time.monotonic() - started), file=sys.stderr)
    from os_vif.cli import one_line

    failed = 0
    for (vif, _instance), result in zip(entries, results, strict=True):
        if result is not None:
            failed += 1
            print(
                "os-vif %s: error: %s"
                % (verb, one_line(_failure(vif, verb, result))),
                file=sys.stderr,
            )
    return 1 if failed else 0
