"""The public surface of os_vif, pinned: changing it must be deliberate.

If this test fails, a public name was added, removed or renamed.  Update the
table below only together with doc/source/user/public_api.rst and a release
note: clients (nova, kuryr-kubernetes) and plugins depend on these names.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing

import pytest

PUBLIC_SURFACE = {
    "os_vif": [
        "BatchItem",
        "check",
        "check_many",
        "gc",
        "host_info",
        "initialize",
        "plug",
        "plug_many",
        "plugin_for",
        "unplug",
        "unplug_many",
        "validate_plug",
    ],
    "os_vif.host_state": [
        "CheckReport",
        "GCReport",
        "Outcome",
        "PluginCollection",
        "Problem",
        "Progress",
        "Removal",
        "VIFResult",
    ],
    "os_vif.plugin": ["PluginBase", "config_group_name"],
    "os_vif.exception": [
        "DeserializationError",
        "DeviceDiscoveryFailed",
        "ExceptionBase",
        "ExternalImport",
        "HostOperationFailed",
        "HostOperationRefused",
        "InvalidArgument",
        "LibraryNotInitialized",
        "NetworkInterfaceNotFound",
        "NetworkInterfaceTypeNotDefined",
        "NetworkMissingPhysicalNetwork",
        "NoMatchingPlugin",
        "NoMatchingPortProfileClass",
        "NoMatchingVIFClass",
        "NoSupportedPortProfileVersion",
        "NoSupportedVIFVersion",
        "NotImplementedForOS",
        "PlugException",
        "TapCreationNotSupported",
        "UnplugException",
    ],
    "os_vif.objects": ["register_all"],
    "os_vif.objects.base": [
        "SubclassingWarning",
        "VersionedObject",
        "VersionedObjectPrintableMixin",
        "drop_fields_newer_than",
        "version_for_base",
        "warn_if_subclassed_outside",
    ],
    "os_vif.objects.fields": [
        "ListOfIPAddressField",
        "VIFDirectMode",
        "VIFDirectModeField",
        "VIFHostDeviceDevType",
        "VIFHostDeviceDevTypeField",
        "VIFVHostUserMode",
        "VIFVHostUserModeField",
    ],
    "os_vif.objects.fixed_ip": ["FixedIP", "FixedIPList"],
    "os_vif.objects.host_info": [
        "HostInfo",
        "HostPluginInfo",
        "HostPortProfileInfo",
        "HostVIFInfo",
        "get_common_version",
    ],
    "os_vif.objects.instance_info": ["InstanceInfo"],
    "os_vif.objects.network": ["Network"],
    "os_vif.objects.pod_state": ["DEFAULT_IFNAME", "PodState"],
    "os_vif.objects.route": ["Route", "RouteList"],
    "os_vif.objects.subnet": ["Subnet", "SubnetList"],
    "os_vif.serialization": [
        "FORMATS",
        "Format",
        "MAX_DEPTH",
        "MAX_DOCUMENT_SIZE",
        "MAX_LIST_ITEMS",
        "MAX_OBJECTS",
        "MAX_STRING_LENGTH",
        "PeerVersions",
        "RPCSerializer",
        "Target",
        "dumps",
        "from_compact",
        "from_data",
        "from_primitive",
        "json_schema",
        "loads",
        "negotiate",
        "parse_json",
        "to_compact",
        "to_primitive",
        "version_manifest",
    ],
    "os_vif.objects.vif": [
        "DatapathOffloadBase",
        "DatapathOffloadRepresentor",
        "VIFBase",
        "VIFBridge",
        "VIFDPDKNested",
        "VIFDirect",
        "VIFGeneric",
        "VIFHostDevice",
        "VIFMacvlanNested",
        "VIFNestedDPDK",
        "VIFOpenVSwitch",
        "VIFPortProfile8021Qbg",
        "VIFPortProfile8021Qbh",
        "VIFPortProfileBase",
        "VIFPortProfileFPBridge",
        "VIFPortProfileFPOpenVSwitch",
        "VIFPortProfileFPTap",
        "VIFPortProfileK8sDPDK",
        "VIFPortProfileOVSRepresentor",
        "VIFPortProfileOpenVSwitch",
        "VIFSriov",
        "VIFVHostUser",
        "VIFVlanNested",
    ],
    "os_vif.objects.workload": ["WorkloadInterface"],
}


def defined_public_names(module: types.ModuleType) -> set[str]:
    """Names without a leading underscore that the module itself defines."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", module.__name__)
        if origin != module.__name__ and not isinstance(value, (str, int)):
            continue  # imported from elsewhere (classes, typing forms...)
        if name.isupper() or name in {"LOG", "annotations", "TYPE_CHECKING"}:
            continue  # constants and module plumbing
        names.add(name)
    return names


@pytest.mark.parametrize("module_name", sorted(PUBLIC_SURFACE))
def test_public_surface_is_pinned(module_name):
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == PUBLIC_SURFACE[module_name]
    # Every public name the module defines is declared in __all__.
    assert defined_public_names(module) <= set(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        if typing.get_origin(value) is not None:
            continue  # a type alias: documented by a "#:" comment instead
        assert inspect.getdoc(value), "%s.%s has no docstring" % (
            module_name,
            name,
        )


def test_only_plugin_base_and_exceptions_are_for_subclassing():
    import warnings

    from os_vif.objects import base, vif

    for root in (vif.VIFBase, vif.VIFPortProfileBase, vif.DatapathOffloadBase):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            type("Outside", (root,), {"__module__": "someone_else.vifs"})
        assert [w.category for w in caught] == [base.SubclassingWarning]
        message = str(caught[0].message)
        assert "someone_else.vifs.Outside" in message
        assert root.__name__ in message
        assert "os_vif.objects.vif" in message  # names the supported way
        assert issubclass(base.SubclassingWarning, FutureWarning)


def test_subclassing_inside_os_vif_is_silent():
    import warnings

    from os_vif.objects import vif

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        type("Inside", (vif.VIFBase,), {"__module__": "os_vif.objects.x"})


def test_warning_points_at_the_class_statement():
    import warnings

    from os_vif.objects import vif

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class Outside(vif.VIFBase):  # noqa: F841 - defined for the warning
            pass

    assert caught[0].filename == __file__
