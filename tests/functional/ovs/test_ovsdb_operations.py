"""os_vif's OVSDB operations against a real ovsdb-server and ovs-vswitchd.

What the plugin tests do not pin down directly, through what os_vif runs:
the operations of :mod:`os_vif.internal.ovsdb.operations`, checked against
the IDL cache and committed by the plan runner (one transaction per
batch) or by :meth:`OvsdbClient.start`.  One transaction for a bridge and
its ports; the cache check that makes a re-plug free and that must still
see changes made by others (ovs-vsctl here); the wiring snapshot, kept
across unrelated updates and dropped by a rewiring; removal from crowded
bridges with a fresh or a stale snapshot, with patch ports, QoS rows and
undo; and the ownership refusals on the way.

The plans here hold only OVSDB operations, so the runner never calls the
privsep daemon; every row is read back with ovs-vsctl (``ovsdb_rows``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from os_vif import exception
from os_vif.internal.operation import Problem
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.ovsdb import connection, model
from os_vif.internal.ovsdb import operations as ops
from os_vif.internal.unprivileged import runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

MAC = "fa:16:3e:00:00:01"
IDS = {"iface-id": "id-1", "attached-mac": MAC}


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


def _bridge(name: str, **extra: Any) -> ops.EnsureOvsBridge:
    return ops.EnsureOvsBridge(name=name, **extra)


def _port(name: str, bridge: str = "br-t", **extra: Any) -> ops.EnsureOvsPort:
    # Each port is its own VIF's unless told otherwise.
    extra.setdefault(
        "external_ids", {"iface-id": "id-" + name, "attached-mac": MAC}
    )
    return ops.EnsureOvsPort(name=name, bridge=bridge, **extra)


def _removal(name: str, **extra: Any) -> ops.RemoveOvsPort:
    extra.setdefault("iface_id", "id-" + name)
    return ops.RemoveOvsPort(name=name, **extra)


def _run(client: ovsdb_client.OvsdbClient, *steps: Any) -> None:
    """Check, admit and commit ``steps`` as the plugins' plans are."""
    runner.OVS.run(Plan(list(steps), label="test"), client)


def _problems(client: ovsdb_client.OvsdbClient, *steps: Any) -> list[Any]:
    return runner.OVS.check(Plan(list(steps)), client)


def _uuid(ovs: OvsServer, table: str, name: str) -> str:
    row = ovsdb_rows.row(ovs, table, name)
    assert row is not None
    return str(row["_uuid"])


def _fresh_wiring(client: ovsdb_client.OvsdbClient) -> Any:
    api = client.api
    with api.ovsdb_connection.lock:
        return ovsdb_client.fresh_wiring(api)


def test_bridge_and_port_made_in_one_transaction(client, ovs) -> None:
    bridge = _bridge("br-t", datapath_type="netdev")
    port = _port("p1", external_ids=IDS, mtu_request=1400)
    before = ovsdb_rows.next_cfg(ovs)
    assert _problems(client, bridge, port) == [
        Problem("bridge br-t", "exists", True, False),
        Problem("port p1", "exists", True, False),
    ]
    _run(client, bridge, port)
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p1"]
    own = ovsdb_rows.row(ovs, "Interface", "br-t")
    assert own is not None and own["type"] == "internal"
    assert ovsdb_rows.row(ovs, "Bridge", "br-t")["datapath_type"] == "netdev"
    iface = ovsdb_rows.row(ovs, "Interface", "p1")
    assert iface is not None
    assert iface["external_ids"] == IDS and iface["mtu_request"] == 1400

    # Again: the cache says nothing differs; nothing is sent.
    assert _problems(client, bridge, port) == []
    _run(client, bridge, port)
    assert ovsdb_rows.next_cfg(ovs) == before + 1


def test_bridge_of_another_datapath_is_refused(client, ovs) -> None:
    _run(client, _bridge("br-t", datapath_type="netdev"), _port("p1"))
    before = ovsdb_rows.next_cfg(ovs)
    with pytest.raises(exception.HostOperationRefused, match="netdev"):
        _run(client, _bridge("br-t", datapath_type="system"), _port("p2"))
    assert ovsdb_rows.next_cfg(ovs) == before
    assert ovsdb_rows.row(ovs, "Bridge", "br-t")["datapath_type"] == "netdev"
    assert ovsdb_rows.row(ovs, "Port", "p2") is None


