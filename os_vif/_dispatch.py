"""From a public call to a plugin: argument checks, lookup, error wrapping.

Private to os_vif.  Every public function that hands a VIF to a plugin
(:func:`os_vif.plug`, :func:`os_vif.unplug`, and those that take many VIFs
or check them) goes through :func:`resolve` then :func:`call_plugin`, so
that they check in the same order and fail the same way:

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
from collections.abc import Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any

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
) -> Any:
    """Call ``plugin.<method>(vif, instance_info)``, wrapping its errors.

    Any :class:`Exception` the plugin raises, an os_vif one included,
    becomes ``failure(vif=vif, err=<the error>)``, as os-vif 5.x wraps
    them; the error is also its ``__cause__``.  Returns what the plugin
    returns.
    """
    vif_id = _vif_id(vif)
    LOG.debug("%s of VIF %s by plugin %s", method, vif, type(plugin).__name__)
    try:
        result = getattr(plugin, method)(vif, instance_info)
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
