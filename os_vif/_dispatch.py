"""From a public call to a plugin: argument checks, lookup, error wrapping.

Private to os_vif.  Every public function that hands a VIF to a plugin
goes through :func:`resolve` (:func:`os_vif.plug`, :func:`os_vif.unplug`
and :func:`os_vif.check` for their one VIF, :func:`os_vif.plug_many` and
:func:`os_vif.unplug_many` for each pair, through :func:`resolve_pairs`),
so that they check in the same order and fail the same way:

1. :class:`~os_vif.exception.LibraryNotInitialized` when
   :func:`os_vif.initialize` has not run, whatever the arguments;
2. the VIF: an os_vif VIF object; ``None``, strings, numbers, mappings and
   sequences are refused with :class:`~os_vif.exception.InvalidArgument`
   naming the argument; any other object with a ``plugin`` attribute (a
   test double, an out-of-tree VIF class) is used as os-vif 5.x used it,
   with a :class:`DeprecationWarning` naming its type;
3. the instance: an os_vif ``InstanceInfo``, the same refusals, and any
   other object passed on with a :class:`DeprecationWarning`;
4. the plugin the VIF names, found as ``_EXT_MANAGER[vif.plugin].obj``:
   :class:`~os_vif.exception.NoMatchingPlugin` when none is loaded.
"""

from __future__ import annotations

import functools
import logging
import numbers
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any, NamedTuple

from os_vif import exception

if TYPE_CHECKING:
    from os_vif._plugin_loader import Manager
    from os_vif.objects.instance_info import InstanceInfo
    from os_vif.objects.vif import VIFBase
    from os_vif.plugin import PluginBase

# The package's logger, as when this code lived in os_vif/__init__.py:
# operators filter on it.
LOG = logging.getLogger("os_vif")

#: Values that are never a VIF or an instance, whatever attributes they have.
_REFUSED = (str, bytes, bytearray, numbers.Number, Mapping, Sequence, Set)

#: Iterables that are never a batch (of pairs, or of VIFs to keep).
_NOT_A_BATCH = (str, bytes, bytearray, Mapping)


def _not_a_batch(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, _NOT_A_BATCH)
        or not hasattr(value, "__iter__")
    )


def require_initialized(manager: Manager | None) -> Manager:
    """Return ``manager``; raise LibraryNotInitialized if it is None."""
    if manager is None:
        raise exception.LibraryNotInitialized()
    return manager


