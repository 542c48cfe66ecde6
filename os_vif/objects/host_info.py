"""What a host can plug: its plugins, their VIF types and port profiles.

Public API: :func:`os_vif.host_info` returns a :class:`HostInfo`; a plugin's
``describe()`` returns a :class:`HostPluginInfo`.  A client picks the VIF
type and port profile a host supports, at a version both sides know, with
:meth:`HostVIFInfo.get_common_version` and
:meth:`HostPortProfileInfo.get_common_version`.
"""

from __future__ import annotations

import warnings
from typing import Any

from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif import exception
from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

__all__ = [
    "HostPortProfileInfo",
    "HostVIFInfo",
    "HostPluginInfo",
    "HostInfo",
    "get_common_version",
]


def _known_versions(object_name: str) -> list[str]:
    """Return the versions of the os_vif class ``object_name`` loaded here."""
    classes = ovo_base.VersionedObjectRegistry.obj_classes().get(
        object_name, []
    )
    return [
        cls.VERSION
        for cls in classes
        if cls.OBJ_PROJECT_NAMESPACE == osv_base.NAMESPACE
    ]


def get_common_version(
    object_name: str,
    max_version: str,
    min_version: str,
    exc_notmatch: type[exception.ExceptionBase],
    exc_notsupported: type[exception.ExceptionBase],
) -> str:
    """Return the newest version of ``object_name`` within the given range.

    Any version of the major version this library has, up to its current
    one, is possible: objects backport to every earlier minor version.  So
    the answer is the lower of ``max_version`` and our version, provided it
    is at least ``min_version`` and of the same major version.

    :raises ExceptionBase: ``exc_notmatch`` when no os_vif class has that
        name, ``exc_notsupported`` when no version of the class fits.
    """
    versions = _known_versions(object_name)
    if not versions:
        raise exc_notmatch(name=object_name)

    def as_tuple(version: str) -> tuple[int, ...]:
        return versionutils.convert_version_to_tuple(version)

    try:
        low, high = as_tuple(min_version), as_tuple(max_version)
    except (ValueError, AttributeError):
        raise exc_notsupported(
            name=object_name,
            got_versions=",".join(versions),
            min_version=min_version,
            max_version=max_version,
        ) from None
    for version in sorted(versions, key=as_tuple, reverse=True):
        ours = as_tuple(version)
        best = min(ours, high)
        if best[0] == ours[0] and best >= low:
            return "%d.%d" % best[:2]
    raise exc_notsupported(
        name=object_name,
        got_versions=",".join(versions),
        min_version=min_version,
        max_version=max_version,
    )


# os-vif 5.x spelled it with a leading underscore; kept for callers of that.
_get_common_version = get_common_version


