"""negotiate() and HostInfo targets: a VIF made ready for a host."""

from __future__ import annotations

import pytest

from os_vif import exception, serialization
from os_vif.objects import host_info as hi
from tests import wire_samples
from tests.unit.serialization import vectors


def host(vif_max="1.0", profiles=(("VIFPortProfileOpenVSwitch", "1.0",
                                     "1.3"),), vif_min="1.0",
         plugin="ovs", vif_name="VIFOpenVSwitch"):
    vif_info = hi.HostVIFInfo(
        vif_object_name=vif_name, min_version=vif_min, max_version=vif_max
    )
    if profiles is not None:
        vif_info.supported_port_profiles = [
            hi.HostPortProfileInfo(
                profile_object_name=name, min_version=low, max_version=high
            )
            for name, low, high in profiles
        ]
    return hi.HostInfo(
        plugin_info=[
            hi.HostPluginInfo(plugin_name="noop", vif_info=[]),
            hi.HostPluginInfo(plugin_name=plugin, vif_info=[vif_info]),
        ]
    )


@pytest.fixture
def vif():
    return wire_samples.build_sample("VIFOpenVSwitch", "populated")


def test_profile_backported_to_what_the_plugin_reads(vif):
    ready = serialization.negotiate(host(), vif)
    assert ready.VERSION == "1.0"
    assert ready.port_profile.VERSION == "1.3"
    assert ready.port_profile.create_port is True
    assert not ready.port_profile.obj_attr_is_set("create_tap")
    assert not ready.port_profile.obj_attr_is_set("multiqueue")
    # Everything else is intact, and the original is untouched.
    assert ready.network == vif.network
    assert vif.port_profile.VERSION == "1.4"
    assert vif.port_profile.create_tap is True


def test_host_info_target_writes_the_negotiated_vif(vif):
    info = host()
    # The same data; the change lists differ as os-vif's do: a backported
    # child still lists the fields its backport removed.
    assert vectors.without_changes(
        serialization.to_primitive(vif, info)
    ) == vectors.without_changes(
        serialization.to_primitive(serialization.negotiate(info, vif))
    )
    compact = serialization.to_compact(vif, info)
    assert compact["port_profile"]["@version"] == "1.3"
    assert "create_tap" not in compact["port_profile"]


def test_newest_when_the_host_reads_newer(vif):
    ready = serialization.negotiate(host("1.7", (
        ("VIFPortProfileOpenVSwitch", "1.0", "1.9"),)), vif)
    assert ready.VERSION == "1.0"
    assert ready.port_profile.VERSION == "1.4"


def test_host_without_port_profile_list_gets_the_profile_as_is(vif):
    ready = serialization.negotiate(host(profiles=None), vif)
    assert ready.port_profile.VERSION == "1.4"


def test_vif_naming_no_plugin_goes_to_the_first_that_fits(vif):
    del vif.plugin
    ready = serialization.negotiate(host(), vif)
    assert ready.port_profile.VERSION == "1.3"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"plugin": "linux_bridge"}, exception.NoMatchingPlugin),
        ({"vif_name": "VIFBridge"}, exception.NoMatchingVIFClass),
        ({"vif_min": "1.1", "vif_max": "1.2"},
         exception.NoSupportedVIFVersion),
        ({"vif_min": "2.0", "vif_max": "2.1"},
         exception.NoSupportedVIFVersion),
        ({"profiles": (("VIFPortProfileOVSRepresentor", "1.0", "1.4"),)},
         exception.NoMatchingPortProfileClass),
        ({"profiles": (("VIFPortProfileOpenVSwitch", "2.0", "2.0"),)},
         exception.NoSupportedPortProfileVersion),
    ],
)
def test_why_not(vif, kwargs, error):
    with pytest.raises(error):
        serialization.negotiate(host(**kwargs), vif)
    with pytest.raises(error):
        serialization.dumps(vif, target=host(**kwargs))


def test_non_vif_objects_get_the_hosts_manifest():
    info = host()
    assert serialization.version_manifest(info) == {
        "VIFOpenVSwitch": "1.0",
        "VIFPortProfileOpenVSwitch": "1.3",
    }
    profile = wire_samples.build_sample(
        "VIFPortProfileOpenVSwitch", "populated"
    )
    assert serialization.to_compact(profile, info)["@version"] == "1.3"


def test_negotiate_wants_a_vif():
    with pytest.raises(exception.InvalidArgument):
        serialization.negotiate(host(), hi.HostInfo(plugin_info=[]))


@pytest.mark.parametrize(
    "target", ["1.2", {"VIFPortProfileOpenVSwitch": "1.2"}]
)
def test_version_and_manifest_targets(target):
    profile = wire_samples.build_sample(
        "VIFPortProfileOpenVSwitch", "populated"
    )
    prim = serialization.to_primitive(profile, target)
    assert prim["versioned_object.version"] == "1.2"
    assert "create_port" not in prim["versioned_object.data"]
    compact = serialization.to_compact(profile, target)
    assert compact["@version"] == "1.2" and "create_port" not in compact


@pytest.mark.parametrize("target", ["2.0", "x", 3, {"A": 1}])
def test_bad_targets(target):
    profile = wire_samples.build_sample("VIFPortProfileFPTap", "populated")
    with pytest.raises(exception.InvalidArgument):
        serialization.to_primitive(profile, target)
