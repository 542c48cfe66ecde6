"""Finding and loading the plugins of the ``os_vif`` entry point namespace.

Private to os_vif: :func:`os_vif.initialize` is the way in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import metadata
from typing import Any

from stevedore import extension

from os_vif.plugin import PluginBase

LOG = logging.getLogger(__name__)

#: The entry point namespace plugins register in.
NAMESPACE = "os_vif"

#: The distribution that ships the in-tree plugins.
OWN_DISTRIBUTION = "os-vif"


def _distribution(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    name = getattr(dist, "name", None) or getattr(dist, "metadata", {}).get(
        "Name", None
    )
    return str(name) if name else "an unknown distribution"


def _is_own(entry_point: metadata.EntryPoint) -> bool:
    return _distribution(entry_point).replace("_", "-") == OWN_DISTRIBUTION


def choose_entry_points(
    entry_points: Iterable[metadata.EntryPoint],
) -> dict[str, metadata.EntryPoint]:
    """Pick one entry point per plugin name, warning about duplicates.

    When several distributions register the same name (kuryr-kubernetes
    ships its own ``noop``), os_vif's own plugin wins, otherwise the first
    found; a warning names every candidate and the one used.
    """
    by_name: dict[str, list[metadata.EntryPoint]] = {}
    for entry_point in entry_points:
        candidates = by_name.setdefault(entry_point.name, [])
        # The same distribution can be seen twice (e.g. an editable install
        # beside a regular one): that is no conflict.
        if not any(c.value == entry_point.value for c in candidates):
            candidates.append(entry_point)
    chosen = {}
    for name, candidates in by_name.items():
        winner = next((c for c in candidates if _is_own(c)), candidates[0])
        if len(candidates) > 1:
            LOG.warning(
                "os_vif plugin name %s is registered by several "
                "distributions: %s; using %s from %s",
                name,
                ", ".join(
                    "%s (%s)" % (_distribution(c), c.value) for c in candidates
                ),
                winner.value,
                _distribution(winner),
            )
        chosen[name] = winner
    return chosen


def _log_import_failure(
    manager: Any, entry_point: metadata.EntryPoint, err: BaseException
) -> None:
    LOG.error(
        "os_vif plugin %s (%s) could not be imported: %s",
        entry_point.name,
        entry_point.value,
        err,
    )


def plugin_classes(refresh: bool = False) -> dict[str, type[PluginBase]]:
    """Import every plugin class, skipping (and logging) those that fail.

    :param refresh: look for entry points again instead of using what
        stevedore remembered from an earlier call in this process.
    """
    if refresh:
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
    # importlib.metadata knows which distribution registered each entry
    # point (stevedore's cache forgets it); that is needed to name both
    # sides of a conflict.
    chosen = choose_entry_points(metadata.entry_points(group=NAMESPACE))
    manager = extension.ExtensionManager(
        NAMESPACE,
        invoke_on_load=False,
        on_load_failure_callback=_log_import_failure,
    )
    classes: dict[str, type[PluginBase]] = {}
    for ext in manager.extensions:
        winner = chosen.get(ext.name)
        if winner is not None and ext.entry_point.value != winner.value:
            continue
        plugin_class = ext.plugin
        if not (
            isinstance(plugin_class, type)
            and issubclass(plugin_class, PluginBase)
        ):
            LOG.error(
                "os_vif plugin %s (%s) is not a subclass of "
                "os_vif.plugin.PluginBase; ignored",
                ext.name,
                ext.entry_point.value,
            )
            continue
        classes[ext.name] = plugin_class
    return classes


def load_plugins(refresh: bool = False) -> dict[str, PluginBase]:
    """Load every plugin: import it, register its options, instantiate it.

    A plugin that fails is logged with its name and error and left out.
    """
    plugins: dict[str, PluginBase] = {}
    for name, plugin_class in plugin_classes(refresh).items():
        try:
            plugins[name] = plugin_class.load(name)
        except Exception as err:  # one broken plugin must not stop the rest
            LOG.error("os_vif plugin %s failed to load: %s", name, err)
            continue
        LOG.debug("Loaded os_vif plugin %s", name)
    return plugins


def describe_all(plugins: dict[str, PluginBase]) -> list[Any]:
    """Return the HostPluginInfo of every plugin, sorted by name."""
    return [plugins[name].describe() for name in sorted(plugins)]
