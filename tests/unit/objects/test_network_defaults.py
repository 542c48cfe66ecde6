"""A Network loaded from an older primitive reads as os-vif 5.x reads it.

The expected values are what os-vif 5.3.0 gives for the same primitives
(checked by loading them in its isolated venv): ``mtu`` None, no subnets,
``multi_host`` and ``should_provide_*`` False, all of them ``in`` the
network; ``bridge_interface`` and ``vlan`` stay unset.
"""

from __future__ import annotations

import copy

import pytest

from os_vif import objects, serialization
from os_vif.objects import network

objects.register_all()

NAME = "versioned_object.name"
DATA = "versioned_object.data"
VERSION = "versioned_object.version"

NET_ID = "f0000000-0000-4000-8000-000000000001"


def primitive(version: str, **data: object) -> dict:
    """A Network primitive with only ``id``, ``bridge``, ``label`` and
    ``data``, as an older sender wrote it."""
    return {
        NAME: "Network",
        "versioned_object.namespace": "os_vif",
        VERSION: version,
        DATA: {"id": NET_ID, "bridge": "br0", "label": "net", **data},
    }


LOADERS = {
    "oslo": network.Network.obj_from_primitive,
    "os_vif.serialization": serialization.from_primitive,
}


@pytest.fixture(params=sorted(LOADERS))
def load(request):
    return LOADERS[request.param]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_unsent_fields_read_as_five_x_defaults(load, version):
    net = load(primitive(version))
    assert net.mtu is None
    assert list(net.subnets) == []
    assert net.subnets.obj_name() == "SubnetList"
    assert net.multi_host is False
    assert net.should_provide_bridge is False
    assert net.should_provide_vlan is False
    # nova and the plugins ask "'mtu' in network"; 5.x says yes.
    for name in (
        "mtu",
        "subnets",
        "multi_host",
        "should_provide_bridge",
        "should_provide_vlan",
    ):
        assert name in net


def test_fields_without_a_default_stay_unset(load):
    net = load(primitive("1.0"))
    assert "vlan" not in net
    assert "bridge_interface" not in net
    with pytest.raises(NotImplementedError):
        net.vlan  # noqa: B018 - the read is the test


def test_the_object_keeps_only_what_it_was_sent(load):
    stored = primitive("1.0")
    net = load(copy.deepcopy(stored))
    assert not net.obj_attr_is_set("mtu")
    assert not net.obj_attr_is_set("subnets")
    net.mtu  # noqa: B018 - a read must not make the field set
    net.subnets  # noqa: B018
    assert not net.obj_attr_is_set("mtu")
    assert net.obj_what_changed() == set()
    assert net.obj_to_primitive() == stored
    assert serialization.to_primitive(net) == stored


def test_sent_values_win(load):
    net = load(primitive("1.1", mtu=9000, multi_host=True))
    assert net.mtu == 9000
    assert net.multi_host is True
    assert net.obj_attr_is_set("mtu")
    assert net.should_provide_vlan is False


def test_a_default_then_set_is_written(load):
    net = load(primitive("1.1"))
    net.mtu = 1450
    assert net.obj_to_primitive()[DATA]["mtu"] == 1450
    assert "mtu" in net.obj_what_changed()


def test_constructed_network_is_unchanged():
    net = network.Network(id=NET_ID)
    assert net.obj_attr_is_set("mtu") and net.mtu is None
    assert net.obj_attr_is_set("subnets")
    data = net.obj_to_primitive()[DATA]
    assert data["mtu"] is None
    assert data["multi_host"] is False
    assert "mtu" in net
    assert "label" not in net  # not given, no default


def test_plugins_read_the_default_mtu(load):
    from os_vif.plugins import rules

    class Config:
        network_device_mtu = 1500

    class Vif:
        fields = {"network": None}

        def __init__(self, net):
            self.network = net

        def obj_attr_is_set(self, name):
            return True

    net = load(primitive("1.0"))
    assert rules.mtu(Vif(net), Config()) == 1500