def test_port_moved_by_someone_else_is_seen_and_moved_back(
    client, ovs
) -> None:
    port = _port("p1", external_ids=IDS)
    _run(client, _bridge("br-t"), port)
    _run(client, _bridge("br-other"))
    assert _problems(client, port) == []  # warms the cache
    # The same Port row, moved: only the bridges' port sets change.
    uuid = _uuid(ovs, "Port", "p1")
    ovs.vsctl(
        "remove",
        "Bridge",
        "br-t",
        "ports",
        uuid,
        "--",
        "add",
        "Bridge",
        "br-other",
        "ports",
        uuid,
    )
    moved = [Problem("port p1", "bridge", "br-t", "br-other")]
    _eventually(lambda: _problems(client, port) == moved)
    _run(client, port)
    assert ovsdb_rows.port_bridge(ovs, "p1") == "br-t"
    assert _uuid(ovs, "Port", "p1") == uuid
    assert ovsdb_rows.bridge_ports(ovs, "br-other") == ["br-other"]
    assert _problems(client, port) == []


def test_columns_changed_by_someone_else_are_repaired(client, ovs) -> None:
    port = _port("p1", external_ids=IDS, options={"k": "v"}, mtu_request=1400)
    _run(client, _bridge("br-t"), port)
    ovs.vsctl(
        "set",
        "Interface",
        "p1",
        "options:k=w",
        "external_ids:agent=kept",
        "mtu_request=1500",
    )
    _eventually(lambda: _problems(client, port))
    assert _problems(client, port) == [
        Problem("port p1", "options:k", "v", "w"),
        Problem("port p1", "mtu_request", 1400, 1500),
    ]
    _run(client, port)
    iface = ovsdb_rows.row(ovs, "Interface", "p1")
    assert iface is not None
    # What os_vif sets is back; what the agent added stays.
    assert iface["external_ids"] == dict(IDS, agent="kept")
    assert iface["options"] == {"k": "v"} and iface["mtu_request"] == 1400


def test_port_given_to_another_vif_is_refused_not_repaired(
    client, ovs
) -> None:
    port = _port("p1", external_ids=IDS, mtu_request=1400)
    _run(client, _bridge("br-t"), port)
    ovs.vsctl(
        "set",
        "Interface",
        "p1",
        "external_ids:iface-id=other",
        "mtu_request=1500",
    )
    _eventually(lambda: _problems(client, port))
    before = ovsdb_rows.next_cfg(ovs)
    with pytest.raises(exception.HostOperationRefused, match="other"):
        _run(client, port)
    # Nor removed by this VIF's unplug.
    with pytest.raises(exception.HostOperationRefused, match="other"):
        _run(client, _removal("p1", iface_id="id-1"))
    assert ovsdb_rows.next_cfg(ovs) == before
    iface = ovsdb_rows.row(ovs, "Interface", "p1")
    assert iface is not None
    assert iface["external_ids"]["iface-id"] == "other"
    assert iface["mtu_request"] == 1500


def test_new_port_seen_after_the_cache_was_read(client, ovs) -> None:
    p1 = _port("p1", external_ids={})
    _run(client, _bridge("br-t"), p1)
    assert _problems(client, p1) == []
    ovs.vsctl("add-port", "br-t", "p2")
    p2 = _port("p2", external_ids={})
    _eventually(lambda: _problems(client, p2) == [])
    assert _problems(client, p1) == []


@pytest.mark.parametrize("cache", ["fresh", "stale"])
def test_remove_one_port_of_many(client, ovs, cache) -> None:
    ports = [_port("p%d" % n) for n in range(30)]
    _run(client, _bridge("br-t"), _bridge("br-2"), *ports)
    _run(client, _port("q1", bridge="br-2"))
    assert _problems(client, ports[7]) == []  # builds the wiring snapshot
    if cache == "stale":
        # A change the snapshot does not know yet (waited for by a check
        # that only looks rows up, which does not rebuild it): the removal
        # goes on without it.
        ovs.vsctl("add-port", "br-2", "q2")
        _eventually(lambda: _problems(client, _removal("q2")))
    assert (_fresh_wiring(client) is not None) is (cache == "fresh")
    _run(client, _removal("p7"))
    assert ovsdb_rows.row(ovs, "Port", "p7") is None
    assert ovsdb_rows.row(ovs, "Interface", "p7") is None
    assert len(ovsdb_rows.bridge_ports(ovs, "br-t")) == 30
    assert "q1" in ovsdb_rows.bridge_ports(ovs, "br-2")
    # Again: nothing left to remove, nothing sent.
    assert _problems(client, _removal("p7")) == []
    before = ovsdb_rows.next_cfg(ovs)
    _run(client, _removal("p7"))
    assert ovsdb_rows.next_cfg(ovs) == before


def test_bridge_removed_only_when_unused(client, ovs) -> None:
    _run(client, _bridge("br-t"), _port("p1"), _port("p2"))
    ovs.vsctl(
        "add-port",
        "br-t",
        "patch-x",
        "--",
        "set",
        "Interface",
        "patch-x",
        "type=patch",
        "options:peer=patch-y",
    )
    _run(client, _removal("p1", remove_bridge_if_unused=True))
    # p2 still uses it.
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p2", "patch-x"]
    _run(client, _removal("p2", remove_bridge_if_unused=True))
    # Its own port and a patch port are plumbing, not users.
    assert "br-t" not in ovs.bridges()
    assert ovsdb_rows.row(ovs, "Port", "patch-x") is None


