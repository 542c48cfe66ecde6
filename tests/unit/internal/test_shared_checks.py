"""runner.shared_checks: a batch checks and admits a shared operation once."""

from __future__ import annotations

from typing import Any

import pytest

from os_vif import exception
from os_vif.internal import kernel as devices
from os_vif.internal import operation, validation
from os_vif.internal.unprivileged import runner


class _Counted(operation.Operation):
    NAME = "counted"
    PARAMS = {"name": validation.interface_name}
    SHARED = True
    checks: list[str] = []
    admissions: list[str] = []

    def check(self, ovsdb: Any = None) -> list[operation.Problem]:
        self.checks.append(self.device)
        return [operation.Problem(self.device, "exists", True, False)]

    def admit(self, api: Any) -> None:
        self.admissions.append(self.device)
        if self.device == "taken":
            raise exception.HostOperationRefused(
                operation="use", device=self.device, rule="someone else's"
            )


class _Private(_Counted):
    NAME = "private"
    SHARED = False


@pytest.fixture(autouse=True)
def _reset() -> None:
    _Counted.checks = []
    _Counted.admissions = []


def test_a_shared_operation_is_checked_once_per_batch() -> None:
    with runner.shared_checks():
        first = runner._check_step(_Counted(name="br0"), api=object())
        again = runner._check_step(_Counted(name="br0"), api=object())
        other = runner._check_step(_Counted(name="br1"), api=object())
        # A caller extending the list it got does not change the memo.
        first.append(operation.Problem("x", "y", 1, 2))
        assert len(runner._check_step(_Counted(name="br0"), api=object())) == 1
    assert _Counted.checks == ["br0", "br1"]
    assert len(again) == 1 and len(other) == 1
    # Outside a batch, every check reads the host.
    runner._check_step(_Counted(name="br0"), api=object())
    runner._check_step(_Counted(name="br0"), api=object())
    assert _Counted.checks == ["br0", "br1", "br0", "br0"]


def test_operations_not_shared_are_checked_every_time() -> None:
    with runner.shared_checks():
        for _ in range(3):
            runner._check_step(_Private(name="tap0"), api=object())
    assert _Counted.checks == ["tap0"] * 3


def test_a_refusal_is_remembered_and_raised_for_every_plan() -> None:
    with runner.shared_checks():
        for _ in range(3):
            with pytest.raises(exception.HostOperationRefused):
                runner._admit_step(_Counted(name="taken"), api=object())
            runner._admit_step(_Counted(name="free"), api=object())
    assert _Counted.admissions == ["taken", "free"]


def test_nested_batches_share_one_memo() -> None:
    with runner.shared_checks():
        runner._check_step(_Counted(name="br0"), api=object())
        with runner.shared_checks():
            runner._check_step(_Counted(name="br0"), api=object())
        runner._check_step(_Counted(name="br0"), api=object())
    assert _Counted.checks == ["br0"]


def test_only_a_networks_linux_bridge_is_shared() -> None:
    # Every VIF on a network names its bridge; a VIF's own qbr is named by
    # that VIF alone, and remembering its check would cost without saving.
    network = devices.EnsureBridge(name="brq0", role="bridge")
    own = devices.EnsureBridge(name="qbr0", vif_id="a-vif")
    assert network.shared and not own.shared
    assert runner._shared_key(own) is None
    with runner.shared_checks():
        assert runner._shared_key(network) is not None
        assert runner._shared_key(own) is None
