"""Finding and loading the plugins of the ``os_vif`` entry point namespace.

Private to os_vif: :func:`os_vif.initialize` is the way in.  The plugins
live in a stevedore ``ExtensionManager`` made exactly as os-vif 5.x makes
it (clients' tests patch ``stevedore.extension.ExtensionManager`` and its
``names``/``__getitem__``), kept in ``os_vif._EXT_MANAGER``: each loaded
plugin is the ``obj`` of its extension.  What we add on top of it:

* a plugin whose import fails is logged with its name, entry point,
  distribution and error, and the others load (stevedore alone logs a
  terse line of its own);
* when several distributions register the same name (kuryr-kubernetes
  ships its own ``noop``), one extension is kept, os_vif's own when it is
  among them, and a warning names every candidate and its distribution;
* a plugin that is not a :class:`~os_vif.plugin.PluginBase` subclass, or
  whose ``load()`` fails, is logged and left out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeAlias

from stevedore import extension

from os_vif.plugin import PluginBase

if TYPE_CHECKING:
    from os_vif.objects import host_info

    #: What os_vif._EXT_MANAGER holds: extensions whose ``obj`` is a plugin.
    Manager: TypeAlias = extension.ExtensionManager[PluginBase]

LOG = logging.getLogger(__name__)

#: The entry point namespace plugins register in.
NAMESPACE = "os_vif"

#: The distribution that ships the in-tree plugins.
OWN_DISTRIBUTION = "os-vif"

UNKNOWN_DISTRIBUTION = "an unknown distribution"


def _distribution_name(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    name = getattr(dist, "name", None) or getattr(dist, "metadata", {}).get(
        "Name", None
    )
    return str(name) if name else UNKNOWN_DISTRIBUTION


def distributions_by_entry_point() -> dict[tuple[str, str], str]:
    """Map ``(name, value)`` of every os_vif entry point to its distribution.

    stevedore's entry point cache forgets which distribution registered an
    entry point; importlib.metadata knows, and naming both sides of a
    conflict needs it.
    """
    found: dict[tuple[str, str], str] = {}
    for entry_point in metadata.entry_points(group=NAMESPACE):
        found.setdefault(
            (entry_point.name, entry_point.value),
            _distribution_name(entry_point),
        )
    return found


def _entry_point_value(ext: Any) -> str | None:
    value = getattr(ext.entry_point, "value", None)
    return value if isinstance(value, str) else None


def _is_own(distribution: str) -> bool:
    return distribution.replace("_", "-").lower() == OWN_DISTRIBUTION


def one_per_name(
    extensions: Iterable[Any], distributions: Mapping[tuple[str, str], str]
) -> list[Any]:
    """Keep one extension per plugin name, in order, warning on conflicts.

    Among the extensions sharing a name, os_vif's own wins, otherwise the
    first found.  The same entry point seen twice (an editable install
    beside a regular one) is no conflict.
    """
    by_name: dict[str, list[Any]] = {}
    for ext in extensions:
        candidates = by_name.setdefault(ext.name, [])
        value = _entry_point_value(ext)
        if not any(_entry_point_value(c) == value for c in candidates):
            candidates.append(ext)

    def dist(ext: Any) -> str:
        value = _entry_point_value(ext) or ""
        return distributions.get((ext.name, value), UNKNOWN_DISTRIBUTION)

    kept = []
    for name, candidates in by_name.items():
        winner = next((c for c in candidates if _is_own(dist(c))), None)
        winner = winner or candidates[0]
        if len(candidates) > 1:
            LOG.warning(
                "os_vif plugin name %s is registered by several "
                "distributions: %s; using %s from %s",
                name,
                ", ".join(
                    "%s (%s)" % (dist(c), _entry_point_value(c))
                    for c in candidates
                ),
                _entry_point_value(winner),
                dist(winner),
            )
        kept.append(winner)
    return kept


def _report_import_failures(
    manager: Manager, distributions: Mapping[tuple[str, str], str]
) -> None:
    """Log, on os_vif's logger, each entry point stevedore could not import.

    stevedore keeps no record of the failures (only a log line of its own),
    so each missing entry point is imported once more to get its error.
    """
    loaded = {(e.name, _entry_point_value(e)) for e in manager.extensions}
    for entry_point in manager.list_entry_points():
        key = (entry_point.name, entry_point.value)
        if key in loaded:
            continue
        try:
            entry_point.load()
        except Exception as err:
            LOG.error(
                "os_vif plugin %s (%s, from %s) could not be imported: %s; "
                "the other plugins are loaded",
                entry_point.name,
                entry_point.value,
                distributions.get(key, UNKNOWN_DISTRIBUTION),
                err,
            )


def new_manager() -> Manager:
    """Make the extension manager of the os_vif namespace, plugins imported.

    The manager is made with exactly os-vif 5.x's arguments; then the
    import failures are logged and one extension per name is kept.  The
    plugins are not instantiated yet: see :func:`load_plugins`.
    """
    # Look for entry points afresh: a reset (or os_vif._EXT_MANAGER = None)
    # must see distributions installed since the last look.
    extension.ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
    manager: Manager = extension.ExtensionManager(
        namespace=NAMESPACE, invoke_on_load=False
    )
    # A test may have replaced the manager by a mock: nothing to refine.
    if isinstance(manager.extensions, list):
        distributions = distributions_by_entry_point()
        _report_import_failures(manager, distributions)
        # No lookup by name has run yet, so stevedore's name index (built on
        # the first one) will be built from this list.
        manager.extensions = one_per_name(manager.extensions, distributions)
    return manager


def _load_one(manager: Manager, name: str) -> PluginBase | None:
    ext = manager[name]
    plugin_class = ext.plugin
    if not (
        isinstance(plugin_class, type) and issubclass(plugin_class, PluginBase)
    ):
        LOG.error(
            "os_vif plugin %s (%s) is not a subclass of "
            "os_vif.plugin.PluginBase; ignored",
            name,
            _entry_point_value(ext) or plugin_class,
        )
        return None
    try:
        plugin = plugin_class.load(name)
    except Exception as err:  # one broken plugin must not stop the rest
        LOG.error(
            "os_vif plugin %s failed to load: %s; the other plugins are "
            "loaded",
            name,
            err,
        )
        return None
    ext.obj = plugin
    LOG.debug("Loaded VIF plugin class %s with name %s", plugin_class, name)
    return plugin


def load_plugins(manager: Manager) -> list[str]:
    """Instantiate every plugin of ``manager``; return the names loaded.

    As os-vif 5.x does: for each name of ``manager.names()``, the
    extension's ``plugin.load(name)`` becomes its ``obj``.  A plugin that
    fails is logged with its name and error and removed from the manager's
    list (a lookup by its name then finds no ``obj``).
    """
    loaded: list[str] = []
    failed: set[str] = set()
    for name in manager.names():
        if name in loaded or name in failed:
            continue
        if _load_one(manager, name) is None:
            failed.add(name)
        else:
            loaded.append(name)
    if failed and isinstance(manager.extensions, list):
        manager.extensions = [
            e for e in manager.extensions if e.name not in failed
        ]
    LOG.info("Loaded VIF plugins: %s", ", ".join(loaded))
    return loaded


def loaded_plugin(manager: Manager, name: str) -> PluginBase | None:
    """Return the loaded plugin called ``name``, or None."""
    try:
        return manager[name].obj
    except KeyError:
        return None


def plugin_classes() -> dict[str, type[PluginBase]]:
    """Import every plugin class, one per name, without instantiating any.

    For the configuration generator, which needs the options of every
    installed plugin but must not load them.
    """
    classes: dict[str, type[PluginBase]] = {}
    for ext in new_manager().extensions:
        plugin_class = ext.plugin
        if isinstance(plugin_class, type) and issubclass(
            plugin_class, PluginBase
        ):
            classes[ext.name] = plugin_class
    return classes


def describe_all(manager: Manager) -> list[host_info.HostPluginInfo]:
    """Return the HostPluginInfo of every loaded plugin, sorted by name."""
    infos = []
    for name in sorted(set(manager.names())):
        plugin = loaded_plugin(manager, name)
        if plugin is not None:
            infos.append(plugin.describe())
    return infos
