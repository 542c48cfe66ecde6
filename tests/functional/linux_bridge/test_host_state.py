"""check, re-plug and gc of the linux_bridge plugin in a throwaway netns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif.sandbox import vifs

pytestmark = [pytest.mark.functional]

INSTANCE = vifs.INSTANCE


@pytest.fixture
def lb(netns: Any, conf: Any) -> Iterator[Any]:
    os_vif.initialize()
    conf.config(create_tap=True, group="os_vif_linux_bridge")
    from os_vif.plugins.linux_bridge import LinuxBridgePlugin

    yield LinuxBridgePlugin.load("linux_bridge")


def _vif(n: int, bridge: str, uplink: str | None = None) -> Any:
    return vifs.bridge_vif(
        n, bridge=bridge, tap="tap-lb%d" % n, uplink=uplink, filtering=True
    )


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def test_deleted_tap_is_named_and_replug_repairs(lb: Any) -> None:
    vif = _vif(0, "br-lbcheck")
    lb.plug(vif, INSTANCE)
    assert lb.check(vif, INSTANCE).ok
    with IPRoute() as ipr:
        ipr.link("del", index=ipr.link_lookup(ifname="tap-lb0")[0])
    report = lb.check(vif, INSTANCE)
    # The bridge, empty now, fell back to the kernel's default MTU.
    assert {(p.object, p.what) for p in report.problems} == {
        ("device tap-lb0", "exists"),
        ("device br-lbcheck", "mtu"),
    }
    lb.plug(vif, INSTANCE)
    assert lb.check_many([(vif, INSTANCE)])[0].ok


def test_gc_removes_taps_and_empty_bridges_only(lb: Any) -> None:
    with IPRoute() as ipr:
        ipr.link("add", ifname="up-host0", kind="veth", peer="up-host1")
        ipr.link("add", ifname="tap-host0", kind="tuntap", mode="tap")
        ipr.link("add", ifname="br-host0", kind="bridge")
    kept = [_vif(1, "br-keep0"), _vif(2, "br-keep0")]
    leaked = [
        _vif(3, "br-leak0"),
        _vif(4, "br-leak0"),
        # Its bridge holds a host interface: the tap goes, the bridge stays.
        _vif(5, "br-leak1", uplink="up-host0"),
    ]
    for vif in kept + leaked:
        lb.plug(vif, INSTANCE)
    before = _links()

    expected = {
        "device tap-lb3",
        "device tap-lb4",
        "device tap-lb5",
        "device br-leak0",
    }
    dry = lb.gc(kept, dry_run=True)
    assert dry.ok and {r.what for r in dry.removals} == expected
    assert _links() == before

    collection = lb.gc(kept)
    assert collection.ok, collection
    assert {r.what for r in collection.removals} == expected
    assert before - _links() == {n.split()[1] for n in expected}
    assert all(r.ok for r in lb.check_many([(v, INSTANCE) for v in kept]))
    assert not lb.gc(kept, dry_run=True).removals


def test_plug_of_an_ok_vif_makes_no_privileged_call(
    lb: Any, monkeypatch: Any
) -> None:
    from os_vif.internal.unprivileged import daemon

    vif = _vif(6, "br-lbok")
    lb.plug(vif, INSTANCE)
    assert lb.check(vif, INSTANCE).ok

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a re-plug of a VIF that is ok changed the host")

    monkeypatch.setattr(daemon, "call", refuse)
    lb.plug(vif, INSTANCE)
