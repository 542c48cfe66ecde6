"""Host operations on the real kernel, through the real privsep daemons.

Each test runs in a fresh network namespace; the daemon of the family used
is started inside it.  Results are read back with pyroute2 and /proc/sys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from os_vif import exception
from os_vif.host_state import Problem
from os_vif.internal import kernel as d
from os_vif.internal import linkstate
from os_vif.internal.privileged import context
from os_vif.internal.unprivileged import daemon, runner

LINUX_BRIDGE, OVS = runner.LINUX_BRIDGE, runner.OVS


def run(family: runner.HostRunner, *steps: d.KernelOperation) -> list[bool]:
    """Run one group through ``family``'s real daemon; raise its error."""
    answer = daemon.call(
        family.context,
        family._entrypoint,
        {"id": uuid.uuid4().hex, "groups": [[s.to_wire() for s in steps]]},
        timeout=60,
        what="test",
    )[0]
    if "error" in answer:
        raise context.rebuild(answer["error"])
    return list(answer["changed"])


def run_step(family: runner.HostRunner, step: d.KernelOperation) -> bool:
    return run(family, step)[0]


@pytest.fixture
def ipr(netns) -> Iterator[IPRoute]:
    with IPRoute() as sock:
        yield sock


def get(ipr: IPRoute, name: str):
    try:
        return ipr.link("get", ifname=name)[0]
    except NetlinkError:
        return None


def tun_data(link) -> dict:
    return dict(link.get(("linkinfo", "data"))["attrs"])


@pytest.mark.parametrize("family", [LINUX_BRIDGE, OVS], ids=str)
def test_tap_plain_and_multiqueue(ipr, family):
    assert run(
        family,
        d.EnsureBridge(name="br0"),
        d.EnsureTap(
            name="tap-mq",
            multiqueue=True,
            mtu=9000,
            master="br0",
            mac="fe:16:3e:00:00:01",
        ),
        d.EnsureTap(name="tap-sq", up=False),
    ) == [True, True, True]
    mq, sq = get(ipr, "tap-mq"), get(ipr, "tap-sq")
    assert tun_data(mq)["IFLA_TUN_MULTI_QUEUE"] == 1
    assert tun_data(mq)["IFLA_TUN_PERSIST"] == 1
    assert tun_data(sq)["IFLA_TUN_MULTI_QUEUE"] == 0
    assert mq.get("mtu") == 9000 and mq["flags"] & 1
    assert mq.get("address") == "fe:16:3e:00:00:01"
    assert mq.get("master") == get(ipr, "br0")["index"]
    assert mq.get("ifalias") == sq.get("ifalias") == "os-vif"
    assert not sq["flags"] & 1
    # Again: nothing to change.
    assert run(
        family,
        d.EnsureTap(name="tap-mq", multiqueue=True, mtu=9000, master="br0"),
    ) == [False]


def test_veth_pair_and_stale_end(ipr):
    assert run_step(OVS, d.EnsureVeth(name="qvb0", peer="qvo0", mtu=1400))
    for name in ("qvb0", "qvo0"):
        link = get(ipr, name)
        assert link.get(("linkinfo", "kind")) == "veth"
        assert link.get("mtu") == 1400 and link["flags"] & 1
        assert linkstate.get_device(name).made_by_os_vif
    assert not run_step(OVS, d.EnsureVeth(name="qvb0", peer="qvo0", mtu=1400))
    # A leftover single end is replaced by a fresh pair.
    ipr.link("del", ifname="qvb0")
    ipr.link("add", ifname="qvb1", kind="veth", peer="qvo1")
    ipr.link("del", ifname="qvo1")
    assert run_step(OVS, d.EnsureVeth(name="qvb0", peer="qvo0"))
    assert get(ipr, "qvo0") is not None


def test_veth_end_joins_its_bridge(ipr):
    run_step(OVS, d.EnsureBridge(name="qbr0"))
    run_step(OVS, d.EnsureBridge(name="qbr1"))
    assert run_step(
        OVS, d.EnsureVeth(name="qvb0", peer="qvo0", mtu=1400, master="qbr0")
    )
    assert linkstate.get_device("qvb0").master == "qbr0"
    assert linkstate.get_device("qvo0").master is None
    assert (
        linkstate.get_device("qvo0").up
        and linkstate.get_device("qvb0").made_by_os_vif
    )
    assert not run_step(
        OVS, d.EnsureVeth(name="qvb0", peer="qvo0", mtu=1400, master="qbr0")
    )
    # An existing pair is moved to the bridge asked for.
    assert run_step(OVS, d.EnsureVeth(name="qvb0", peer="qvo0", master="qbr1"))
    assert linkstate.get_device("qvb0").master == "qbr1"
    with pytest.raises(exception.InvalidArgument) as caught:
        run_step(OVS, d.EnsureVeth(name="qvb0", peer="qvo0", master="qvo0"))
    assert caught.value.kwargs["field"] == "ensure_veth.master"


