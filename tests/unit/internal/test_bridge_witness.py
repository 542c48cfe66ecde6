"""Whether a bridge is unused: a port seen on it before answers without a
dump of its ports while it is still there (kernel.bridge.unused_bridge).

Links are made up: unit tests never touch the host.
"""

from __future__ import annotations

import pytest

from os_vif.internal import linkstate, ownership
from os_vif.internal.kernel import bridge


def link(name: str, index: int, master: int = 0, **fields) -> linkstate.Link:
    values = {
        "name": name,
        "index": index,
        "kind": "veth",
        "mtu": 1500,
        "mac": None,
        "up": True,
        "master_index": master,
        "alias": linkstate.OS_VIF_ALIAS,
        "vlan_id": None,
    }
    values.update(fields)
    return linkstate.Link(**values)


BRIDGE = link("br0", 5, kind="bridge")


@pytest.fixture
def host(monkeypatch):
    """Ports of br0 by index; counts the dumps of its ports."""
    bridge._WITNESS.clear()
    ports = {index: link("tap%d" % index, index, 5) for index in (10, 11, 12)}
    dumps = []

    def ports_of(index):
        dumps.append(index)
        return [port for port in ports.values() if port.master_index == index]

    def read_link(name=None, index=0):
        return ports.get(index)

    monkeypatch.setattr(linkstate, "ports_of", ports_of)
    monkeypatch.setattr(linkstate, "read_link", read_link)
    yield ports, dumps
    bridge._WITNESS.clear()


def _unused(leaving=()):
    return bridge.unused_bridge(
        ownership.Scope(created={}), BRIDGE, None, ("eth1",),
        lambda index: index in leaving,
    )


def test_a_used_bridge_is_dumped_once_while_its_newest_port_stays(host):
    ports, dumps = host
    assert _unused(leaving={10}) is None
    assert _unused(leaving={10, 11}) is None
    assert dumps == [5]
    # The witness leaves: the ports are dumped again, all leave: unused.
    assert _unused(leaving={10, 11, 12}) == [5]
    assert dumps == [5, 5]


def test_a_witness_gone_or_moved_is_not_believed(host):
    ports, dumps = host
    assert _unused() is None
    del ports[12]
    assert _unused() is None
    assert dumps == [5, 5]
    ports[11] = link("tap11", 11, master=0)
    del ports[10]
    assert _unused() == [5]
    assert dumps == [5, 5, 5]


def test_an_uplink_is_no_witness(host):
    ports, dumps = host
    ports.clear()
    ports[20] = link("eth1", 20, 5, alias=None)
    assert _unused() == [5]
    bridge._WITNESS[5] = 20
    assert _unused() == [5]


def test_the_witnesses_are_bounded(host, monkeypatch):
    monkeypatch.setattr(bridge, "_WITNESSES", 2)
    bridge._WITNESS.update({100: 1, 101: 2})
    assert _unused() is None
    assert bridge._WITNESS == {5: 12}