def _type_name(value: Any) -> str:
    cls = type(value)
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _outside_stacklevel() -> int:
    """The stacklevel, for the caller's warnings.warn, of the first frame
    outside os_vif: the client's line that made the call."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and (
        frame.f_globals.get("__name__", "").partition(".")[0] == "os_vif"
    ):
        frame = frame.f_back
        level += 1
    return level


@functools.cache
def _os_vif_types() -> tuple[type[VIFBase], type[InstanceInfo]]:
    """VIFBase and InstanceInfo, imported on first use.

    Not at module level: "import os_vif" must stay free of the object
    modules (and of oslo.versionedobjects) until they are needed.
    """
    from os_vif.objects import instance_info, vif

    return vif.VIFBase, instance_info.InstanceInfo


def _refused(value: Any) -> bool:
    return value is None or isinstance(value, _REFUSED)


def _has_plugin_attribute(value: Any) -> bool:
    try:
        getattr(value, "plugin")  # noqa: B009 - a property may raise anything
    except Exception:
        return False
    return True


def check_vif(vif: Any, function: str, argument: str = "vif") -> None:
    """Check that ``vif`` can be handed to a plugin (see the module doc).

    :param function: the public function called, for the warning.
    :param argument: what to call ``vif`` in errors (``vif``,
        ``pairs[3]``...).
    :raises InvalidArgument: ``vif`` is not a VIF, or names no plugin.
    """
    if isinstance(vif, _os_vif_types()[0]):
        if not vif.obj_attr_is_set("plugin"):
            raise exception.InvalidArgument(
                field=argument + ".plugin",
                value=None,
                reason="the VIF names no plugin",
            )
        return
    if _refused(vif) or not _has_plugin_attribute(vif):
        raise exception.InvalidArgument(
            field=argument,
            value=vif,
            reason="not an os_vif VIF object (os_vif.objects.vif.VIFBase)",
        )
    warnings.warn(
        "os_vif.%s() was given a %s of type %s, which is not an os_vif VIF "
        "object; it is dispatched on its 'plugin' attribute as os-vif 5.x "
        "did, but this is deprecated: pass an os_vif.objects.vif object"
        % (function, argument, _type_name(vif)),
        DeprecationWarning,
        stacklevel=_outside_stacklevel(),
    )


def check_instance_info(
    instance_info: Any, function: str, argument: str = "instance_info"
) -> None:
    """Check that ``instance_info`` can be handed to a plugin.

    :raises InvalidArgument: it is None, a string, number, mapping or
        sequence.
    """
    if isinstance(instance_info, _os_vif_types()[1]):
        return
    if _refused(instance_info):
        raise exception.InvalidArgument(
            field=argument,
            value=instance_info,
            reason="not an os_vif InstanceInfo object "
            "(os_vif.objects.instance_info.InstanceInfo)",
        )
    warnings.warn(
        "os_vif.%s() was given an %s of type %s, which is not an os_vif "
        "InstanceInfo; it is passed to the plugin as os-vif 5.x did, but "
        "this is deprecated: pass an "
        "os_vif.objects.instance_info.InstanceInfo"
        % (function, argument, _type_name(instance_info)),
        DeprecationWarning,
        stacklevel=_outside_stacklevel(),
    )


def plugin_for(manager: Manager, vif: Any) -> PluginBase:
    """Return the loaded plugin ``vif`` names.

    :raises NoMatchingPlugin: no plugin of that name is loaded.
    """
    name = vif.plugin
    # manager[name].obj, as os-vif 5.x looks it up, so that a test patching
    # the manager's __getitem__ decides what is found.
    try:
        plugin = manager[name].obj
    except (KeyError, TypeError):  # TypeError: an unhashable name
        plugin = None
    if plugin is None:
        raise exception.NoMatchingPlugin(plugin_name=name)
    return plugin


def resolve(
    manager: Manager | None,
    vif: Any,
    instance_info: Any,
    function: str,
    vif_argument: str = "vif",
    instance_argument: str = "instance_info",
) -> PluginBase:
    """Check a ``(vif, instance_info)`` pair and return its plugin.

    The checks run in the order of the module documentation; the first
    that fails raises.  ``function`` names the public function for the
    warnings; the ``*_argument`` names are what errors call the values.
    """
    manager = require_initialized(manager)
    check_vif(vif, function, vif_argument)
    check_instance_info(instance_info, function, instance_argument)
    return plugin_for(manager, vif)


def check_workload(
    plugin: PluginBase, vif: Any, workload: Any, argument: str = "workload"
) -> dict[str, Any]:
    """The keyword arguments that hand ``workload`` to ``plugin``.

    Empty when ``workload`` is None (the plugin is called as os-vif 5.x
    called it).  ``argument`` is what errors call it (``workload``,
    ``pairs[3].workload``).

    :raises InvalidArgument: ``workload`` is not a
        :class:`~os_vif.objects.workload.WorkloadInterface`, or ``plugin``
        cannot make the workload's end of ``vif`` (its
        :meth:`~os_vif.plugin.PluginBase.supports_workload` says so): before
        the plugin is called, so nothing changes.
    """
    if workload is None:
        return {}
    from os_vif.objects.workload import WorkloadInterface

    if not isinstance(workload, WorkloadInterface):
        raise exception.InvalidArgument(
            field=argument,
            value=workload,
            reason="not an os_vif.objects.workload.WorkloadInterface",
        )
    if not plugin.supports_workload(vif):
        raise exception.InvalidArgument(
            field=argument,
            value=workload,
            reason="plugin %s cannot make the workload's end of a %s"
            % (type(plugin).__name__, type(vif).__name__),
        )
    return {"workload": workload}


def _vif_id(vif: Any) -> Any:
    try:
        return vif.id
    except Exception:  # unset on an os_vif object, absent on a double
        return None


def call_plugin(
    plugin: PluginBase,
    method: str,
    vif: Any,
    instance_info: Any,
    failure: type[exception.ExceptionBase],
    **more: Any,
) -> Any:
    """Call ``plugin.<method>(vif, instance_info, **more)``, wrapping its
    errors.

    Any :class:`Exception` the plugin raises, an os_vif one included,
    becomes ``failure(vif=vif, err=<the error>)``, as os-vif 5.x wraps
    them; the error is also its ``__cause__``.  Returns what the plugin
    returns.  ``more`` (``workload=``) is given only when set, so that a
    plugin of os-vif 5.x's signature is called as it always was.
    """
    vif_id = _vif_id(vif)
    LOG.debug("%s of VIF %s by plugin %s", method, vif, type(plugin).__name__)
    try:
        result = getattr(plugin, method)(vif, instance_info, **more)
    except Exception as err:
        # The traceback, not str(err) in the message: logging formats its
        # arguments late, and some errors' str() raises.
        LOG.error(
            "Failed to %s VIF %s with plugin %s",
            method,
            vif_id,
            type(plugin).__name__,
            exc_info=True,
        )
        raise failure(vif=vif, err=err) from err
    LOG.info(
        "%s of VIF %s done by plugin %s",
        method,
        vif_id,
        type(plugin).__name__,
    )
    return result


# -- many VIFs at once --


class _ProgressFailed(BaseException):
    """What the caller's progress callback raised, on its way out.

    A BaseException, so that no plugin's ``except Exception`` around a VIF
    takes the caller's error for that VIF's failure.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class _Item(NamedTuple):
    """One item of a batch, checked: its VIF, instance, plugin, workload."""

    vif: Any
    instance_info: Any
    plugin: PluginBase
    workload: Any


