"""initialize / plug / unplug / host_info, as nova and kuryr call them."""

from __future__ import annotations

import pickle

import pytest

import os_vif
from os_vif import exception
from os_vif.objects import host_info, instance_info, vif
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="vm-1", project_id="p1"
)


@pytest.fixture
def uninitialized(monkeypatch):
    monkeypatch.setattr(os_vif, "_EXT_MANAGER", None)


def test_library_not_initialized(uninitialized):
    for call in (
        lambda: os_vif.plug(vifs.nested_vif(), INSTANCE),
        lambda: os_vif.unplug(vifs.nested_vif(), INSTANCE),
        os_vif.host_info,
    ):
        with pytest.raises(exception.LibraryNotInitialized):
            call()


def test_initialize_twice_keeps_plugins():
    os_vif.initialize()
    manager = os_vif._EXT_MANAGER
    os_vif.initialize()
    assert os_vif._EXT_MANAGER is manager
    os_vif.initialize(reset=True)
    assert os_vif._EXT_MANAGER is not manager


def test_plug_and_unplug_through_noop():
    os_vif.initialize()
    os_vif.plug(vifs.nested_vif(), INSTANCE)
    os_vif.unplug(vifs.nested_vif(), INSTANCE)


def test_unknown_plugin():
    os_vif.initialize()
    with pytest.raises(exception.NoMatchingPlugin) as caught:
        os_vif.plug(vifs.nested_vif(plugin="nosuch"), INSTANCE)
    assert "nosuch" in str(caught.value)


def test_vif_without_plugin_names_the_field():
    os_vif.initialize()
    bare = vif.VIFGeneric(id="b2d6c7b4-1a0f-4a53-8b0c-1d2e3f4a5b6c")
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(bare, INSTANCE)
    assert "vif.plugin" in str(caught.value)


@pytest.mark.parametrize(
    "bad_vif,bad_instance,field",
    [
        ("not a vif", INSTANCE, "vif"),
        (vifs.nested_vif(), {"uuid": 1}, "instance_info"),
    ],
)
def test_wrong_argument_types(bad_vif, bad_instance, field):
    os_vif.initialize()
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(bad_vif, bad_instance)
    assert caught.value.kwargs["field"] == field


def test_plugin_errors_become_plug_exceptions(monkeypatch):
    os_vif.initialize()
    noop = os_vif._EXT_MANAGER["noop"].obj

    def fail(vif_obj, instance):
        raise RuntimeError("device busy")

    monkeypatch.setattr(noop, "plug", fail)
    monkeypatch.setattr(noop, "unplug", fail)
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vifs.nested_vif(), INSTANCE)
    assert "device busy" in str(caught.value)
    assert isinstance(caught.value.kwargs["err"], RuntimeError)
    with pytest.raises(exception.UnplugException):
        os_vif.unplug(vifs.nested_vif(), INSTANCE)


def test_host_info_filter():
    os_vif.initialize()
    assert (
        os_vif.host_info(["VIFVlanNested"])
        .get_plugin("noop")
        .has_vif("VIFVlanNested")
    )
    assert os_vif.host_info(["NoSuchVIF"]).plugin_info == []
    assert os_vif.host_info([]).plugin_info == []