def test_veth_with_a_missing_bridge_leaves_nothing(ipr):
    with pytest.raises(exception.NetworkInterfaceNotFound):
        run_step(
            OVS, d.EnsureVeth(name="qvb0", peer="qvo0", master="qbr-none")
        )
    assert get(ipr, "qvb0") is None and get(ipr, "qvo0") is None


def test_bridge_for_hybrid_plug(ipr):
    run(
        OVS,
        *[
            d.EnsureBridge(name="qbr0", mtu=1450, disable_ipv6=True),
            d.SetSysctl(name="qbr0", family="ipv4", key="arp_ignore", value=1),
            d.SetSysctl(
                name="qbr0", family="ipv4", key="arp_announce", value=2
            ),
        ],
    )
    data = dict(get(ipr, "qbr0").get(("linkinfo", "data"))["attrs"])
    assert data["IFLA_BR_STP_STATE"] == 0
    assert data["IFLA_BR_FORWARD_DELAY"] == 0
    assert linkstate.read_sysctl("qbr0", "ipv6", "disable_ipv6") == 1
    assert linkstate.read_sysctl("qbr0", "ipv4", "arp_ignore") == 1
    assert linkstate.read_sysctl("qbr0", "ipv4", "arp_announce") == 2


def test_vlan_device_or_skip(ipr):
    ipr.link("add", ifname="lower0", kind="veth", peer="lower0p")
    try:
        run(LINUX_BRIDGE, d.EnsureVlan(name="lower0.5", link="lower0", vlan=5))
    except exception.HostOperationFailed as err:
        if "Operation not supported" in str(err):
            pytest.skip("this kernel has no 802.1Q (CONFIG_VLAN_8021Q)")
        raise
    data = dict(get(ipr, "lower0.5").get(("linkinfo", "data"))["attrs"])
    assert data["IFLA_VLAN_ID"] == 5


def test_set_link_and_release(ipr):
    run(LINUX_BRIDGE, d.EnsureBridge(name="br0"), d.EnsureTap(name="t0"))
    run_step(
        LINUX_BRIDGE,
        d.SetLink(name="t0", mtu=1300, mac="02:00:00:00:00:07", master="br0"),
    )
    link = get(ipr, "t0")
    assert link.get("mtu") == 1300
    assert link.get("address") == "02:00:00:00:00:07"
    assert linkstate.get_device("t0").master == "br0"
    assert linkstate.bridge_ports("br0") == ["t0"]
    run_step(LINUX_BRIDGE, d.SetLink(name="t0", nomaster=True, up=False))
    assert linkstate.get_device("t0").master is None
    assert not linkstate.get_device("t0").up


def test_delete_is_idempotent(ipr):
    assert run_step(LINUX_BRIDGE, d.EnsureTap(name="t0"))
    assert run_step(LINUX_BRIDGE, d.DeleteDevice(name="t0"))
    assert not run_step(LINUX_BRIDGE, d.DeleteDevice(name="t0"))
    assert not linkstate.device_exists("t0")


def test_sysctl_allow_list(ipr):
    run_step(LINUX_BRIDGE, d.EnsureBridge(name="br0"))
    with pytest.raises(exception.InvalidArgument):
        run_step(
            LINUX_BRIDGE,
            d.SetSysctl(name="br0", family="ipv4", key="arp_ignore", value=9),
        )
    with pytest.raises(exception.InvalidArgument):
        d.REGISTRY.from_wire(
            [
                "set_sysctl",
                {
                    "name": "br0",
                    "family": "ipv4",
                    "key": "forwarding",
                    "value": 1,
                },
            ]
        )


# -- ownership, through the entrypoint with hand-made plans ------------------