def resolve_pairs(
    manager: Manager | None, pairs: Any, function: str
) -> list[_Item]:
    """Check every item of ``pairs`` as :func:`resolve` checks one.

    An item is ``(vif, instance_info)`` or ``(vif, instance_info,
    workload)``, the workload checked as :func:`check_workload` checks
    it (None: none).  Errors name the item (``pairs[3].vif``,
    ``pairs[3].workload``); the first bad item raises, before any plugin
    is called.  Returns one :class:`_Item` per item, in order.
    """
    manager = require_initialized(manager)
    if _not_a_batch(pairs):
        raise exception.InvalidArgument(
            field="pairs",
            value=pairs,
            reason="not an iterable of (vif, instance_info[, workload]) "
            "items",
        )
    resolved = []
    for index, pair in enumerate(pairs):
        where = "pairs[%d]" % index
        if (
            not isinstance(pair, Sequence)
            or isinstance(pair, (str, bytes))
            or len(pair) not in (2, 3)
        ):
            raise exception.InvalidArgument(
                field=where,
                value=pair,
                reason="not a (vif, instance_info) pair nor a (vif, "
                "instance_info, workload) triple",
            )
        vif, instance_info = pair[0], pair[1]
        workload = pair[2] if len(pair) == 3 else None
        try:
            plugin = resolve(
                manager,
                vif,
                instance_info,
                function,
                where + ".vif",
                where + ".instance_info",
            )
        except exception.NoMatchingPlugin as err:
            # Its 5.x message names only the plugin: say which pair.
            err.add_note("in %s" % where)
            raise
        check_workload(plugin, vif, workload, where + ".workload")
        resolved.append(_Item(vif, instance_info, plugin, workload))
    return resolved


def _group(resolved: list[_Item]) -> list[tuple[PluginBase, list[int]]]:
    """The indexes of each plugin's items, plugins in order of first use."""
    groups: dict[int, tuple[PluginBase, list[int]]] = {}
    for index, item in enumerate(resolved):
        groups.setdefault(id(item.plugin), (item.plugin, []))[1].append(
            index
        )
    return list(groups.values())


