"""Configuration options of os_vif, for ``oslo-config-generator``.

``oslo-config-generator --namespace os_vif`` lists the options of every
installed plugin (group ``os_vif_<plugin>``) and of the privsep daemons
(``vif_plug_linux_bridge_privileged``, ``vif_plug_ovs_privileged``,
``vif_plug_workload_privileged``).
:func:`list_plugins_opts` is os-vif 5.x's name for the plugins' part.

Listing imports the plugin classes but loads none: it does not call
:func:`os_vif.initialize` (os-vif 5.x did, on import of this module).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from oslo_config import cfg
from oslo_privsep import priv_context

from os_vif import _plugin_loader
from os_vif.plugin import config_group_name

__all__ = ["list_opts", "list_plugins_opts", "load_config", "PRIVSEP_GROUPS"]

#: The privsep daemons os_vif runs, by configuration group.
PRIVSEP_GROUPS = (
    "vif_plug_linux_bridge_privileged",
    "vif_plug_ovs_privileged",
    "vif_plug_workload_privileged",
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


def load_config(files: Sequence[str]) -> None:
    """Read ``files`` into oslo.config's ``CONF`` and every os_vif option
    in them now.

    oslo.config checks a value only when it is first read, which for a
    plugin option would be in the middle of a plug; reading them all now
    makes a bad value an error before anything runs (the ``os-vif``
    command, the CNI daemon).  Only the files are read: the caller's own
    command line is not oslo.config's.

    :raises ValueError: a file is missing or unreadable, or a value is
        invalid (``[group] option in files: reason``).
    """
    try:
        cfg.CONF([], project="os_vif", default_config_files=list(files))
    except cfg.Error as err:
        raise ValueError(" ".join(str(err).split())) from err
    for group, options in list_opts():
        for option in options:
            try:
                cfg.CONF.register_opt(option, group=group)
            except cfg.DuplicateOptError:
                pass  # a privsep context registered its own variant
            try:
                getattr(cfg.CONF[group], option.dest)
            except cfg.ConfigFileValueError as err:
                reason = str(err).rpartition("is not valid: ")[2]
                raise ValueError(
                    "[%s] %s in %s: %s"
                    % (group, option.dest, ", ".join(files), reason)
                ) from None
            except cfg.Error as err:
                raise ValueError(" ".join(str(err).split())) from err
