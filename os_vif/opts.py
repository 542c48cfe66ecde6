"""Configuration options of os_vif, for ``oslo-config-generator``.

``oslo-config-generator --namespace os_vif`` lists the options of every
installed plugin (group ``os_vif_<plugin>``) and of the privsep daemons
(``vif_plug_linux_bridge_privileged``, ``vif_plug_ovs_privileged``).
"""

from __future__ import annotations

import copy

from oslo_config import cfg
from oslo_privsep import priv_context

from os_vif import _plugin_loader
from os_vif.plugin import config_group_name

__all__ = ["list_opts", "PRIVSEP_GROUPS"]

#: The privsep daemons os_vif runs, by configuration group.
PRIVSEP_GROUPS = (
    "vif_plug_linux_bridge_privileged",
    "vif_plug_ovs_privileged",
)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return ``(group, options)`` for every os_vif configuration group."""
    groups = [
        (config_group_name(name), list(plugin_class.CONFIG_OPTS))
        for name, plugin_class in sorted(
            _plugin_loader.plugin_classes().items()
        )
    ]
    groups.extend(
        (group, copy.deepcopy(priv_context.OPTS)) for group in PRIVSEP_GROUPS
    )
    return groups