def test_qos_row_made_and_removed_with_its_port(client, ovs) -> None:
    _run(client, _bridge("br-t"), _port("p1", qos_type="linux-noop"))
    qos = ovsdb_rows.rows(ovs, "QoS")
    # os-vif 5.x's identity: either release deletes the row.
    assert [q["external_ids"] for q in qos] == [
        model.qos_external_ids("p1", "linux-noop")
    ]
    _run(client, _removal("p1"))
    assert ovsdb_rows.rows(ovs, "QoS") == []


def test_ports_of_vif_and_a_bridge_deleted_once_unused(client, ovs) -> None:
    other = dict(IDS, **{"iface-id": "id-2"})
    _run(
        client,
        _bridge("br-t"),
        _port("p1", external_ids=IDS),
        _port("p2", external_ids=IDS),
        _port("p3", external_ids=other),
    )
    of_vif = ops.RemoveOvsPortsOfVif(name="id-1", mac=MAC)
    api = client.api
    with api.ovsdb_connection.lock:
        assert of_vif.ports(api) == ["p1", "p2"]
    # Another VIF's port stays, and so does the bridge it uses.
    _run(client, of_vif, ops.DeleteOvsBridge(name="br-t"))
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p3"]
    assert _problems(client, of_vif) == []
    with pytest.raises(exception.HostOperationRefused, match="id-2"):
        _run(client, _removal("p3", iface_id="id-1"))
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p3"]
    # Its own VIF's unplug takes the port; the bridge, unused, goes too.
    _run(
        client,
        _removal("p3", iface_id="id-2"),
        ops.DeleteOvsBridge(name="br-t"),
    )
    assert ovs.bridges() == []
    assert _problems(client, ops.DeleteOvsBridge(name="br-t")) == []


def test_remove_without_raw_operations(client, ovs, monkeypatch) -> None:
    # A python-ovs without Transaction.add_op: the bridge is looked up.
    from ovs.db import idl

    _run(client, _bridge("br-t"), _port("p1"), _port("p2"))
    monkeypatch.delattr(idl.Transaction, "add_op")
    _run(client, _removal("p1"))
    assert ovsdb_rows.bridge_ports(ovs, "br-t") == ["br-t", "p2"]
    assert ovsdb_rows.row(ovs, "Interface", "p1") is None


def test_wiring_kept_until_a_port_is_rewired(client, ovs) -> None:
    p1 = _port("p1", external_ids={})
    _run(client, _bridge("br-t"), p1)
    assert _problems(client, p1) == []  # builds the wiring snapshot
    api = client.api

    def external_id(name: str) -> str | None:
        with api.ovsdb_connection.lock:
            iface = ovsdb_client.lookup(api, "Interface", name)
            return iface.external_ids.get("x") if iface else None

    built = _fresh_wiring(client)
    assert built is not None
    # Updates that cannot move a port (an interface's column, ovs-vswitchd
    # reporting cur_cfg) keep the snapshot.
    ovs.vsctl("set", "Interface", "p1", "external_ids:x=y")
    _eventually(lambda: external_id("p1") == "y")
    assert _fresh_wiring(client) is built
    # A bridge's ports changing drops it; the next check builds a new one.
    ovs.vsctl("add-port", "br-t", "p2")
    _eventually(lambda: _fresh_wiring(client) is None)
    assert _problems(client, _port("p2", external_ids={})) == []
    rebuilt = _fresh_wiring(client)
    assert rebuilt is not None and rebuilt is not built


def test_bridge_removed_with_its_last_ports_in_one_transaction(
    client, ovs
) -> None:
    _run(
        client,
        _bridge("br-t"),
        _bridge("br-int"),
        _port("p1"),
        _port("p2"),
        _port("other", bridge="br-int"),
    )
    assert _problems(client, _port("p1")) == []  # a fresh wiring snapshot
    before = ovsdb_rows.next_cfg(ovs)
    # Two VIFs' plans in one batch: one transaction, whose removals count
    # together -- neither port alone leaves the bridge unused.
    results = runner.OVS.run_many(
        [
            Plan([_removal("p1", remove_bridge_if_unused=True)], label="a"),
            Plan([_removal("p2", remove_bridge_if_unused=True)], label="b"),
        ],
        client,
    )
    assert [r.error for r in results] == [None, None]
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    assert ovs.bridges() == ["br-int"]
    assert ovsdb_rows.row(ovs, "Port", "p2") is None
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int", "other"]
