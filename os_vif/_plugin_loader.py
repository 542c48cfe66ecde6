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


def find_entry_points() -> dict[str, metadata.EntryPoint]:
    """Return the entry point to load for every plugin name."""
    manager = extension.ExtensionManager(NAMESPACE, invoke_on_load=False)
    return choose_entry_points(manager.list_entry_points())


def plugin_classes() -> dict[str, type[PluginBase]]:
    """Import every plugin class, skipping (and logging) those that fail."""
    classes = {}
    for name, entry_point in find_entry_points().items():
        try:
            plugin_class = entry_point.load()
        except Exception as err:  # any import error must not stop the rest
            LOG.error(
                "os_vif plugin %s (%s) could not be imported: %s",
                name,
                entry_point.value,
                err,
            )
            continue
        if not (
            isinstance(plugin_class, type)
            and issubclass(plugin_class, PluginBase)
        ):
            LOG.error(
                "os_vif plugin %s (%s) is not a subclass of "
                "os_vif.plugin.PluginBase; ignored",
                name,
                entry_point.value,
            )
            continue
        classes[name] = plugin_class
    return classes


def load_plugins() -> dict[str, PluginBase]:
    """Load every plugin: import it, register its options, instantiate it.

    A plugin that fails is logged with its name and error and left out.
    """
    plugins: dict[str, PluginBase] = {}
    for name, plugin_class in plugin_classes().items():
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
