"""Configuration options of os_vif, for ``oslo-config-generator``.

``oslo-config-generator --namespace os_vif`` lists the options of every
installed plugin (group ``os_vif_<plugin>``) and of the privsep daemons
(``vif_plug_linux_bridge_privileged``, ``vif_plug_ovs_privileged``).
:func:`list_plugins_opts` is os-vif 5.x's name for the plugins' part.

Listing imports the plugin classes but loads none: it does not call
:func:`os_vif.initialize` (os-vif 5.x did, on import of this module).
"""

from __future__ import annotations

import copy

from oslo_config import cfg
from oslo_privsep import priv_context

from os_vif import _plugin_loader
from os_vif.plugin import config_group_name

__all__ = ["list_opts", "list_plugins_opts", "PRIVSEP_GROUPS"]

#: The privsep daemons os_vif runs, by configuration group.
PRIVSEP_GROUPS = (
    "vif_plug_linux_bridge_privileged",
    "vif_plug_ovs_privileged",
)


def list_plugins_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return ``(group, options)`` for every installed plugin, by name.

    Every plugin is listed, those without options with an empty list, as
    os-vif 5.x lists them.  The options are copies: the generator may
    change them without touching the plugins' own.
    """
    return [
        (config_group_name(name), copy.deepcopy(list(klass.CONFIG_OPTS)))
        for name, klass in sorted(_plugin_loader.plugin_classes().items())
    ]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return ``(group, options)`` for every os_vif configuration group.

    The plugins' groups (:func:`list_plugins_opts`) and the privsep
    daemons' groups.
    """
    groups = list_plugins_opts()
    groups.extend(
        (group, copy.deepcopy(priv_context.OPTS)) for group in PRIVSEP_GROUPS
    )
    return groups
