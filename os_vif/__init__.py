"""os_vif: describe virtual network interfaces and plug them into the host.

Public API (see :doc:`/user/public_api`): :func:`initialize`, :func:`plug`,
:func:`unplug` and :func:`host_info`; the objects in :mod:`os_vif.objects`;
:class:`os_vif.plugin.PluginBase` and :mod:`os_vif.exception`.

Plugins are found through the ``os_vif`` entry point namespace.  A VIF names
the plugin that handles it in its ``plugin`` field.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from os_vif import _dispatch, exception, objects

if TYPE_CHECKING:
    from os_vif._plugin_loader import Manager
    from os_vif.objects import host_info as host_info_objects
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects

__all__ = ["initialize", "plug", "unplug", "host_info"]

LOG = logging.getLogger(__name__)

#: The stevedore ExtensionManager of the ``os_vif`` namespace, each loaded
#: plugin the ``obj`` of its extension; None until initialize() ran.  Named
#: and shaped as in os-vif 5.x: clients' tests read it, patch it and set it
#: back to None to have the next initialize() load the plugins again.
_EXT_MANAGER: Manager | None = None
_INIT_LOCK = threading.Lock()


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
) -> None:
    plugin = _dispatch.resolve(_EXT_MANAGER, vif, instance_info, function)
    _dispatch.call_plugin(plugin, function, vif, instance_info, failure)


def plug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
) -> None:
    """Plug ``vif`` of the instance ``instance_info`` into the host.

    :raises LibraryNotInitialized: :func:`initialize` was not called
        (checked first, whatever the arguments).
    :raises InvalidArgument: ``vif`` or ``instance_info`` is not an os_vif
        object (``None``, a string, number, mapping or sequence), or the
        VIF names no plugin.  Another object with a ``plugin`` attribute is
        still dispatched, with a :class:`DeprecationWarning`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises PlugException: the plugin failed; ``err`` holds its error.
    """
    _call("plug", vif, instance_info, exception.PlugException)


def unplug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
) -> None:
    """Unplug ``vif`` of the instance ``instance_info`` from the host.

    Unplugging a VIF that is not plugged is not an error.  The arguments
    are checked as :func:`plug` checks them.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises InvalidArgument: see :func:`plug`.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises UnplugException: the plugin failed; ``err`` holds its error.
    """
    _call("unplug", vif, instance_info, exception.UnplugException)


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
