"""linkstate reads what pyroute2 reads, in the calling thread's namespace."""

from __future__ import annotations

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.internal import linkstate, rtnl

pytestmark = pytest.mark.functional


def _pyroute2_view(ipr: IPRoute, name: str) -> linkstate.DeviceInfo:
    link = ipr.link("get", ifname=name)[0]
    master = link.get("master")
    return linkstate.DeviceInfo(
        name=link.get("ifname"),
        index=link["index"],
        kind=link.get(("linkinfo", "kind")),
        mtu=link.get("mtu"),
        mac=link.get("address"),
        up=bool(link["flags"] & 1),
        master_index=master or 0,
        alias=link.get("ifalias"),
        vlan_id=None,
        master=(
            ipr.link("get", index=master)[0].get("ifname") if master else None
        ),
    )


def test_same_answers_as_pyroute2(netns) -> None:
    with IPRoute() as ipr:
        ipr.link("add", ifname="br-ls", kind="bridge")
        ipr.link("add", ifname="ve-ls0", kind="veth", peer="ve-ls1")
        bridge = ipr.link_lookup(ifname="br-ls")[0]
        ipr.link(
            "set",
            index=ipr.link_lookup(ifname="ve-ls0")[0],
            master=bridge,
            mtu=1400,
            address="fa:16:3e:aa:bb:cc",
            ifalias="os-vif",
            state="up",
        )
        ipr.link("add", ifname="tap-ls", kind="tuntap", mode="tap")
        for name in ("lo", "br-ls", "ve-ls0", "ve-ls1", "tap-ls"):
            assert linkstate.get_device(name) == _pyroute2_view(ipr, name)
            link = linkstate.read_link(name)
            assert link is not None
            assert link == linkstate.read_link(index=link.index)
    device = linkstate.get_device("ve-ls0")
    assert device is not None
    assert (device.kind, device.master, device.mtu, device.up) == (
        "veth",
        "br-ls",
        1400,
        True,
    )
    assert device.mac == "fa:16:3e:aa:bb:cc" and device.made_by_os_vif
    raw = linkstate.read_link("ve-ls0")
    assert raw is not None and raw.master_index == bridge
    assert raw.vlan_id is None


def test_vlan_id_is_read(netns) -> None:
    with IPRoute() as ipr:
        ipr.link("add", ifname="br-lo", kind="bridge")
        try:
            ipr.link(
                "add",
                ifname="br-lo.42",
                kind="vlan",
                link=ipr.link_lookup(ifname="br-lo")[0],
                vlan_id=42,
            )
        except Exception as err:  # noqa: BLE001 - the kernel lacks 8021q
            pytest.skip("this kernel has no 802.1Q: %s" % err)
    link = linkstate.read_link("br-lo.42")
    assert link is not None and (link.kind, link.vlan_id) == ("vlan", 42)


def test_absent_device_and_bad_name(netns) -> None:
    assert linkstate.get_device("no-such-dev") is None
    assert not linkstate.device_exists("no-such-dev")
    assert linkstate.device_exists("lo")
    with pytest.raises(exception.InvalidArgument):
        linkstate.get_device("x" * 16)


def test_reads_follow_the_thread_into_a_namespace(netns) -> None:
    with IPRoute() as ipr:
        ipr.link("add", ifname="only-here", kind="bridge")
    assert linkstate.device_exists("only-here")


def test_ports_of_a_bridge_are_what_pyroute2_lists(netns):
    with IPRoute() as ipr:
        ipr.link("add", ifname="brp0", kind="bridge")
        bridge = ipr.link_lookup(ifname="brp0")[0]
        for n in range(3):
            ipr.link("add", ifname="pp%d" % n, kind="veth", peer="pq%d" % n)
            ipr.link(
                "set",
                index=ipr.link_lookup(ifname="pp%d" % n)[0],
                master=bridge,
            )
        ipr.link("add", ifname="loose0", kind="veth", peer="loose1")
        expected = sorted(
            link.get("ifname")
            for link in ipr.get_links()
            if link.get("master") == bridge
        )
    assert expected == ["pp0", "pp1", "pp2"]
    assert [
        p.name
        for p in sorted(linkstate.ports_of(bridge), key=lambda p: p.name)
    ] == expected
    assert linkstate.bridge_ports("brp0") == expected
    assert linkstate.bridge_ports("loose0") == []


def test_the_kernel_sends_only_the_ports_of_the_bridge(
    netns, monkeypatch
) -> None:
    """ports_of's dump is filtered by the kernel, not here: among many
    links, only the bridge's ports come back, marked filtered."""
    with IPRoute() as ipr:
        ipr.link("add", ifname="br-few", kind="bridge")
        bridge = ipr.link_lookup(ifname="br-few")[0]
        for n in range(40):
            ipr.link("add", ifname="many%d" % n, kind="veth",
                     peer="manyp%d" % n)
        for n in range(2):
            ipr.link("set", index=ipr.link_lookup(ifname="many%d" % n)[0],
                     master=bridge)
    received: list[bytes] = []
    dump_once = linkstate._dump_once

    def counted(master: int | None) -> tuple[list[bytes], bool]:
        messages, consistent = dump_once(master)
        received.extend(messages)
        return messages, consistent

    monkeypatch.setattr(linkstate, "_dump_once", counted)
    ports = linkstate.ports_of(bridge)
    assert sorted(port.name for port in ports) == ["many0", "many1"]
    assert {port.master_index for port in ports} == {bridge}
    # 82 links here (lo, the bridge, 40 pairs); the kernel sent two, each
    # marked NLM_F_DUMP_FILTERED; an unfiltered dump sends all 82.
    assert len(received) == 2
    assert len(linkstate.dump_links()) == 82
    assert len(received) == 2 + 82
    for message in received[:2]:
        assert rtnl.NLMSGHDR.unpack_from(message)[2] & rtnl.NLM_F_DUMP_FILTERED


def test_a_snapshot_answers_as_the_kernel_does(netns) -> None:
    with IPRoute() as ipr:
        ipr.link("add", ifname="br-snap", kind="bridge")
        for n in range(30):
            ipr.link("add", ifname="ve-snap%d" % n, kind="veth",
                     peer="vp-snap%d" % n)
            ipr.link("set", index=ipr.link_lookup(ifname="ve-snap%d" % n)[0],
                     master=ipr.link_lookup(ifname="br-snap")[0],
                     ifalias="os-vif", state="up")
    names = ["lo", "br-snap"] + [
        "%s-snap%d" % (side, n) for n in range(30) for side in ("ve", "vp")
    ]
    direct = {name: linkstate.read_link(name) for name in names}
    bridge = direct["br-snap"]
    assert bridge is not None
    ports = sorted(link.name for link in linkstate.ports_of(bridge.index))
    with linkstate.snapshot() as table:
        # Every link of the namespace, by name and by index, and nothing
        # read by request while inside.
        assert sorted(table.by_name) == sorted(names)
        assert len(table.by_index) == len(names)
        for name, link in direct.items():
            assert link is not None
            assert linkstate.read_link(name) == link
            assert linkstate.read_link(index=link.index) == link
            assert table.by_index[link.index] is table.by_name[name]
        assert sorted(p.name for p in linkstate.ports_of(bridge.index)) == (
            ports
        )
        assert linkstate.read_link("absent0") is None
        with IPRoute() as ipr:
            ipr.link("add", ifname="br-later", kind="bridge")
        # A moment-old state: what came after the dump is not in it.
        assert linkstate.read_link("br-later") is None
    assert linkstate.read_link("br-later") is not None
