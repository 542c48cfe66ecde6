"""os_vif's OVSDB client against a real ovsdb-server and ovs-vswitchd.

What the plugin tests do not pin down directly: one transaction for a
bridge and its ports, the IDL-cache check that makes a re-plug free and
that must still see changes made by others (ovs-vsctl here), and removal
from crowded bridges, with patch ports, QoS rows and undo.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.ovsdb import connection, model
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

IDS = {"iface-id": "id-1", "attached-mac": "fa:16:3e:00:00:01"}


@pytest.fixture
def client(ovs: OvsServer) -> Iterator[ovsdb_client.OvsdbClient]:
    try:
        yield ovsdb_client.OvsdbClient(ovs.connection, 20)
    finally:
        connection.close_all()


def _eventually(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until the IDL has received a change made by someone else."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the IDL never saw the change"
        time.sleep(0.02)


def _port(name: str, bridge: str = "br-t", **extra: Any) -> model.Port:
    return model.Port(name=name, bridge=bridge, **extra)


def _uuid(ovs: OvsServer, table: str, name: str) -> str:
    row = ovsdb_rows.row(ovs, table, name)
    assert row is not None
    return str(row["_uuid"])


def test_bridge_and_port_made_in_one_transaction(client, ovs) -> None:
    bridge = model.Bridge("br-t", datapath_type="netdev")
    port = _port("p1", external_ids=IDS, mtu_request=1400)
    before = ovsdb_rows.next_cfg(ovs)
    assert client.ensure([bridge], [port]) is True
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p1"]
    own = ovsdb_rows.row(ovs, "Interface", "br-t")
    assert own is not None and own["type"] == "internal"
    assert ovsdb_rows.row(ovs, "Bridge", "br-t")["datapath_type"] == "netdev"
    iface = ovsdb_rows.row(ovs, "Interface", "p1")
    assert iface is not None
    assert iface["external_ids"] == IDS and iface["mtu_request"] == 1400

    # Again: the cache says nothing differs; nothing is sent.
    assert client.ensure_needed([bridge], [port]) is False
    assert client.ensure([bridge], [port]) is False
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    assert client.port_bridge("p1") == "br-t"
    assert client.existing([bridge], [port]) == ({"br-t"}, {"p1"})


def test_port_moved_by_someone_else_is_seen_and_moved_back(
    client, ovs
) -> None:
    port = _port("p1", external_ids=IDS)
    client.ensure([model.Bridge("br-t")], [port])
    client.ensure([model.Bridge("br-other")], [])
    assert client.ensure_needed([], [port]) is False  # warms the cache
    # The same Port row, moved: only the bridges' port sets change.
    uuid = _uuid(ovs, "Port", "p1")
    ovs.vsctl(
        "remove", "Bridge", "br-t", "ports", uuid,
        "--", "add", "Bridge", "br-other", "ports", uuid,
    )
    _eventually(lambda: client.port_bridge("p1") == "br-other")
    assert client.ensure_needed([], [port]) is True
    assert client.ensure([], [port]) is True
    assert ovsdb_rows.port_bridge(ovs, "p1") == "br-t"
    assert _uuid(ovs, "Port", "p1") == uuid
    assert ovsdb_rows.bridge_ports(ovs, "br-other") == ["br-other"]
    assert client.ensure_needed([], [port]) is False


def test_columns_changed_by_someone_else_are_repaired(client, ovs) -> None:
    port = _port("p1", external_ids=IDS, options={"k": "v"}, mtu_request=1400)
    client.ensure([model.Bridge("br-t")], [port])
    ovs.vsctl(
        "set", "Interface", "p1", "external_ids:iface-id=other",
        "external_ids:agent=kept", "mtu_request=1500",
    )
    _eventually(lambda: client.ensure_needed([], [port]))
    assert client.ensure([], [port]) is True
    iface = ovsdb_rows.row(ovs, "Interface", "p1")
    assert iface is not None
    # What os_vif sets is back; what the agent added stays.
    assert iface["external_ids"] == dict(IDS, agent="kept")
    assert iface["options"] == {"k": "v"} and iface["mtu_request"] == 1400


def test_new_port_seen_after_the_cache_was_read(client, ovs) -> None:
    client.ensure([model.Bridge("br-t")], [_port("p1")])
    assert client.port_bridge("p1") == "br-t"
    ovs.vsctl("add-port", "br-t", "p2")
    _eventually(lambda: client.port_bridge("p2") == "br-t")
    assert client.port_bridge("p1") == "br-t"


@pytest.mark.parametrize("cache", ["fresh", "stale"])
def test_remove_one_port_of_many(client, ovs, cache) -> None:
    ports = [_port("p%d" % n) for n in range(30)]
    client.ensure([model.Bridge("br-t"), model.Bridge("br-2")], ports)
    client.ensure([], [_port("q1", bridge="br-2")])
    assert client.port_bridge("p7") == "br-t"  # builds the wiring snapshot
    if cache == "stale":
        # A change the map does not know yet (waited for by a lookup that
        # does not rebuild it): the removal searches the bridges instead.
        ovs.vsctl("add-port", "br-2", "q2")
        _eventually(lambda: client.removal_needed([model.PortRemoval("q2")]))
    api = client.api
    with api.ovsdb_connection.lock:
        fresh = ovsdb_client.fresh_wiring(api) is not None
    assert fresh is (cache == "fresh")
    assert client.remove([model.PortRemoval("p7")]) is True
    assert ovsdb_rows.row(ovs, "Port", "p7") is None
    assert ovsdb_rows.row(ovs, "Interface", "p7") is None
    assert len(ovsdb_rows.bridge_ports(ovs, "br-t")) == 30
    assert "q1" in ovsdb_rows.bridge_ports(ovs, "br-2")
    assert client.remove([model.PortRemoval("p7")]) is False
    assert client.removal_needed([model.PortRemoval("p7")]) is False


def test_bridge_removed_only_when_unused(client, ovs) -> None:
    client.ensure([model.Bridge("br-t")], [_port("p1"), _port("p2")])
    ovs.vsctl(
        "add-port", "br-t", "patch-x",
        "--", "set", "Interface", "patch-x", "type=patch",
        "options:peer=patch-y",
    )
    removal = model.PortRemoval("p1", remove_bridge_if_unused=True)
    assert client.remove([removal]) is True
    # p2 still uses it.
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p2", "patch-x"]
    removal = model.PortRemoval("p2", remove_bridge_if_unused=True)
    assert client.remove([removal]) is True
    # Its own port and a patch port are plumbing, not users.
    assert "br-t" not in ovs.bridges()
    assert ovsdb_rows.row(ovs, "Port", "patch-x") is None


def test_qos_row_made_and_removed_with_its_port(client, ovs) -> None:
    client.ensure([model.Bridge("br-t")], [_port("p1", qos_type="linux-noop")])
    qos = ovsdb_rows.rows(ovs, "QoS")
    assert [q["external_ids"]["id"] for q in qos] == ["p1"]
    assert client.remove([model.PortRemoval("p1")]) is True
    assert ovsdb_rows.rows(ovs, "QoS") == []


def test_undo_removes_only_what_ensure_made(client, ovs) -> None:
    client.ensure([model.Bridge("br-t")], [_port("old")])
    bridges = [model.Bridge("br-t"), model.Bridge("br-new")]
    ports = [_port("old"), _port("new"), _port("other", bridge="br-new")]
    existed = client.existing(bridges, ports)
    assert existed == ({"br-t"}, {"old"})
    assert client.ensure(bridges, ports) is True
    client.undo_ensure(bridges, ports, existed)
    assert ovs.bridges() == ["br-t"]
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "old"]
    assert ovsdb_rows.row(ovs, "Port", "new") is None


def test_ports_of_vif_and_remove_bridge(client, ovs) -> None:
    other = dict(IDS, **{"iface-id": "id-2"})
    client.ensure(
        [model.Bridge("br-t")],
        [
            _port("p1", external_ids=IDS),
            _port("p2", external_ids=IDS),
            _port("p3", external_ids=other),
        ],
    )
    assert client.ports_of_vif("id-1", IDS["attached-mac"]) == ["p1", "p2"]
    assert client.remove_bridge("br-t") is True
    assert ovs.bridges() == []
    assert client.ports_of_vif("id-1", IDS["attached-mac"]) == []
    assert client.remove_bridge("br-t") is False


def test_remove_without_raw_operations(client, ovs, monkeypatch) -> None:
    # A python-ovs without Transaction.add_op: the bridge is looked up.
    from ovs.db import idl

    client.ensure([model.Bridge("br-t")], [_port("p1"), _port("p2")])
    monkeypatch.delattr(idl.Transaction, "add_op")
    assert client.remove([model.PortRemoval("p1")]) is True
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p2"]
    assert ovsdb_rows.row(ovs, "Interface", "p1") is None


def test_wiring_kept_until_a_port_is_rewired(client, ovs) -> None:
    client.ensure([model.Bridge("br-t")], [_port("p1")])
    assert client.port_bridge("p1") == "br-t"  # builds the wiring snapshot
    api = client.api

    def port_map() -> Any:
        with api.ovsdb_connection.lock:
            return ovsdb_client.fresh_wiring(api)

    def external_id(name: str) -> str | None:
        with api.ovsdb_connection.lock:
            iface = ovsdb_client.lookup(api, "Interface", name)
            return iface.external_ids.get("x") if iface else None

    built = port_map()
    assert built is not None
    # Updates that cannot move a port (an interface's column, ovs-vswitchd
    # reporting cur_cfg) keep the map.
    ovs.vsctl("set", "Interface", "p1", "external_ids:x=y")
    _eventually(lambda: external_id("p1") == "y")
    assert port_map() is built
    # A bridge's ports changing drops it.
    ovs.vsctl("add-port", "br-t", "p2")
    _eventually(lambda: port_map() is None)
    assert client.port_bridge("p2") == "br-t"


def test_bridge_removed_with_its_last_ports_in_one_transaction(
    client, ovs
) -> None:
    client.ensure(
        [model.Bridge("br-t"), model.Bridge("br-int")],
        [_port("p1"), _port("p2"), _port("other", bridge="br-int")],
    )
    assert client.port_bridge("p1") == "br-t"  # a fresh wiring snapshot
    before = ovsdb_rows.next_cfg(ovs)
    assert client.remove(
        [
            model.PortRemoval("p1", remove_bridge_if_unused=True),
            model.PortRemoval("p2", remove_bridge_if_unused=True),
        ]
    )
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    assert ovs.bridges() == ["br-int"]
    assert ovsdb_rows.row(ovs, "Port", "p2") is None
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int", "other"]