def _batch_call(
    plugin: PluginBase,
    function: str,
    resolved: list[_Item],
    indexes: list[int],
) -> tuple[list[tuple[Any, Any]], Callable[..., Any], dict[str, Any]]:
    """What to call for one plugin's batch: ``(pairs, method, keywords)``.

    ``workloads=`` (one per pair) only when an item of the batch has a
    workload, as :func:`call_plugin` gives ``workload=`` only when set: a
    plugin whose ``supports_workload`` answered false never gets it (the
    items were refused).  A plugin that does support them but overrides
    the method without that parameter gets :class:`PluginBase`'s default
    for the batch, which hands each workload to its single method.
    """
    from os_vif.plugin import PluginBase

    pairs = [(resolved[i].vif, resolved[i].instance_info) for i in indexes]
    method = getattr(plugin, function)
    workloads = [resolved[i].workload for i in indexes]
    if all(workload is None for workload in workloads):
        return pairs, method, {}
    if not _takes_workloads(method):
        LOG.debug(
            "%s of plugin %s takes no workloads: its VIFs with one are "
            "handed over one by one",
            function,
            type(plugin).__name__,
        )
        method = functools.partial(getattr(PluginBase, function), plugin)
    return pairs, method, {"workloads": workloads}


def _takes_workloads(method: Any) -> bool:
    """Whether ``method`` accepts a ``workloads`` keyword argument."""
    # Imported here: only a batch with workloads reads a signature, and
    # "import os_vif" stays cheap.
    import inspect

    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):  # no signature to read: try it
        return True
    return "workloads" in parameters or any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD
        for parameter in parameters.values()
    )


def call_many(
    manager: Manager | None,
    pairs: Any,
    function: str,
    failure: type[exception.ExceptionBase],
    progress: Any = None,
) -> list[Any]:
    """Run ``plugin.<function>(pairs, progress)`` for every plugin named.

    ``function`` is ``plug_many`` or ``unplug_many``.  Returns, per pair in
    order, an :class:`~os_vif.host_state.Outcome` or ``failure(vif=...,
    err=<the plugin's error>)``; calls ``progress(index, that)`` once per
    pair as soon as it is known (what ``progress`` raises propagates).
    """
    from os_vif import host_state

    public = function.removesuffix("_many")
    resolved = resolve_pairs(manager, pairs, function)
    results: list[Any] = [None] * len(resolved)
    reported = [False] * len(resolved)
    wrapped: dict[int, tuple[Any, Any]] = {}

    def wrap(index: int, result: Any) -> Any:
        if isinstance(result, host_state.Outcome):
            return result
        # The same error reported twice (progress, then the returned list)
        # is one failure: one exception object.
        if index in wrapped and wrapped[index][0] is result:
            return wrapped[index][1]
        raw = result
        if not isinstance(result, Exception):
            result = TypeError(
                "%s returned %r for this VIF, neither an Outcome nor an "
                "exception" % (function, result)
            )
        failed = failure(vif=resolved[index].vif, err=result)
        failed.__cause__ = result
        wrapped[index] = (raw, failed)
        return failed

    def report(index: int, result: Any, final: bool) -> None:
        if final:
            results[index] = result
        if reported[index]:
            return
        reported[index] = True
        if progress is not None:
            try:
                progress(index, result)
            except BaseException as err:
                raise _ProgressFailed(err) from err

    try:
        for plugin, indexes in _group(resolved):
            _run_group(
                plugin, function, public, resolved, indexes, wrap, report
            )
    except _ProgressFailed as stop:
        raise stop.error from None
    return results