def host_devices(ipr: IPRoute) -> dict[str, tuple]:
    """What the tests compare: every link's kind, MTU, state, master, alias."""
    return {
        link.get("ifname"): (
            link.get(("linkinfo", "kind")),
            link.get("mtu"),
            link["flags"] & 1,
            link.get("master"),
            link.get("ifalias"),
        )
        for link in ipr.get_links()
    }


@pytest.fixture
def foreign(ipr):
    """Devices of the host os_vif does not own: a veth pair, a bridge with
    a port of its own, a tap."""
    ipr.link("add", ifname="hostveth0", kind="veth", peer="hostveth1")
    ipr.link("add", ifname="hostbr0", kind="bridge")
    # Up, as a bridge in use is: setting it up changes nothing then.
    ipr.link("set", index=ipr.link_lookup(ifname="hostbr0")[0], state="up")
    ipr.link("add", ifname="hostport0", kind="veth", peer="hostport1")
    ipr.link(
        "set",
        index=ipr.link_lookup(ifname="hostport0")[0],
        master=ipr.link_lookup(ifname="hostbr0")[0],
    )
    return host_devices(ipr)


@pytest.mark.parametrize(
    "steps",
    [
        [d.DeleteDevice(name="hostveth0")],
        [
            d.DeleteDevice(
                name="hostveth0",
                kind="veth",
                vif_id="0000aaaa-0000-4000-8000-000000000001",
            )
        ],
        [d.EnsureTap(name="hostveth0", mtu=1400)],
        [d.EnsureVeth(name="hostveth0", peer="hostveth1", mtu=1400)],
        [d.EnsureVeth(name="hostveth0", peer="qvo-new0")],
        [
            d.EnsureBridge(name="qbr-new0"),
            d.EnsureBridge(name="hostbr0", mtu=1400),
        ],
        [d.SetLink(name="hostveth0", mtu=1400)],
        [d.SetLink(name="hostveth0", mtu=1400, role="uplink")],
        [
            d.SetSysctl(
                name="hostbr0", family="ipv4", key="arp_ignore", value=1
            )
        ],
        [d.EnsureTap(name="tap-new0"), d.DeleteDevice(name="hostbr0")],
    ],
    ids=repr,
)
def test_the_daemon_refuses_what_os_vif_does_not_own(ipr, foreign, steps):
    with pytest.raises(exception.HostOperationRefused) as caught:
        run(OVS, *steps)
    assert caught.value.kwargs["device"] in ("hostveth0", "hostbr0")
    assert caught.value.kwargs["rule"]
    assert host_devices(ipr) == foreign


def test_a_bridge_with_another_port_is_used_but_never_deleted(ipr, foreign):
    assert run(OVS, d.RemoveBridgeIfUnused(name="hostbr0")) == [False]
    # A network's bridge may be set up and used...
    run(
        OVS,
        d.EnsureBridge(name="hostbr0", role="bridge"),
        d.EnsureTap(name="tap-lb0", master="hostbr0"),
    )
    assert linkstate.get_device("tap-lb0").master == "hostbr0"
    run(OVS, d.DeleteDevice(name="tap-lb0", kind="tun"))
    # ...but is not os_vif's to delete, even once empty of os_vif's ports.
    assert run(OVS, d.RemoveBridgeIfUnused(name="hostbr0")) == [False]
    assert host_devices(ipr) == foreign


def test_what_os_vif_5_made_is_os_vifs(ipr):
    vif_id = "5a5a5a5a-0000-4000-8000-000000000001"
    qbr, qvb, qvo = (
        ("qbr" + vif_id)[:14],
        ("qvb" + vif_id)[:14],
        ("qvo" + vif_id)[:14],
    )
    # As os-vif 5.x made them: no alias.
    ipr.link("add", ifname=qbr, kind="bridge")
    ipr.link("add", ifname=qvb, kind="veth", peer=qvo)
    with pytest.raises(exception.HostOperationRefused):
        run(OVS, d.DeleteDevice(name=qvb, kind="veth"))
    with pytest.raises(exception.HostOperationRefused):
        # The derived name, but not the kind 5.x makes under it.
        run(OVS, d.DeleteDevice(name=qbr, kind="veth", vif_id=vif_id))
    assert run(
        OVS,
        d.DeleteDevice(name=qvb, kind="veth", vif_id=vif_id),
        d.RemoveBridgeIfUnused(name=qbr, vif_id=vif_id),
    ) == [True, True]
    assert get(ipr, qbr) is None and get(ipr, qvo) is None


