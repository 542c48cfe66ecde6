"""What an in-tree plugin reports in :meth:`PluginBase.describe`.

Every in-tree plugin supports each of its VIF types from version 1.0 to
the version this os_vif defines, with a fixed list of port profiles (also
1.0 to current); :func:`plugin_info` builds the report from those classes
so the plugins only list them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from os_vif.objects import base, host_info

__all__ = ["plugin_info"]


def plugin_info(
    plugin_name: str,
    supported: Iterable[
        tuple[type[base.VersionedObject], Sequence[type[base.VersionedObject]]]
    ],
) -> host_info.HostPluginInfo:
    """Return the report of ``plugin_name``.

    ``supported`` pairs each VIF class with the port profile classes the
    plugin accepts for it.
    """
    return host_info.HostPluginInfo(
        plugin_name=plugin_name,
        vif_info=[
            host_info.HostVIFInfo(
                vif_object_name=vif_class.__name__,
                min_version="1.0",
                max_version=vif_class.VERSION,
                supported_port_profiles=[
                    host_info.HostPortProfileInfo(
                        profile_object_name=profile.__name__,
                        min_version="1.0",
                        max_version=profile.VERSION,
                    )
                    for profile in profiles
                ],
            )
            for vif_class, profiles in supported
        ],
    )
