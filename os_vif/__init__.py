"""os_vif: describe virtual network interfaces and plug them into the host.

Public API (see :doc:`/user/public_api`): :func:`initialize`, :func:`plug`,
:func:`unplug`, :func:`plug_many`, :func:`unplug_many`, :func:`check`,
:func:`check_many`, :func:`gc`, :func:`host_info`, :func:`plugin_for` and
:func:`validate_plug` (a batch's items: :data:`BatchItem`); the objects in
:mod:`os_vif.objects`; the reports of :mod:`os_vif.host_state`;
:class:`os_vif.plugin.PluginBase` and :mod:`os_vif.exception`.

Plugins are found through the ``os_vif`` entry point namespace.  A VIF names
the plugin that handles it in its ``plugin`` field.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from os_vif import _dispatch, exception, objects

if TYPE_CHECKING:
    from os_vif import host_state
    from os_vif._plugin_loader import Manager
    from os_vif.objects import host_info as host_info_objects
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects
    from os_vif.objects import workload as workload_objects
    from os_vif.plugin import PluginBase

__all__ = [
    "initialize",
    "plug",
    "unplug",
    "plug_many",
    "unplug_many",
    "check",
    "check_many",
    "gc",
    "host_info",
    "plugin_for",
    "validate_plug",
    "BatchItem",
]

LOG = logging.getLogger(__name__)

#: The stevedore ExtensionManager of the ``os_vif`` namespace, each loaded
#: plugin the ``obj`` of its extension; None until initialize() ran.  Named
#: and shaped as in os-vif 5.x: clients' tests read it, patch it and set it
#: back to None to have the next initialize() load the plugins again.
_EXT_MANAGER: Manager | None = None
_INIT_LOCK = threading.Lock()

#: An item of :func:`plug_many`, :func:`unplug_many` and
#: :func:`check_many`: ``(vif, instance_info)``, or ``(vif, instance_info,
#: workload)`` with the VIF's workload's end or None.  A string: the object
#: modules are imported only when a call needs them.
BatchItem: TypeAlias = (
    "tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]"
    " | tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo,"
    " workload_objects.WorkloadInterface | None]"
)


def initialize(reset: bool = False) -> None:
    """Register the os_vif objects and load every plugin.

    Call it once before any other function of the library.  A plugin that
    fails to import or load is logged (with its name and the error) and
    left out; the others are loaded.  When several installed distributions
    register the same plugin name, os_vif's own plugin is used and a
    warning names them.  Calling it again does nothing unless ``reset`` is
    true, which looks for plugins and loads them afresh.
    """
    global _EXT_MANAGER
    with _INIT_LOCK:
        if _EXT_MANAGER is not None and not reset:
            return
        objects.register_all()
        # Imported here so that "import os_vif" stays cheap for clients
        # that only build objects (kuryr's controller, nova's API).
        from os_vif import _plugin_loader

        manager = _plugin_loader.new_manager()
        _plugin_loader.load_plugins(manager)
        # Published once loaded: a concurrent plug() never sees it half done.
        _EXT_MANAGER = manager


def _call(
    function: str,
    vif: Any,
    instance_info: Any,
    failure: type[exception.ExceptionBase],
    workload: Any = None,
) -> None:
    plugin = _dispatch.resolve(_EXT_MANAGER, vif, instance_info, function)
    more = _dispatch.check_workload(plugin, vif, workload)
    _dispatch.call_plugin(
        plugin, function, vif, instance_info, failure, **more
    )


def plug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
    *,
    workload: workload_objects.WorkloadInterface | None = None,
) -> None:
    """Plug ``vif`` of the instance ``instance_info`` into the host.

    With ``workload`` (new in os-vif 6), the plugin also makes the
    workload's end of the VIF inside the namespace it names (a container's
    veth peer, a nested VIF's sub-interface), addressed from the VIF's
    network; a failed plug leaves nothing of either end.  A plugin that
    cannot (see :meth:`~os_vif.plugin.PluginBase.supports_workload`) is
    refused before anything changes.

    :raises LibraryNotInitialized: :func:`initialize` was not called
        (checked first, whatever the arguments).
    :raises InvalidArgument: ``vif`` or ``instance_info`` is not an os_vif
        object (``None``, a string, number, mapping or sequence), or the
        VIF names no plugin.  Another object with a ``plugin`` attribute is
        still dispatched, with a :class:`DeprecationWarning`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises InvalidArgument: ``workload`` is not a
        :class:`~os_vif.objects.workload.WorkloadInterface`, or the plugin
        cannot make the workload's end of this VIF.
    :raises PlugException: the plugin failed; ``err`` holds its error.
    """
    _call("plug", vif, instance_info, exception.PlugException, workload)


def unplug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
    *,
    workload: workload_objects.WorkloadInterface | None = None,
) -> None:
    """Unplug ``vif`` of the instance ``instance_info`` from the host.

    Unplugging a VIF that is not plugged is not an error.  The arguments
    are checked as :func:`plug` checks them.  With ``workload``, the
    workload's end is removed too; a namespace that is gone already is
    not an error.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: see :func:`plug`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises UnplugException: the plugin failed; ``err`` holds its error.
    """
    _call(
        "unplug", vif, instance_info, exception.UnplugException, workload
    )


def _many(
    function: str,
    pairs: Iterable[BatchItem],
    failure: type[exception.ExceptionBase],
    progress: host_state.Progress | None,
) -> list[Any]:
    from os_vif import host_state

    results = _dispatch.call_many(
        _EXT_MANAGER, pairs, function, failure, progress
    )
    return [
        None if isinstance(result, host_state.Outcome) else result
        for result in results
    ]


def plug_many(
    pairs: Iterable[BatchItem],
    progress: host_state.Progress | None = None,
) -> list[exception.PlugException | None]:
    """Plug many VIFs: each ``(vif, instance_info)`` of ``pairs``.

    An item may also be ``(vif, instance_info, workload)`` (new in os-vif
    6): with a :class:`~os_vif.objects.workload.WorkloadInterface`, that
    VIF's workload's end is made too, as :func:`plug` makes it with
    ``workload=``; None is as no workload.  Items of both shapes mix.

    Every item is checked first, as :func:`plug` checks its arguments
    (its workload included: a plugin that cannot make it is refused);
    the first bad one raises (the error names it: ``pairs[3].vif``,
    ``pairs[3].workload``) and nothing is plugged.  The VIFs are then
    handed to their plugins, all of a plugin's VIFs in one batch (its
    :meth:`~os_vif.plugin.PluginBase.plug_many`).  Each VIF is plugged or
    not on its own: one that fails leaves nothing of itself behind (in its
    workload's namespace neither) and never stops or undoes the others.

    :param progress: if given, ``progress(index, result)`` is called once
        per item as soon as it is done: ``index`` its position in
        ``pairs``, ``result`` an :class:`~os_vif.host_state.Outcome`
        (``DONE``, or ``UNCHANGED`` when the plugin found it plugged
        already) or its :class:`~os_vif.exception.PlugException`.  What it
        raises ends the call and propagates.
    :returns: one item per item of ``pairs``, in order: None for a VIF
        plugged, its :class:`~os_vif.exception.PlugException` (``err``:
        the plugin's error) for a VIF that failed.
    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: ``pairs`` is not an iterable of such items,
        or an item is refused as :func:`plug` refuses its arguments.
    :raises NoMatchingPlugin: a VIF names no loaded plugin.
    """
    return _many("plug_many", pairs, exception.PlugException, progress)


def unplug_many(
    pairs: Iterable[BatchItem],
    progress: host_state.Progress | None = None,
) -> list[exception.UnplugException | None]:
    """Unplug many VIFs: each ``(vif, instance_info)`` of ``pairs``.

    As :func:`plug_many`, for :func:`unplug`: an item may name the VIF's
    workload (``(vif, instance_info, workload)``), whose end is removed
    too (a namespace that is gone is not an error); a failure is an
    :class:`~os_vif.exception.UnplugException` in the returned list (and
    given to ``progress``); ``UNCHANGED`` says nothing of the VIF was on
    the host.
    """
    return _many("unplug_many", pairs, exception.UnplugException, progress)


def check(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
    *,
    workload: workload_objects.WorkloadInterface | None = None,
) -> host_state.CheckReport:
    """Say whether the host is as plugging ``vif`` would make it.

    With ``workload``, the workload's end inside its namespace is compared
    too.  Reading another namespace needs ``CAP_SYS_ADMIN``: a caller
    without it (nova-compute, zun-compute) has the workload's privsep
    daemon read the end, and gets the same report.

    Reads only; changes nothing and needs no privilege.  The arguments
    are checked as :func:`plug` checks them.  The report's
    :attr:`~os_vif.host_state.CheckReport.ok` is true when nothing
    differs; otherwise its ``problems`` name each object, what differs,
    the value expected and the value found.  A plugin without a check
    answers ``supported=False``; a check that failed is reported in
    ``error`` (not raised): ``ok`` is then false.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: see :func:`plug`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    """
    report: host_state.CheckReport = _dispatch.check_one(
        _EXT_MANAGER, vif, instance_info, workload
    )
    return report


def check_many(
    pairs: Iterable[BatchItem],
) -> list[host_state.CheckReport]:
    """:func:`check` every ``(vif, instance_info)`` of ``pairs``.

    An item may name the VIF's workload, ``(vif, instance_info,
    workload)``, whose end is compared too, as :func:`check` compares it.
    Returns one report per item, in order.  The items are checked first,
    as :func:`plug_many` checks them (the first bad one raises); each
    plugin then checks all of its VIFs at once
    (:meth:`~os_vif.plugin.PluginBase.check_many`), which lets it read the
    host once for all.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: see :func:`plug_many`.
    :raises NoMatchingPlugin: a VIF names no loaded plugin.
    """
    return _dispatch.check_many(_EXT_MANAGER, pairs)


def gc(
    keep: Iterable[vif_objects.VIFBase],
    dry_run: bool = False,
    progress: Callable[[host_state.PluginCollection], None] | None = None,
) -> host_state.GCReport:
    """Remove what os_vif made for VIFs that no longer exist.

    ``keep`` holds every VIF that should exist on this host.  Every loaded
    plugin is offered its VIFs of ``keep`` (none, for a plugin no VIF
    names: it still removes its leftovers) and removes each device, port
    or bridge it owns that belongs to none of them; with ``dry_run`` it
    only lists them.  One plugin's failure, or one removal's, is reported,
    not raised, and the others go on.

    :param progress: if given, called with each plugin's
        :class:`~os_vif.host_state.PluginCollection` as soon as it is done.
    :returns: a :class:`~os_vif.host_state.GCReport`, the sequence of the
        :class:`~os_vif.host_state.Removal` made (or, with ``dry_run``,
        that would be made), each with its reason and its error if it
        failed; its ``plugins`` say which plugins could collect.
    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: ``keep`` is not an iterable of VIFs, or one
        of them (``keep[i]``) is refused as :func:`plug` refuses a VIF.
    """
    report: host_state.GCReport = _dispatch.collect(
        _EXT_MANAGER, keep, dry_run, progress
    )
    return report


def host_info(
    permitted_vif_type_names: list[str] | None = None,
) -> host_info_objects.HostInfo:
    """Describe what this host can plug.

    :param permitted_vif_type_names: if given, only these VIF types (class
        names) are reported, and only plugins that support one of them.
    :raises LibraryNotInitialized: :func:`initialize` was not called.
    """
    from os_vif import _plugin_loader
    from os_vif.objects import host_info as host_info_objects

    manager = _dispatch.require_initialized(_EXT_MANAGER)
    info = host_info_objects.HostInfo(
        plugin_info=_plugin_loader.describe_all(manager)
    )
    if permitted_vif_type_names is not None:
        info.filter_vif_types(permitted_vif_type_names)
    return info


def plugin_for(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo | None = None,
) -> PluginBase:
    """Return the loaded plugin :func:`plug` would hand ``vif`` to.

    The checks :func:`plug` makes before it calls the plugin, in the same
    order, changing nothing; ``instance_info``, when given, is checked as
    :func:`plug` checks it.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: as :func:`plug`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    """
    manager = _dispatch.require_initialized(_EXT_MANAGER)
    _dispatch.check_vif(vif, "plugin_for")
    if instance_info is not None:
        _dispatch.check_instance_info(instance_info, "plugin_for")
    return _dispatch.plugin_for(manager, vif)


def validate_plug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
    *,
    workload: workload_objects.WorkloadInterface | None = None,
) -> None:
    """Refuse, changing nothing, what :func:`plug` would refuse.

    The checks :func:`plug` makes itself, then the plugin's
    :meth:`~os_vif.plugin.PluginBase.validate_plug` (the in-tree plugins
    build the plan a plug would run and check every argument as the
    privileged daemon will), without a privileged call or a host change.
    A plugin that does not override it accepts everything.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: as :func:`plug`, or a field or option the
        plugin refuses (named, with its value).
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises ExceptionBase: another refusal of the plugin (as :func:`plug`
        would raise it, unwrapped).

    ``workload`` is checked as :func:`plug` checks it, and then by the
    plugin.
    """
    plugin = _dispatch.resolve(_EXT_MANAGER, vif, instance_info, "plug")
    more = _dispatch.check_workload(plugin, vif, workload)
    plugin.validate_plug(vif, instance_info, **more)