def _run_group(
    plugin: PluginBase,
    function: str,
    public: str,
    resolved: list[_Item],
    indexes: list[int],
    wrap: Any,
    report: Any,
) -> None:
    """One plugin's batch: call it, then report every VIF's result."""
    name = type(plugin).__name__
    batch, method, more = _batch_call(plugin, function, resolved, indexes)

    def forward(position: int, result: Any) -> None:
        # Shown at once; the returned list decides what the call returns
        # (a position outside the batch is ignored).
        if isinstance(position, int) and 0 <= position < len(indexes):
            index = indexes[position]
            report(index, wrap(index, result), False)

    LOG.debug("%s of %d VIFs by plugin %s", function, len(batch), name)
    returned = _normalised(
        plugin,
        function,
        "%s of %d VIFs" % (function, len(batch)),
        len(batch),
        lambda: method(batch, forward, **more),
        None,
        lambda err: err,
    )
    failed = 0
    for position, index in enumerate(indexes):
        result = wrap(index, returned[position])
        if not _is_outcome(result):
            failed += 1
            LOG.error(
                "Failed to %s VIF %s with plugin %s: %s",
                public,
                _vif_id(resolved[index].vif),
                name,
                _describe(result),
            )
        report(index, result, True)
    LOG.info(
        "%s of %d VIFs by plugin %s: %d failed",
        function,
        len(batch),
        name,
        failed,
    )


def _is_outcome(result: Any) -> bool:
    from os_vif import host_state

    return isinstance(result, host_state.Outcome)


def _describe(err: Any) -> str:
    """The plugin's error of a wrapped failure, as text that never raises."""
    inner = getattr(err, "kwargs", {}).get("err", err)
    try:
        return str(inner)
    except Exception:
        return type(inner).__name__


# -- what plugins return, made whole in one place --


def _normalised(
    plugin: PluginBase,
    function: str,
    what: str,
    count: int,
    call: Callable[[], Any],
    expected: type | None,
    failed: Callable[[Exception], Any],
    level: int = logging.ERROR,
    single: bool = False,
) -> list[Any]:
    """What ``call`` (``plugin.<function>`` over ``count`` VIFs) returned,
    as a list of ``count`` results.

    ``single``: the method returns one result, not a list.  A result that
    is not an ``expected`` (when given) becomes ``failed(TypeError)``; so
    does a list of the wrong length, for every VIF, and what the call
    raises (logged at ``level``, ``what`` saying what failed).
    """
    name = type(plugin).__name__
    try:
        returned = call()
        returned = [returned] if single else list(returned)
        if len(returned) != count:
            raise TypeError(
                "%s returned %d %s for %d VIFs"
                % (
                    function,
                    len(returned),
                    "results" if expected is None else "reports",
                    count,
                )
            )
    except Exception as err:
        LOG.log(level, "%s failed in plugin %s", what, name, exc_info=True)
        return [failed(err)] * count
    if expected is None:
        return returned
    results = []
    for result in returned:
        if not isinstance(result, expected):
            error = TypeError(
                "%s returned %r, not a %s"
                % (function, result, expected.__name__)
            )
            LOG.log(level, "%s in plugin %s: %s", what, name, error)
            result = failed(error)
        results.append(result)
    return results


def _stamped(report: Any, vif: Any) -> Any:
    """``report`` naming ``vif`` (its id) and the plugin ``vif`` names."""
    import dataclasses

    vif_id = _vif_id(vif)
    return dataclasses.replace(
        report,
        vif_id=None if vif_id is None else str(vif_id),
        plugin=str(vif.plugin),
    )


def _read_unread(reports: list[Any]) -> list[Any]:
    """``reports`` with the workload ends their check could not read (no
    ``CAP_SYS_ADMIN`` here) read by the workload daemon, in one call."""
    from os_vif.internal.unprivileged import workload_reads

    return workload_reads.resolve(reports)


def _error_report(err: Exception) -> Any:
    from os_vif import host_state

    return host_state.CheckReport(error=err)


# -- host state: check and collect --


