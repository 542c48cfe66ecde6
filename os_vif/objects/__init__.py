"""The os_vif objects: VIFs, networks, port profiles and host information.

Public API: clients construct these objects and plugins read them (see
:doc:`/user/public_api`).  Importing this package registers nothing;
:func:`register_all` registers every class with oslo.versionedobjects, and
:func:`os_vif.initialize` calls it.
"""

from __future__ import annotations

import importlib

__all__ = ["register_all"]

_MODULES = (
    "os_vif.objects.fixed_ip",
    "os_vif.objects.host_info",
    "os_vif.objects.instance_info",
    "os_vif.objects.network",
    "os_vif.objects.pod_state",
    "os_vif.objects.route",
    "os_vif.objects.subnet",
    "os_vif.objects.vif",
    "os_vif.objects.workload",
)


def register_all() -> None:
    """Register every os_vif object class with oslo.versionedobjects.

    Safe to call more than once: modules are imported once, and classes
    register themselves when their module is imported.
    """
    for name in _MODULES:
        importlib.import_module(name)