def _legacy_qbr(ipr: IPRoute, vif_id: str) -> str:
    """A qbr as os-vif 5.x made it for ``vif_id`` (no alias), IPv6 on."""
    qbr = ("qbr" + vif_id)[:14]
    ipr.link("add", ifname=qbr, kind="bridge", mtu=1500)
    with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % qbr, "w") as f:
        f.write("0")
    return qbr


def _qbr_settings(name: str) -> tuple:
    device = linkstate.get_device(name)
    assert device is not None
    return (
        device.mtu,
        device.made_by_os_vif,
        linkstate.read_sysctl(name, "ipv6", "disable_ipv6"),
        linkstate.read_sysctl(name, "ipv4", "arp_ignore"),
    )


def test_the_undo_of_a_5x_device_carries_its_proof(ipr):
    # What the client sends back when a plug's transaction fails: the undo
    # the daemon returned, as a plan of its own.
    vif_id = "5a5a5a5a-0000-4000-8000-000000000002"
    other = "6b6b6b6b-0000-4000-8000-000000000002"
    qbr = _legacy_qbr(ipr, vif_id)
    before = _qbr_settings(qbr)
    answer = daemon.call(
        OVS.context,
        OVS._entrypoint,
        {
            "id": uuid.uuid4().hex,
            "groups": [
                [
                    d.EnsureBridge(
                        name=qbr, mtu=1450, disable_ipv6=True, vif_id=vif_id
                    ).to_wire(),
                    d.SetSysctl(
                        name=qbr,
                        family="ipv4",
                        key="arp_ignore",
                        value=1,
                        vif_id=vif_id,
                    ).to_wire(),
                ]
            ],
        },
        timeout=60,
        what="test",
    )[0]
    assert _qbr_settings(qbr) == (1450, False, 1, 1)
    undo = [d.REGISTRY.from_wire(step) for step in answer["undo"]]
    assert {(type(u).__name__, u.device) for u in undo} == {
        ("SetSysctl", qbr),
        ("SetLink", qbr),
    }
    # Each undo step carries the VIF id its operation was admitted with.
    assert {u.get("vif_id") for u in undo} == {vif_id}

    def stripped(proof: str | None) -> list[d.KernelOperation]:
        return [
            type(u)(**dict(u.arguments, vif_id=proof)) for u in undo
        ]

    # Without that proof, or with another VIF's, the daemon refuses them:
    # the qbr is os_vif's only as what 5.x made for this VIF.
    for proof in (None, other):
        with pytest.raises(exception.HostOperationRefused) as caught:
            run(OVS, *reversed(stripped(proof)))
        assert caught.value.kwargs["device"] == qbr
        assert _qbr_settings(qbr) == (1450, False, 1, 1)
    run(OVS, *reversed(undo))
    assert _qbr_settings(qbr) == before


@pytest.mark.parametrize(
    "step",
    [
        d.SetSysctl(
            name="hostbr0",
            family="ipv6",
            key="disable_ipv6",
            value=1,
            vif_id="5a5a5a5a-0000-4000-8000-000000000003",
        ),
        d.SetLink(
            name="hostbr0",
            mtu=1400,
            vif_id="5a5a5a5a-0000-4000-8000-000000000003",
        ),
        # The name 5.x derives from the VIF id, but not the kind it makes.
        d.SetSysctl(
            name="qvb5a5a5a5a-00",
            family="ipv4",
            key="arp_ignore",
            value=1,
            vif_id="5a5a5a5a-0000-4000-8000-000000000003",
        ),
    ],
    ids=repr,
)
def test_a_vif_id_proves_nothing_for_another_device(ipr, foreign, step):
    ipr.link("add", ifname="qvb5a5a5a5a-00", kind="bridge")
    foreign = host_devices(ipr)
    with pytest.raises(exception.HostOperationRefused) as caught:
        run(OVS, step)
    assert caught.value.kwargs["device"] == step.device
    assert host_devices(ipr) == foreign


