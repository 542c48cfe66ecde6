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

from os_vif import exception, objects

if TYPE_CHECKING:
    from os_vif.objects import host_info as host_info_objects
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects
    from os_vif.plugin import PluginBase

__all__ = ["initialize", "plug", "unplug", "host_info"]

LOG = logging.getLogger(__name__)

#: The loaded plugins by name; None until initialize() ran.
_PLUGINS: dict[str, PluginBase] | None = None
_INIT_LOCK = threading.Lock()


def initialize(reset: bool = False) -> None:
    """Register the os_vif objects and load every plugin.

    Call it once before any other function of the library.  A plugin that
    fails to import or load is logged (with its name and the error) and
    left out; the others are loaded.  Calling it again does nothing unless
    ``reset`` is true, which loads the plugins afresh.
    """
    global _PLUGINS
    with _INIT_LOCK:
        if _PLUGINS is not None and not reset:
            return
        objects.register_all()
        # Imported here so that "import os_vif" stays cheap for clients
        # that only build objects (kuryr's controller, nova's API).
        from os_vif import _plugin_loader

        _PLUGINS = _plugin_loader.load_plugins(refresh=reset)


def _loaded_plugins() -> dict[str, PluginBase]:
    if _PLUGINS is None:
        raise exception.LibraryNotInitialized()
    return _PLUGINS


def _plugin_for(vif: vif_objects.VIFBase) -> PluginBase:
    plugins = _loaded_plugins()
    if not vif.obj_attr_is_set("plugin"):
        raise exception.InvalidArgument(
            field="vif.plugin", value=None, reason="the VIF names no plugin"
        )
    try:
        return plugins[vif.plugin]
    except KeyError:
        raise exception.NoMatchingPlugin(plugin_name=vif.plugin) from None


def _check_arguments(vif: Any, instance_info: Any) -> None:
    # Imported late to keep the import of os_vif free of object modules
    # until they are needed.
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects

    if not isinstance(vif, vif_objects.VIFBase):
        raise exception.InvalidArgument(
            field="vif", value=vif, reason="not an os_vif VIF object"
        )
    if not isinstance(instance_info, instance_info_objects.InstanceInfo):
        raise exception.InvalidArgument(
            field="instance_info",
            value=instance_info,
            reason="not an os_vif InstanceInfo object",
        )


def _run_plugin(
    action: str,
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
    failure: type[exception.ExceptionBase],
) -> None:
    """Call the plugin's ``action`` ("plug"/"unplug"), wrapping its errors."""
    _check_arguments(vif, instance_info)
    plugin = _plugin_for(vif)
    LOG.debug("%s of VIF %s", action, vif)
    try:
        getattr(plugin, action)(vif, instance_info)
    except failure:
        LOG.error("Failed to %s VIF %s", action, vif.id)
        raise
    except Exception as err:
        LOG.error("Failed to %s VIF %s: %s", action, vif.id, err)
        raise failure(vif=vif, err=err) from err
    LOG.info("%s of VIF %s done by plugin %s", action, vif.id, vif.plugin)


def plug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
) -> None:
    """Plug ``vif`` of the instance ``instance_info`` into the host.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises PlugException: the plugin failed; ``err`` holds its error.
    """
    _run_plugin("plug", vif, instance_info, exception.PlugException)


def unplug(
    vif: vif_objects.VIFBase,
    instance_info: instance_info_objects.InstanceInfo,
) -> None:
    """Unplug ``vif`` of the instance ``instance_info`` from the host.

    Unplugging a VIF that is not plugged is not an error.

    :raises LibraryNotInitialized: :func:`initialize` was not called.
    :raises NoMatchingPlugin: no loaded plugin is named ``vif.plugin``.
    :raises UnplugException: the plugin failed; ``err`` holds its error.
    """
    _run_plugin("unplug", vif, instance_info, exception.UnplugException)


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

    info = host_info_objects.HostInfo(
        plugin_info=_plugin_loader.describe_all(_loaded_plugins())
    )
    if permitted_vif_type_names is not None:
        info.filter_vif_types(permitted_vif_type_names)
    return info