class TestExceptions:
    KWARGS = {
        "NoMatchingPlugin": {"plugin_name": "ovs"},
        "NoMatchingPortProfileClass": {"name": "P"},
        "NoSupportedPortProfileVersion": {
            "name": "P",
            "got_versions": "1.4",
            "min_version": "2.0",
            "max_version": "2.1",
        },
        "NoMatchingVIFClass": {"name": "V"},
        "NoSupportedVIFVersion": {
            "name": "V",
            "got_versions": "1.1",
            "min_version": "2.0",
            "max_version": "2.0",
        },
        "PlugException": {"vif": "vif-1", "err": "boom"},
        "UnplugException": {"vif": "vif-1", "err": "boom"},
        "NetworkMissingPhysicalNetwork": {"network_uuid": "net-1"},
        "NetworkInterfaceNotFound": {"interface": "eth9"},
        "NetworkInterfaceTypeNotDefined": {"type": "wifi"},
        "NotImplementedForOS": {"function": "plug", "os": "Windows"},
        "InvalidArgument": {"field": "mtu", "value": 9, "reason": "too small"},
        "HostOperationFailed": {"operation": "o", "device": "d", "err": "e"},
        "DeviceDiscoveryFailed": {
            "device": "d",
            "looked_for": "l",
            "reason": "r",
        },
        "DeserializationError": {"path": "a.b", "reason": "bad"},
    }

    @pytest.mark.parametrize("name", sorted(KWARGS))
    def test_keyword_arguments_fill_the_message(self, name):
        cls = getattr(exception, name)
        err = cls(**self.KWARGS[name])
        assert issubclass(cls, exception.ExceptionBase)
        for value in self.KWARGS[name].values():
            assert str(value) in str(err)
        assert err.kwargs == self.KWARGS[name]
        # Privsep sends exceptions across its socket by class and args.
        again = pickle.loads(pickle.dumps(err))
        assert str(again) == str(err) and type(again) is cls

    def test_explicit_message_wins(self):
        assert str(exception.PlugException("custom")) == "custom"

    def test_template_that_cannot_be_filled_is_the_message(self):
        # os-vif 5.x's fallback: the template itself; the keyword
        # arguments stay on the exception.
        err = exception.NoMatchingPlugin(name="wrong keyword")
        assert str(err) == exception.NoMatchingPlugin.msg_fmt
        assert err.kwargs == {"name": "wrong keyword"}

    def test_no_argument_exceptions(self):
        assert "initialize" in str(exception.LibraryNotInitialized())
        assert str(exception.ExternalImport())


class TestCommonVersion:
    def info(self, name, low, high):
        return host_info.HostVIFInfo(
            vif_object_name=name, min_version=low, max_version=high
        )

    def test_newest_within_range(self):
        assert (
            self.info("VIFVHostUser", "1.0", "1.5").get_common_version()
            == "1.1"
        )

    def test_older_max_is_reachable_by_backport(self):
        # os-vif 5.3.0 refuses this; every 1.x can be produced by backport.
        assert (
            self.info("VIFVHostUser", "1.0", "1.0").get_common_version()
            == "1.0"
        )

    @pytest.mark.parametrize("low,high", [("2.0", "2.1"), ("0.9", "0.9")])
    def test_other_major(self, low, high):
        with pytest.raises(exception.NoSupportedVIFVersion):
            self.info("VIFVHostUser", low, high).get_common_version()

    def test_unknown_class(self):
        with pytest.raises(exception.NoMatchingVIFClass):
            self.info("VIFNope", "1.0", "1.0").get_common_version()

    def test_garbage_version(self):
        with pytest.raises(exception.NoSupportedVIFVersion):
            self.info("VIFBridge", "one", "two").get_common_version()

    def test_port_profile(self):
        profile = host_info.HostPortProfileInfo(
            profile_object_name="VIFPortProfileOpenVSwitch",
            min_version="1.0",
            max_version="1.9",
        )
        assert profile.get_common_version() == "1.4"
        profile.min_version = "1.5"
        with pytest.raises(exception.NoSupportedPortProfileVersion):
            profile.get_common_version()

    def test_helpers(self):
        vif_info = self.info("VIFOpenVSwitch", "1.0", "1.0")
        vif_info.supported_port_profiles = [
            host_info.HostPortProfileInfo(
                profile_object_name="VIFPortProfileOpenVSwitch",
                min_version="1.0",
                max_version="1.4",
            )
        ]
        plugin = host_info.HostPluginInfo(
            plugin_name="ovs", vif_info=[vif_info]
        )
        info = host_info.HostInfo(plugin_info=[plugin])
        assert info.has_plugin("ovs") and not info.has_plugin("lb")
        assert info.get_plugin("ovs").get_vif("VIFOpenVSwitch") is vif_info
        assert vif_info.has_port_profile("VIFPortProfileOpenVSwitch")
        with pytest.raises(exception.NoMatchingPlugin):
            info.get_plugin("lb")
        with pytest.raises(exception.NoMatchingVIFClass) as caught:
            plugin.get_vif("VIFBridge")
        assert "VIFBridge" in str(caught.value)
        with pytest.raises(exception.NoMatchingPortProfileClass):
            vif_info.get_port_profile("VIFPortProfileFPTap")
        info.filter_vif_types(["VIFBridge"])
        assert info.plugin_info == []
        assert "HostVIFInfo" in str(vif_info)
