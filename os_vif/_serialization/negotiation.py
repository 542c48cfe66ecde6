"""Fit a VIF to what a host reported it can plug.

A host's :class:`~os_vif.objects.host_info.HostInfo` lists, per plugin, the
VIF types it plugs with their version range and, for each, the port
profiles it accepts.  From it we derive a version manifest (object name ->
version) for the serialisers, or the os_vif exception saying why the VIF
cannot go to that host.
"""

from __future__ import annotations

from typing import Any

from os_vif import exception
from os_vif._serialization import catalog as cat

__all__ = ["vif_manifest", "host_manifest"]


def _is_set(obj: Any, name: str) -> bool:
    return bool(obj.obj_attr_is_set(name))


def _plugins(host_info: Any) -> list[Any]:
    if not _is_set(host_info, "plugin_info"):
        return []
    return list(host_info.plugin_info)


def _vif_infos(plugin: Any) -> list[Any]:
    if not _is_set(plugin, "vif_info"):
        return []
    return list(plugin.vif_info)


def _common_version(info: Any, name_field: str) -> str:
    """The newest version both sides know, or the matching exception."""
    if name_field == "vif_object_name":
        notsupported: type[exception.ExceptionBase] = (
            exception.NoSupportedVIFVersion
        )
    else:
        notsupported = exception.NoSupportedPortProfileVersion
    if not (_is_set(info, "min_version") and _is_set(info, "max_version")):
        raise notsupported(
            name=getattr(info, name_field),
            got_versions="(not reported)",
            min_version="?",
            max_version="?",
        )
    return str(info.get_common_version())


def _clamp_to_instance(
    version: str,
    obj: Any,
    info: Any,
    name: str,
    error: type[exception.ExceptionBase],
) -> str:
    """An object loaded at an older version cannot be written newer."""
    want = cat.parse_version(version)
    own = cat.parse_version(obj.VERSION)
    low = cat.parse_version(info.min_version)
    assert want is not None and own is not None
    if own < want:
        if low is not None and own < low:
            raise error(
                name=name,
                got_versions=obj.VERSION,
                min_version=info.min_version,
                max_version=info.max_version,
            )
        return str(obj.VERSION)
    return version


def _try_plugin(plugin: Any, vif: Any, vif_name: str) -> dict[str, str]:
    """The manifest for ``vif`` on ``plugin``, or the exception why not."""
    for vif_info in _vif_infos(plugin):
        if vif_info.vif_object_name != vif_name:
            continue
        version = _common_version(vif_info, "vif_object_name")
        version = _clamp_to_instance(
            version, vif, vif_info, vif_name, exception.NoSupportedVIFVersion
        )
        manifest = {vif_name: version}
        profile = (
            vif.port_profile if _is_set(vif, "port_profile") else None
        )
        if profile is not None and _is_set(
            vif_info, "supported_port_profiles"
        ):
            profile_name = profile.obj_name()
            profile_info = vif_info.get_port_profile(profile_name)
            profile_version = _common_version(
                profile_info, "profile_object_name"
            )
            manifest[profile_name] = _clamp_to_instance(
                profile_version,
                profile,
                profile_info,
                profile_name,
                exception.NoSupportedPortProfileVersion,
            )
        # A host that does not list port profiles (HostVIFInfo 1.0) is
        # sent the profile at its own version, as os-vif always did.
        return manifest
    raise exception.NoMatchingVIFClass(name=vif_name)


def vif_manifest(host_info: Any, vif: Any) -> dict[str, str]:
    """Return the version manifest to send ``vif`` to the host.

    The plugin is the one the VIF names (``vif.plugin``); a VIF naming none
    goes to the first plugin that supports its type and port profile.

    :raises NoMatchingPlugin: the host has not loaded ``vif.plugin``.
    :raises NoMatchingVIFClass: the plugin does not plug this VIF type.
    :raises NoSupportedVIFVersion: no version of the VIF type fits.
    :raises NoMatchingPortProfileClass: the port profile is not accepted.
    :raises NoSupportedPortProfileVersion: no version of the profile fits.
    """
    vif_name = vif.obj_name()
    if _is_set(vif, "plugin") and vif.plugin:
        for plugin in _plugins(host_info):
            if plugin.plugin_name == vif.plugin:
                return _try_plugin(plugin, vif, vif_name)
        raise exception.NoMatchingPlugin(plugin_name=vif.plugin)
    first_error: exception.ExceptionBase | None = None
    for plugin in _plugins(host_info):
        try:
            return _try_plugin(plugin, vif, vif_name)
        except exception.ExceptionBase as err:
            first_error = first_error or err
    if first_error is not None:
        raise first_error
    raise exception.NoMatchingVIFClass(name=vif_name)


def host_manifest(host_info: Any) -> dict[str, str]:
    """Return a manifest of every VIF type and port profile the host has.

    When several plugins report one class, the lowest common version is
    kept, so that every plugin reads what is sent.  Classes the host
    reports but this os_vif does not know are left out.
    """
    known = cat.catalog().by_name
    manifest: dict[str, str] = {}

    def keep(name: str, info: Any, field: str) -> None:
        if name not in known:
            return
        try:
            version = _common_version(info, field)
        except exception.ExceptionBase:
            return
        if name in manifest:
            old = cat.parse_version(manifest[name])
            new = cat.parse_version(version)
            if old is not None and new is not None and old <= new:
                return
        manifest[name] = version

    for plugin in _plugins(host_info):
        for vif_info in _vif_infos(plugin):
            keep(vif_info.vif_object_name, vif_info, "vif_object_name")
            if _is_set(vif_info, "supported_port_profiles"):
                for profile in vif_info.supported_port_profiles:
                    keep(
                        profile.profile_object_name,
                        profile,
                        "profile_object_name",
                    )
    return manifest
