"""check, re-plug and gc of the ovs plugin on a real kernel and switch.

Each scenario breaks the host the way operators find it broken (a device
deleted by hand, a port removed, an MTU changed, a reboot, a client
killed mid-plug) and asserts that ``os_vif.check`` names exactly what is
wrong, that a re-plug repairs it, and that ``os_vif.gc`` removes exactly
what no kept VIF needs -- never host devices or other owners' ports.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import host_state
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.unprivileged import daemon
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE


def _links() -> dict[str, Any]:
    with IPRoute() as ipr:
        return {link.get("ifname"): link for link in ipr.get_links()}


def _problems(plugin: Any, vif: Any) -> set[tuple[str, str]]:
    report = plugin.check(vif, INSTANCE)
    assert report.supported and report.error is None
    return {(p.object, p.what) for p in report.problems}


def _delete(name: str) -> None:
    with IPRoute() as ipr:
        ipr.link("del", index=ipr.link_lookup(ifname=name)[0])


def test_deleted_qvb_is_named_and_replug_repairs(ovs_plugin, ovs) -> None:
    vif = vifs.hybrid_vif(0)
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok

    _delete(qvb)  # its peer qvo goes with it; the OVS port stays

    found = _problems(ovs_plugin, vif)
    # The empty bridge fell back to the kernel's default MTU.
    assert found == {
        ("device %s" % qvb, "exists"),
        ("device %s" % qvo, "exists"),
        ("device %s" % qbr, "mtu"),
    }
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok
    assert _links()[qvb].get_attr("IFLA_MASTER") == (_links()[qbr]["index"])


def test_removed_port_is_named_and_replug_repairs(ovs_plugin, ovs) -> None:
    vif = vifs.ovs_vif(1)
    ovs_plugin.plug(vif, INSTANCE)
    ovs.vsctl("del-port", "br-int", vif.vif_name)

    def port_gone() -> bool:
        return ("port %s" % vif.vif_name, "exists") in _problems(
            ovs_plugin, vif
        )

    _wait(port_gone)
    assert {o for o, _ in _problems(ovs_plugin, vif)} == {
        "port %s" % vif.vif_name
    }
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok
    assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"


def test_changed_mtu_is_named_and_replug_repairs(ovs_plugin, ovs) -> None:
    # ovs-vswitchd puts a port's MTU back (mtu_request): change the
    # hybrid bridge's side of the veth, which only the kernel holds.
    vif = vifs.hybrid_vif(2)
    _qbr, qvb, _qvo = naming.hybrid_names(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    with IPRoute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname=qvb)[0], mtu=1300)
    report = ovs_plugin.check(vif, INSTANCE)
    # A bridge takes the MTU of its one port: both are named.
    assert {
        (p.object, p.what, p.expected, p.found) for p in report.problems
    } == {
        ("device %s" % qvb, "mtu", 1450, 1300),
        ("device %s" % _qbr, "mtu", 1450, 1300),
    }
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok


def test_interface_columns_changed_by_hand_are_named(ovs_plugin, ovs) -> None:
    # The check reads Interface columns from the connection's copy, kept
    # by the updates ovsdb-server sends: a change made by someone else,
    # and a row deleted and made again under the same name, must show.
    vif = vifs.ovs_vif(7)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok
    name = vif.vif_name
    ovs.vsctl("set", "Interface", name, "external_ids:iface-id=someone-else")
    # (mtu_request is no column the plug keeps for a tap: its MTU is set
    # through netlink, as os-vif 5.3.0 sets it.)
    ovs.vsctl("remove", "Interface", name, "external_ids", "vm-uuid")

    def changed() -> bool:
        return ("port %s" % name, "external_ids:vm-uuid") in _problems(
            ovs_plugin, vif
        )

    _wait(changed)
    report = ovs_plugin.check(vif, INSTANCE)
    assert {(p.what, p.found) for p in report.problems} == {
        ("external_ids:iface-id", "someone-else"),
        ("external_ids:vm-uuid", None),
    }
    ovs.vsctl("--", "del-port", name, "--", "add-port", "br-int", name)

    def remade() -> bool:
        return _problems(ovs_plugin, vif) == {
            ("port %s" % name, "external_ids:iface-id"),
            ("port %s" % name, "external_ids:iface-status"),
            ("port %s" % name, "external_ids:attached-mac"),
            ("port %s" % name, "external_ids:vm-uuid"),
        }

    _wait(remade)
    # A port of that name with no identity is not os_vif's to take over.
    ovs.vsctl("del-port", name)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok


def test_plug_of_an_ok_vif_changes_nothing(
    ovs_plugin, ovs, monkeypatch
) -> None:
    hybrid, plain = vifs.hybrid_vif(3), vifs.ovs_vif(4)
    for vif in (hybrid, plain):
        ovs_plugin.plug(vif, INSTANCE)
    assert all(
        r.ok
        for r in ovs_plugin.check_many([(hybrid, INSTANCE), (plain, INSTANCE)])
    )
    cfg = ovsdb_rows.next_cfg(ovs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a re-plug of a VIF that is ok changed the host")

    monkeypatch.setattr(daemon, "call", refuse)
    monkeypatch.setattr(ovsdb_client.OvsdbClient, "start", refuse)
    for vif in (hybrid, plain):
        ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == cfg


def test_reboot_devices_gone_ovsdb_kept(ovs_plugin, ovs) -> None:
    hybrid, plain = vifs.hybrid_vif(5), vifs.ovs_vif(6)
    pairs = [(hybrid, INSTANCE), (plain, INSTANCE)]
    for vif, _ in pairs:
        ovs_plugin.plug(vif, INSTANCE)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    for name in (qbr, qvb, plain.vif_name):
        _delete(name)

    reports = ovs_plugin.check_many(pairs)
    assert ("device %s" % qbr, "exists") in {
        (p.object, p.what) for p in reports[0].problems
    }
    assert ("device %s" % plain.vif_name, "exists") in {
        (p.object, p.what) for p in reports[1].problems
    }
    for vif, _ in pairs:
        ovs_plugin.plug(vif, INSTANCE)
    assert all(r.ok for r in ovs_plugin.check_many(pairs))


def test_vswitchd_restarted(ovs_plugin, ovs) -> None:
    vif = vifs.ovs_vif(7)
    ovs_plugin.plug(vif, INSTANCE)
    ovs._stop_daemon("ovs-vswitchd")
    ovs.start_vswitchd()
    ovs_plugin.plug(vif, INSTANCE)
    assert ovs_plugin.check(vif, INSTANCE).ok


def _wait(condition: Any, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % condition)
        time.sleep(0.05)


def _host_devices() -> None:
    """Devices and ports of others, which no GC may touch."""
    with IPRoute() as ipr:
        ipr.link("add", ifname="eth-host0", kind="veth", peer="eth-host1")
        ipr.link("add", ifname="br-host", kind="bridge")
        # A 5.x-looking name of the wrong kind is not os_vif's.
        ipr.link("add", ifname="qvbdeadbeef-00", kind="bridge")


def test_gc_removes_exactly_the_leaked(ovs_plugin, ovs) -> None:
    os_vif.initialize()
    kept = [vifs.hybrid_vif(100 + i) for i in range(25)] + [
        vifs.ovs_vif(200 + i) for i in range(25)
    ]
    leaked = [vifs.hybrid_vif(300 + i) for i in range(25)] + [
        vifs.ovs_vif(400 + i) for i in range(25)
    ]
    os_vif.plug_many([(vif, INSTANCE) for vif in kept + leaked])
    _host_devices()
    ovs.vsctl(
        "add-port",
        "br-int",
        "foreign0",
        "--",
        "set",
        "Interface",
        "foreign0",
        "type=internal",
        "external_ids:iface-id=someone-else",
    )
    ovs.vsctl(
        "add-br",
        "br-ex",
        "--",
        "set",
        "Bridge",
        "br-ex",
        "datapath_type=netdev",
    )
    ovs.vsctl(
        "add-port",
        "br-int",
        "patch-tun",
        "--",
        "set",
        "Interface",
        "patch-tun",
        "type=patch",
        "options:peer=patch-int",
    )
    before_links = set(_links())
    before_ports = set(ovsdb_rows.bridge_ports(ovs, "br-int"))

    expected: set[str] = set()
    for vif in leaked:
        if isinstance(vif, vifs.vif_objects.VIFBridge):
            qbr, qvb, qvo = naming.hybrid_names(vif.id)
            expected |= {
                "device " + qbr,
                "device " + qvb,
                "device " + qvo,
                "port " + qvo,
            }
        else:
            expected |= {"device " + vif.vif_name, "port " + vif.vif_name}

    # What the kept VIFs look like before: GC must change none of it.
    kept_pairs = [(vif, INSTANCE) for vif in kept]
    kept_before = [r.problems for r in os_vif.check_many(kept_pairs)]

    dry = os_vif.gc(kept, dry_run=True)
    assert dry.ok and dry.dry_run, dry.plugins
    assert {r.what for r in dry} == expected
    assert set(_links()) == before_links

    report = os_vif.gc(kept)
    assert report.ok, [r for r in report if r.failed]
    assert {r.what for r in report} == expected
    gone_links = before_links - set(_links())
    gone_ports = before_ports - set(ovsdb_rows.bridge_ports(ovs, "br-int"))
    assert {"device " + n for n in gone_links} | {
        "port " + p for p in gone_ports
    } == expected
    assert {"eth-host0", "eth-host1", "br-host", "qvbdeadbeef-00"} <= set(
        _links()
    )
    assert {"foreign0", "patch-tun"} <= set(
        ovsdb_rows.bridge_ports(ovs, "br-int")
    )
    assert "br-ex" in ovs.bridges()
    checked = os_vif.check_many(kept_pairs)
    assert [r.problems for r in checked] == kept_before
    assert len(os_vif.gc(kept, dry_run=True)) == 0


def test_530_hybrid_recognised_by_check_and_gc(
    os_vif_530, ovs_plugin, ovs
) -> None:
    hybrid = vifs.hybrid_vif(8)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    assert ovs.netns is not None
    os_vif_530.plug(
        [hybrid], INSTANCE, netns=ovs.netns, ovsdb_connection=ovs.connection
    )
    report = ovs_plugin.check(hybrid, INSTANCE)
    assert report.supported and report.error is None
    # 5.x made the same devices and port; only os_vif's mark may differ.
    # 5.x made the same devices and port; it set no mtu_request on qvo.
    assert {p.what for p in report.problems} <= {"alias", "mtu_request"}, (
        report.problems
    )

    kept = ovs_plugin.gc([hybrid], dry_run=True)
    assert kept.ok and not kept.removals
    collection = ovs_plugin.gc([])
    assert collection.ok
    assert {r.what for r in collection.removals} == {
        "device " + qbr,
        "device " + qvb,
        "device " + qvo,
        "port " + qvo,
    }
    assert not {qbr, qvb, qvo} & set(_links())
    assert ovsdb_rows.row(ovs, "Port", qvo) is None


def test_check_report_types(ovs_plugin, ovs) -> None:
    report = ovs_plugin.check(vifs.ovs_vif(9), INSTANCE)
    assert isinstance(report, host_state.CheckReport)
    assert not report.ok
    assert all(isinstance(p, host_state.Problem) for p in report.problems)


_CLIENT = """
import sys
import os_vif
from oslo_config import cfg
from os_vif.sandbox import vifs
os_vif.initialize()
cfg.CONF.set_override("ovsdb_connection", sys.argv[1], group="os_vif_ovs")
for n in range(600, 640):
    vif = vifs.hybrid_vif(n) if n % 2 else vifs.ovs_vif(n)
    os_vif.plug(vif, vifs.INSTANCE)
    print(n, flush=True)