def check_one(
    manager: Manager | None, vif: Any, instance_info: Any, workload: Any = None
) -> Any:
    """The :class:`~os_vif.host_state.CheckReport` of ``vif``'s plugin.

    The arguments are checked as :func:`resolve` checks them (and raise),
    ``workload`` as :func:`check_workload` checks it; what the plugin's
    check raises, or a return that is no report, is reported in ``error``.
    """
    from os_vif import host_state

    plugin = resolve(manager, vif, instance_info, "check")
    more = check_workload(plugin, vif, workload)
    report = _normalised(
        plugin,
        "check",
        "Check of VIF %s" % _vif_id(vif),
        1,
        lambda: plugin.check(vif, instance_info, **more),
        host_state.CheckReport,
        _error_report,
        logging.WARNING,
        single=True,
    )[0]
    (report,) = _read_unread([report])
    return _stamped(report, vif)


def check_many(manager: Manager | None, pairs: Any) -> list[Any]:
    """A CheckReport per pair, each plugin's pairs in one ``check_many``.

    Pairs are checked as :func:`resolve_pairs` checks them (and raise);
    a plugin's failure, or a result that is not one report per pair,
    becomes an ``error`` in the reports of its VIFs.
    """
    from os_vif import host_state

    resolved = resolve_pairs(manager, pairs, "check_many")
    reports: list[Any] = [None] * len(resolved)
    for plugin, indexes in _group(resolved):
        batch, method, more = _batch_call(
            plugin, "check_many", resolved, indexes
        )
        returned = _normalised(
            plugin,
            "check_many",
            "Check of %d VIFs" % len(batch),
            len(batch),
            functools.partial(method, batch, **more),
            host_state.CheckReport,
            _error_report,
            logging.WARNING,
        )
        for index, report in zip(indexes, returned, strict=True):
            reports[index] = _stamped(report, resolved[index].vif)
    # Every plugin's unread workload ends in one call of the workload daemon.
    return _read_unread(reports)


def collect(
    manager: Manager | None, keep: Any, dry_run: bool, progress: Any = None
) -> Any:
    """Offer every loaded plugin its VIFs of ``keep``; a GCReport.

    Every VIF of ``keep`` is checked first (errors name ``keep[i]``).  A
    plugin's failure is reported in its
    :class:`~os_vif.host_state.PluginCollection`; VIFs of ``keep`` naming
    no loaded plugin get a collection of their own saying so.
    ``progress(collection)``, if given, is called as each is done.
    """
    from os_vif import _plugin_loader, host_state

    manager = require_initialized(manager)
    if _not_a_batch(keep):
        raise exception.InvalidArgument(
            field="keep", value=keep, reason="not an iterable of VIFs"
        )
    kept: dict[str, list[Any]] = {}
    for index, vif in enumerate(keep):
        check_vif(vif, "gc", "keep[%d]" % index)
        kept.setdefault(vif.plugin, []).append(vif)
    names = sorted(set(manager.names()))
    collections = []
    for name in names:
        plugin = _plugin_loader.loaded_plugin(manager, name)
        if plugin is None:
            continue
        collections.append(
            _collect_one(plugin, name, kept.pop(name, []), dry_run)
        )
        if progress is not None:
            progress(collections[-1])
    for name, vifs in kept.items():
        collections.append(
            host_state.PluginCollection(
                supported=False,
                plugin=str(name),
                reason="no plugin of this name is loaded; %d VIF%s of keep "
                "name%s it" % (
                    len(vifs),
                    "" if len(vifs) == 1 else "s",
                    "s" if len(vifs) == 1 else "",
                ),
            )
        )
        if progress is not None:
            progress(collections[-1])
    return host_state.GCReport(plugins=tuple(collections), dry_run=dry_run)


def _collect_one(
    plugin: PluginBase, name: str, keep: list[Any], dry_run: bool
) -> Any:
    """One plugin's collection, its name filled in, its failure caught."""
    import dataclasses

    from os_vif import host_state

    collection = _normalised(
        plugin,
        "gc",
        "Collection",
        1,
        lambda: plugin.gc(keep, dry_run),
        host_state.PluginCollection,
        lambda err: host_state.PluginCollection(error=err),
        single=True,
    )[0]
    return dataclasses.replace(
        collection,
        plugin=name,
        removals=tuple(
            dataclasses.replace(removal, plugin=name)
            for removal in collection.removals
        ),
    )