def test_check_and_apply_agree_on_a_5x_bridge_left_alone(ipr):
    # All that is left of a VIF os-vif 5.x plugged: its qbr, no alias.
    vif_id = "5a5a5a5a-0000-4000-8000-000000000002"
    qbr = ("qbr" + vif_id)[:14]
    ipr.link("add", ifname=qbr, kind="bridge")
    remove = d.RemoveBridgeIfUnused(name=qbr, vif_id=vif_id)
    # The check sees what the daemon will do: the bridge is os_vif's by
    # the 5.x rule, and goes.
    assert remove.check() == [
        Problem("device %s" % qbr, "exists", False, True)
    ]
    assert run(OVS, remove) == [True]
    assert get(ipr, qbr) is None
    assert remove.check() == []
    # Without the VIF's id it is nobody's: neither side touches it.
    ipr.link("add", ifname=qbr, kind="bridge")
    stranger = d.RemoveBridgeIfUnused(name=qbr)
    assert stranger.check() == []
    assert run(OVS, stranger) == [False]
    assert get(ipr, qbr) is not None


def test_a_hypervisors_tap_has_only_its_mtu_state_and_master_set(
    ipr, foreign
):
    # As a hypervisor makes it (vhost-net): a tap os_vif did not make.
    ipr.link("add", ifname="vnet0", kind="tuntap", mode="tap")
    with pytest.raises(exception.HostOperationRefused) as caught:
        run(
            OVS,
            d.SetLink(
                name="vnet0", mac="fe:16:3e:00:00:09", role="hypervisor"
            ),
        )
    assert caught.value.kwargs["device"] == "vnet0"
    assert "mac" in caught.value.kwargs["operation"]
    assert run(
        OVS,
        d.SetLink(
            name="vnet0",
            mtu=1400,
            up=True,
            master="hostbr0",
            role="hypervisor",
        ),
    ) == [True]
    tap = get(ipr, "vnet0")
    assert tap.get("mtu") == 1400 and tap["flags"] & 1
    assert tap.get("master") == get(ipr, "hostbr0")["index"]
    assert tap.get("ifalias") is None
    release = d.SetLink(name="vnet0", nomaster=True, role="hypervisor")
    assert run(OVS, release) == [True]
    assert get(ipr, "vnet0").get("master") is None


def run_batch(family: runner.HostRunner, groups) -> list[dict]:
    """Run many groups in one call, deletions batched, as plug_many does."""
    return daemon.call(
        family.context,
        family._entrypoint,
        {
            "id": uuid.uuid4().hex,
            "groups": [[s.to_wire() for s in steps] for steps in groups],
            "batch_deletions": True,
        },
        timeout=60,
        what="test",
    )


def test_batched_deletions_take_exactly_the_batch(ipr):
    # 40 os_vif taps and veth pairs go in one link-group deletion; a
    # foreign tap and a group naming a device already gone stay as they
    # were (the gone one is simply done).
    run(OVS, *[d.EnsureTap(name="tapbatch%d" % n) for n in range(20)])
    run(OVS, *[d.EnsureVeth(name="qvbbatch%d" % n, peer="qvobatch%d" % n)
               for n in range(20)])
    ipr.link("add", ifname="tapforeign", kind="tuntap", mode="tap")
    groups = [[d.DeleteDevice(name="tapbatch%d" % n, kind="tun")]
              for n in range(20)]
    groups += [[d.DeleteDevice(name="qvbbatch%d" % n, kind="veth")]
               for n in range(20)]
    groups.append([d.DeleteDevice(name="tapgone", kind="tun")])
    answers = run_batch(OVS, groups)
    assert [a.get("error") for a in answers] == [None] * 41
    assert [list(a["changed"]) for a in answers[:40]] == [[True]] * 40
    assert list(answers[40]["changed"]) == [False]
    left = {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    assert not {n for n in left if "batch" in n}
    assert "tapforeign" in left
    # The foreign tap is still in the default group: the batch's link
    # group was the batch's alone.
    assert get(ipr, "tapforeign").get_attr("IFLA_GROUP") == 0


def test_a_refused_group_of_a_batch_fails_alone(ipr):
    run(OVS, *[d.EnsureTap(name="tapbatch%d" % n) for n in range(3)])
    ipr.link("add", ifname="tapforeign", kind="tuntap", mode="tap")
    answers = run_batch(
        OVS,
        [
            [d.DeleteDevice(name="tapbatch0", kind="tun")],
            [d.DeleteDevice(name="tapforeign", kind="tun")],
            [d.DeleteDevice(name="tapbatch1", kind="tun")],
            [d.DeleteDevice(name="tapbatch2", kind="tun")],
        ],
    )
    assert [("error" in a) for a in answers] == [False, True, False, False]
    assert answers[1]["error"][0] == "HostOperationRefused"
    left = {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    assert "tapforeign" in left
    assert not {n for n in left if n.startswith("tapbatch")}
