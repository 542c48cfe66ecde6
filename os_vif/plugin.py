"""The base class of every os_vif plugin.

This module is public API.  A plugin subclasses :class:`PluginBase`,
declares its configuration options in :attr:`PluginBase.CONFIG_OPTS` and is
registered as an entry point in the ``os_vif`` namespace.  os_vif loads it by
that name with :meth:`PluginBase.load`, which registers the options (if it
has any) in the group ``os_vif_<plugin name>`` of
:data:`oslo_config.cfg.CONF`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from oslo_config import cfg

if TYPE_CHECKING:
    from os_vif.objects import host_info as host_info_objects
    from os_vif.objects import instance_info as instance_info_objects
    from os_vif.objects import vif as vif_objects

__all__ = ["PluginBase", "config_group_name"]

_PluginT = TypeVar("_PluginT", bound="PluginBase")


def config_group_name(plugin_name: str) -> str:
    """Return the oslo.config group that holds ``plugin_name``'s options."""
    return "os_vif_" + plugin_name


class PluginBase(metaclass=abc.ABCMeta):
    """Base class for all VIF plugins.

    A plugin describes which VIF types and port profiles it handles
    (:meth:`describe`) and attaches (:meth:`plug`) or detaches
    (:meth:`unplug`) a VIF on the host.  Both must be idempotent: nova
    re-plugs every VIF when nova-compute restarts and may unplug a VIF that
    is already gone.
    """

    #: The :class:`oslo_config.cfg.Opt` objects this plugin reads.  They are
    #: registered in the group ``os_vif_<plugin name>`` by :meth:`load`.
    CONFIG_OPTS: ClassVar[Sequence[cfg.Opt]] = ()

    def __init__(self, config: Any) -> None:
        """Keep ``config``, this plugin's option group (``CONF.os_vif_x``)."""
        self.config = config

    @abc.abstractmethod
    def describe(self) -> host_info_objects.HostPluginInfo:
        """Return a HostPluginInfo naming the VIF types this plugin handles."""

    @abc.abstractmethod
    def plug(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> None:
        """Attach ``vif`` of the instance ``instance_info`` to the host.

        Raise :class:`os_vif.exception.PlugException` (or a subclass) on
        failure, after undoing any step already made.
        """

    @abc.abstractmethod
    def unplug(
        self,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> None:
        """Detach ``vif`` of the instance ``instance_info`` from the host.

        Unplugging a VIF that is not plugged is not an error.  Raise
        :class:`os_vif.exception.UnplugException` on failure.
        """

    @classmethod
    def load(cls: type[_PluginT], plugin_name: str) -> _PluginT:
        """Register this plugin's options and return a configured instance.

        The options in :attr:`CONFIG_OPTS` land in the group
        ``os_vif_<plugin_name>`` of the global configuration, where
        operators set them in the service's configuration file.  A plugin
        without options registers no group (as in os-vif 5.x); it gets an
        empty group of a configuration of its own, so that ``config`` is
        never None.
        """
        group = config_group_name(plugin_name)
        if cls.CONFIG_OPTS:
            # Registering the same options twice is harmless in
            # oslo.config, so loading a plugin again just works.
            cfg.CONF.register_opts(
                list(cls.CONFIG_OPTS),
                group=cfg.OptGroup(
                    group, title="os-vif plugin %s options" % plugin_name
                ),
            )
            return cls(getattr(cfg.CONF, group))
        private = cfg.ConfigOpts()
        private.register_group(cfg.OptGroup(group))
        return cls(getattr(private, group))
