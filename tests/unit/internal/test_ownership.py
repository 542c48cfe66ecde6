"""The daemon's ownership rules (pure: links are made up, no host)."""

from __future__ import annotations

import pytest

from os_vif import exception
from os_vif.internal import linkstate, ownership

VIF = "0123456789abcdef"


def link(name: str, kind: str | None, alias: str | None = None):
    return linkstate.Link(
        name=name,
        index=7,
        kind=kind,
        mtu=1500,
        mac="02:00:00:00:00:01",
        up=True,
        master_index=0,
        alias=alias,
        vlan_id=None,
    )


@pytest.mark.parametrize(
    "device",
    [
        link("qbr0123456789a", "bridge"),
        link("qvb0123456789a", "veth"),
        link("tap0123456789a", "tun"),
        link("anything", "veth", alias=ownership.OS_VIF_ALIAS),
    ],
)
def test_what_os_vif_owns(device):
    ctx = ownership.Scope()
    assert ownership.owner_rule(ctx, device, VIF) is not None
    ownership.require_owned(ctx, device, "change", VIF)


@pytest.mark.parametrize(
    "device",
    [
        # Found by the privileged entry point fuzzer: a device of no kind
        # (lo, a physical NIC) matched the "no such 5.x name" of any VIF
        # id (None == None), so any plan naming a VIF id could change it.
        link("lo", None),
        link("eth0", None),
        link("qbr0123456789a", "veth"),
        link("tap0123456789a", None),
        link("qbrother", "bridge"),
    ],
)
def test_what_os_vif_does_not_own(device):
    ctx = ownership.Scope()
    assert ownership.owner_rule(ctx, device, VIF) is None
    with pytest.raises(exception.HostOperationRefused):
        ownership.require_owned(ctx, device, "change", VIF)
    assert ownership.owner_rule(ctx, device, None) is None