"""


def test_client_killed_mid_plug_gc_removes_the_leftovers(
    ovs_plugin, ovs
) -> None:
    import os
    import signal
    import sys
    import time

    assert ovs.netns is not None
    os_vif.initialize()
    child = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            ovs.netns,
            sys.executable,
            "-c",
            _CLIENT,
            ovs.connection,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(
            os.path.dirname(
                os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            )
        ),
    )
    assert child.stdout is not None
    done = []
    try:
        while len(done) < 5:
            line = child.stdout.readline()
            assert line, "the client ended early"
            done.append(int(line))
        time.sleep(0.05)  # mid-way through the next plugs
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
    done += [int(n) for n in rest.split()]
    # Its privsep daemon may finish the call in hand; let the host settle.
    previous: set[str] = set()
    for _ in range(50):
        now = set(_links())
        if now == previous:
            break
        previous = now
        time.sleep(0.1)

    everything = [
        vifs.hybrid_vif(n) if n % 2 else vifs.ovs_vif(n)
        for n in range(600, 640)
    ]
    numbered = list(zip(range(600, 640), everything, strict=True))
    kept = [vif for n, vif in numbered if n in done]
    others = [vif for n, vif in numbered if n not in done]
    names_of_others = set()
    for vif in others:
        if isinstance(vif, vifs.vif_objects.VIFBridge):
            names_of_others |= set(naming.hybrid_names(vif.id))
        else:
            names_of_others.add(vif.vif_name)
    leftovers = names_of_others & (
        set(_links()) | set(ovsdb_rows.bridge_ports(ovs, "br-int"))
    )
    kept_pairs = [(vif, INSTANCE) for vif in kept]
    kept_before = [r.problems for r in os_vif.check_many(kept_pairs)]
    report = os_vif.gc(kept)
    assert report.ok, [r for r in report if r.failed]
    assert {r.what.split()[1] for r in report} == leftovers
    assert not names_of_others & set(_links())
    assert not names_of_others & set(ovsdb_rows.bridge_ports(ovs, "br-int"))
    checked = os_vif.check_many(kept_pairs)
    assert [r.problems for r in checked] == kept_before
