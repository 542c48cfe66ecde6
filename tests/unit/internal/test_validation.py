"""Validators shared by both sides of the privsep boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from os_vif import exception
from os_vif.internal import validation


@pytest.mark.parametrize(
    "name", ["eth0", "a", "x" * 15, "br-int.100", "tap0a1b2c3d-4e", "é" * 7]
)
def test_good_interface_names(name):
    assert validation.interface_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "x" * 16, "é" * 8, ".", "..", "a/b", "a b", "a\tb", "a\nb", "a:b",
     "a\0b", None, 5, b"eth0", "tap%d", "a%b", "%",
     "\u00e0", "br-\u0120", "\ud800", "a\udcff"],
)
def test_bad_interface_names(name):
    with pytest.raises(exception.InvalidArgument) as caught:
        validation.interface_name(name, "vif.vif_name")
    assert caught.value.kwargs["field"] == "vif.vif_name"
    assert caught.value.kwargs["value"] == name
    assert "vif.vif_name" in str(caught.value)


@given(st.text(min_size=1, max_size=20))
def test_interface_name_never_allows_path_tricks(name):
    try:
        checked = validation.interface_name(name)
    except exception.InvalidArgument:
        return
    assert "/" not in checked and checked not in (".", "..")
    assert 1 <= len(checked.encode()) <= 15
    assert not any(c.isspace() for c in checked)
    # The kernel makes "x%d" as x0, x1...: never the name asked for.
    assert "%" not in checked


@pytest.mark.parametrize("value", [68, 1500, 9000, 65535])
def test_good_mtu(value):
    assert validation.mtu(value) == value


@pytest.mark.parametrize("value", [67, 0, -1, 65536, "1500", 1500.0, True])
def test_bad_mtu(value):
    with pytest.raises(exception.InvalidArgument):
        validation.mtu(value, "network.mtu")


def test_optional_values():
    assert validation.optional_mtu(None) is None
    assert validation.optional_interface_name(None) is None
    assert validation.optional_mac_address(None) is None
    assert validation.optional_boolean(None, "up") is None


def test_mac_is_normalised():
    assert validation.mac_address("52:54:00:AB:CD:EF") == "52:54:00:ab:cd:ef"


@pytest.mark.parametrize(
    "mac", ["52:54:00:ab:cd", "52-54-00-ab-cd-ef", "zz:54:00:ab:cd:ef",
            "01:00:5e:00:00:01", 5, "52:54:00:ab:cd:ef\n"]
)
def test_bad_mac(mac):
    with pytest.raises(exception.InvalidArgument):
        validation.mac_address(mac)


def test_pci():
    assert validation.pci_address("0000:81:00.1") == "0000:81:00.1"
    for bad in ("0000:81:00.8", "81:00.1", "0000:81:00", "0000:81:20.1", 1,
                "0000:81:00.1\n"):
        with pytest.raises(exception.InvalidArgument):
            validation.pci_address(bad)


@pytest.mark.parametrize("value", [0, 1, 4094, 4095])
def test_good_vlan(value):
    assert validation.vlan_id(value) == value


@pytest.mark.parametrize("value", [-1, 4096, "10", None, False])
def test_bad_vlan(value):
    with pytest.raises(exception.InvalidArgument):
        validation.vlan_id(value, "network.vlan")


def test_boolean_is_strict():
    assert validation.boolean(True, "up") is True
    for bad in (1, 0, "true", None):
        with pytest.raises(exception.InvalidArgument):
            validation.boolean(bad, "up")


def test_one_of_is_type_strict():
    assert validation.one_of(1, (0, 1), "x") == 1
    with pytest.raises(exception.InvalidArgument):
        validation.one_of(True, (0, 1), "x")
    with pytest.raises(exception.InvalidArgument):
        validation.one_of("2", (0, 1), "x")


@pytest.mark.parametrize(
    "ref", ["ns1", "cni-1234-abcd", "/proc/42/ns/net", "/run/netns/ns1",
            "/var/run/netns/x", "/proc/1/task/2/ns/net"]
)
def test_good_netns(ref):
    assert validation.netns_reference(ref) == ref


@pytest.mark.parametrize(
    "ref", ["", "..", "a/b", "/etc/passwd", "/run/netns/../x",
            "/run/netns/..", "/run/netns/.",
            "/proc/self/ns/net", "/proc/1/ns/mnt", 3]
)
def test_bad_netns(ref):
    with pytest.raises(exception.InvalidArgument):
        validation.netns_reference(ref)


def test_interface_names_name_the_bad_item():
    names = validation.interface_names(("br0", "eth1"), "uplinks")
    assert names == ["br0", "eth1"]
    with pytest.raises(exception.InvalidArgument) as caught:
        validation.interface_names(["br0", "a/b"], "uplinks")
    assert caught.value.kwargs["field"] == "uplinks[1]"
    with pytest.raises(exception.InvalidArgument) as caught:
        validation.interface_names("br0", "uplinks")
    assert caught.value.kwargs["field"] == "uplinks"


def test_patterns_are_the_decoders():
    # One pattern each for MAC and PCI addresses: the validators and the
    # JSON decoder read the same objects.
    from os_vif._serialization import decode
    from os_vif.objects import formats

    assert validation._MAC_RE is formats.MAC_ADDRESS is decode._MAC
    assert validation._PCI_RE is formats.PCI_ADDRESS is decode._PCI
