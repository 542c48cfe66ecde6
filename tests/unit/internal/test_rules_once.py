"""Rules written once: every user of a rule reads the one definition."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from os_vif import exception, host_state
from os_vif.internal import names, operation, ownership
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import dpdk_representor, inventory
from os_vif.plugins.ovs import naming

VIF_ID = "0123456789abcdef-0000"


def test_forward_and_inverse_names_agree() -> None:
    for prefix, kind in names.LEGACY_KINDS.items():
        name = names.port_name(prefix, VIF_ID)
        assert len(name) == names.NAME_LENGTH
        assert names.legacy_vif_prefix(name) == VIF_ID[:11]
        assert names.legacy_kind(name) == kind
        assert names.legacy_names(VIF_ID)[name] == kind
    assert names.legacy_vif_prefix("qbr-short") is None
    assert names.legacy_kind("eth0") is None


def test_every_user_reads_the_one_rule() -> None:
    assert ownership.legacy_names is names.legacy_names
    assert ownership.LEGACY_PREFIXES is names.LEGACY_KINDS
    assert inventory.legacy_vif_prefix is names.legacy_vif_prefix
    assert naming.hybrid_names is names.hybrid_names
    assert naming.port_name is names.port_name
    assert dpdk_representor.port_name(VIF_ID) == names.port_name("vfr", VIF_ID)
    assert ownership.refuse is operation.refused
    assert operation.Problem is host_state.Problem


@pytest.mark.parametrize(
    ("master", "linux_bridge"),
    [
        (None, False),
        (SimpleNamespace(name="br-int", kind="openvswitch"), False),
        (
            SimpleNamespace(name=names.hybrid_names(VIF_ID)[0], kind="bridge"),
            False,
        ),
        (SimpleNamespace(name="brq1234", kind="bridge"), True),
    ],
)
def test_one_owner_per_tap(master: object, linux_bridge: bool) -> None:
    assert names.on_linux_bridge(master) is linux_bridge  # type: ignore[arg-type]


def test_refusal_names_the_device_and_rule() -> None:
    refusal = operation.refused("delete", "tap0", "not ours")
    assert isinstance(refusal, exception.HostOperationRefused)
    assert refusal.kwargs == {
        "operation": "delete",
        "device": "tap0",
        "rule": "not ours",
    }


@pytest.mark.parametrize(
    ("value", "kernel"),
    [(None, True), ("", True), ("system", True), ("netdev", False)],
)
def test_kernel_datapaths(value: str | None, kernel: bool) -> None:
    assert ovs.is_kernel_datapath(value) is kernel