@ovo_base.VersionedObjectRegistry.register
class HostPortProfileInfo(
    osv_base.VersionedObjectPrintableMixin, osv_base.VersionedObject
):
    """A port profile a plugin supports, and its version range."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Class name of the port profile (``VIFPortProfileOpenVSwitch``).
    profile_object_name: str = declare(fields.StringField())
    #: Oldest version the plugin accepts.
    min_version: str = declare(fields.StringField())
    #: Newest version the plugin accepts.
    max_version: str = declare(fields.StringField())

    def get_common_version(self) -> str:
        """Return the newest version of the profile both sides know."""
        return get_common_version(
            self.profile_object_name,
            self.max_version,
            self.min_version,
            exception.NoMatchingPortProfileClass,
            exception.NoSupportedPortProfileVersion,
        )


@ovo_base.VersionedObjectRegistry.register
class HostVIFInfo(
    osv_base.VersionedObjectPrintableMixin, osv_base.VersionedObject
):
    """A VIF type a plugin supports, its versions and port profiles."""

    # 1.0: initial version
    # 1.1: supported_port_profiles
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("supported_port_profiles",)}

    #: Class name of the VIF type (``VIFOpenVSwitch``).
    vif_object_name: str = declare(fields.StringField())
    #: Oldest version the plugin accepts.
    min_version: str = declare(fields.StringField())
    #: Newest version the plugin accepts.
    max_version: str = declare(fields.StringField())
    #: Port profiles the plugin accepts with this VIF type.
    supported_port_profiles: list[HostPortProfileInfo] = declare(
        fields.ListOfObjectsField("HostPortProfileInfo")
    )

    obj_relationships = {"supported_port_profiles": [("1.1", "1.0")]}

    def get_common_version(self) -> str:
        """Return the newest version of the VIF type both sides know."""
        return get_common_version(
            self.vif_object_name,
            self.max_version,
            self.min_version,
            exception.NoMatchingVIFClass,
            exception.NoSupportedVIFVersion,
        )

    def has_port_profile(self, name: str) -> bool:
        """Tell whether the port profile class ``name`` is supported."""
        return any(
            profile.profile_object_name == name
            for profile in self._port_profiles()
        )

    def get_port_profile(self, name: str) -> HostPortProfileInfo:
        """Return the support of the port profile class ``name``.

        :raises NoMatchingPortProfileClass: it is not supported.
        """
        for profile in self._port_profiles():
            if profile.profile_object_name == name:
                return profile
        raise exception.NoMatchingPortProfileClass(name=name)

    def _port_profiles(self) -> list[Any]:
        if not self.obj_attr_is_set("supported_port_profiles"):
            return []
        return list(self.supported_port_profiles)


@ovo_base.VersionedObjectRegistry.register
class HostPluginInfo(
    osv_base.VersionedObjectPrintableMixin, osv_base.VersionedObject
):
    """A loaded plugin and the VIF types it supports."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The plugin's name (its entry point name).
    plugin_name: str = declare(fields.StringField())
    #: The VIF types the plugin supports.
    vif_info: list[HostVIFInfo] = declare(
        fields.ListOfObjectsField("HostVIFInfo")
    )

    obj_relationships = {"vif_info": [("1.0", "1.1")]}

    def has_vif(self, name: str) -> bool:
        """Tell whether the VIF class ``name`` is supported."""
        return any(vif.vif_object_name == name for vif in self.vif_info)

    def get_vif(self, name: str) -> HostVIFInfo:
        """Return the support of the VIF class ``name``.

        :raises NoMatchingVIFClass: it is not supported.
        """
        for vif in self.vif_info:
            if vif.vif_object_name == name:
                return vif
        raise exception.NoMatchingVIFClass(name=name)

    def filter_vif_types(self, permitted_vif_type_names: list[str]) -> None:
        """Keep only the VIF types named (deprecated).

        os-vif 5.x's method, kept for its callers: it emits a
        :class:`DeprecationWarning`.  Filter the whole host's description
        instead, with ``os_vif.host_info(permitted_vif_type_names)`` or
        :meth:`HostInfo.filter_vif_types`, which also drops the plugins left
        with no VIF type.
        """
        warnings.warn(
            "HostPluginInfo.filter_vif_types is deprecated and will be "
            "removed: use os_vif.host_info(permitted_vif_type_names) or "
            "HostInfo.filter_vif_types",
            DeprecationWarning,
            stacklevel=2,
        )
        permitted = set(permitted_vif_type_names)
        self.vif_info = [
            vif for vif in self.vif_info if vif.vif_object_name in permitted
        ]


@ovo_base.VersionedObjectRegistry.register
class HostInfo(
    osv_base.VersionedObjectPrintableMixin, osv_base.VersionedObject
):
    """Everything a host can plug: one entry per loaded plugin."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The loaded plugins.
    plugin_info: list[HostPluginInfo] = declare(
        fields.ListOfObjectsField("HostPluginInfo")
    )

    obj_relationships = {"plugin_info": [("1.0", "1.0")]}

    def has_plugin(self, name: str) -> bool:
        """Tell whether a plugin called ``name`` is loaded."""
        return any(plugin.plugin_name == name for plugin in self.plugin_info)

    def get_plugin(self, name: str) -> HostPluginInfo:
        """Return the plugin called ``name``.

        :raises NoMatchingPlugin: no such plugin is loaded.
        """
        for plugin in self.plugin_info:
            if plugin.plugin_name == name:
                return plugin
        raise exception.NoMatchingPlugin(plugin_name=name)

    def filter_vif_types(self, permitted_vif_type_names: list[str]) -> None:
        """Keep only the VIF types named, and the plugins that have any."""
        permitted = set(permitted_vif_type_names)
        kept = []
        for plugin in self.plugin_info:
            plugin.vif_info = [
                vif
                for vif in plugin.vif_info
                if vif.vif_object_name in permitted
            ]
            if plugin.vif_info:
                kept.append(plugin)
        self.plugin_info = kept
