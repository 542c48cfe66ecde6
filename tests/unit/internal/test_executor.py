"""The daemon's plan executor: validation, admission, groups, undo, journal.

Test operations log what they do and undo (no host involved); the real
operations' validation is checked on their classes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from os_vif import exception
from os_vif.internal import kernel as devices
from os_vif.internal import operation, validation
from os_vif.internal.privileged import apply as privileged_apply
from os_vif.internal.privileged import executor, journal
from os_vif.internal.unprivileged import runner

LOG: list[str] = []


class TUndo(devices.KernelOperation):
    NAME = "t_undo"
    PARAMS = {"name": validation.interface_name}


def apply_undo(op: TUndo, ctx: privileged_apply.Context) -> bool:
    LOG.append("undo " + op.device)
    # An undo is a change like any other: what it would record for
    # itself must not be run in turn.
    ctx.record_undo(TUndo(name=op.device))
    return True


class TMake(devices.KernelOperation):
    NAME = "t_make"
    PARAMS = {
        "name": validation.interface_name,
        "fail": validation.boolean,
        "refuse": validation.boolean,
        "missing": validation.boolean,
    }

    def admit(self, scope: devices.Scope) -> None:
        if self.get("refuse"):
            raise exception.HostOperationRefused(
                operation="change", device=self.device, rule="not ours"
            )


def apply_make(op: TMake, ctx: privileged_apply.Context) -> bool:
    if op.get("fail"):
        raise OSError(17, "boom")
    if op.get("missing"):
        raise exception.NetworkInterfaceNotFound(interface=op.device)
    ctx.record_undo(TUndo(name=op.device))
    LOG.append("do " + op.device)
    return True


class TBrokenUndo(TMake):
    NAME = "t_broken"


def apply_broken(op: TBrokenUndo, ctx: privileged_apply.Context) -> bool:
    ctx.record_undo(TMake(name=op.device, fail=True))
    return True


@pytest.fixture(autouse=True)
def registered(monkeypatch, tmp_path):
    LOG.clear()
    for cls, function in (
        (TUndo, apply_undo),
        (TMake, apply_make),
        (TBrokenUndo, apply_broken),
    ):
        monkeypatch.setitem(devices.REGISTRY.classes, cls.NAME, cls)
        monkeypatch.setitem(privileged_apply.APPLY, cls.NAME, function)
    monkeypatch.setattr(journal, "DIRECTORY", str(tmp_path / "plans"))
    return LOG


def run(*groups: list[list[Any]]) -> list[dict[str, Any]]:
    return executor.execute({"id": uuid.uuid4().hex, "groups": list(groups)})


def step(name: str, **arguments: Any) -> list[Any]:
    return ["t_make", {"name": name, **arguments}]


def test_steps_run_in_order_and_report_change_and_undo():
    result = run([step("a"), step("b")])
    assert result == [
        {
            "changed": [True, True],
            "undo": [["t_undo", {"name": "a"}], ["t_undo", {"name": "b"}]],
        }
    ]
    assert LOG == ["do a", "do b"]


def test_failure_undoes_earlier_steps_newest_first():
    result = run([step("a"), step("b"), step("c", fail=True)])
    assert LOG == ["do a", "do b", "undo b", "undo a"]
    name, message, kwargs = result[0]["error"]
    assert name == "HostOperationFailed"
    assert kwargs["device"] == "c" and "boom" in message


def test_a_failing_undo_does_not_stop_the_others():
    result = run(
        [step("a"), ["t_broken", {"name": "b"}], step("c", fail=True)]
    )
    assert "error" in result[0]
    assert LOG == ["do a", "undo a"]


def test_os_vif_errors_pass_through_after_rollback():
    result = run([step("a"), step("x", missing=True)])
    assert result[0]["error"][0] == "NetworkInterfaceNotFound"
    assert LOG == ["do a", "undo a"]


def test_a_refusal_comes_before_any_change():
    result = run([step("a"), step("b", refuse=True)])
    assert result[0]["error"][0] == "HostOperationRefused"
    assert LOG == []


def test_groups_are_all_or_nothing_each():
    result = run([step("a")], [step("b"), step("c", fail=True)], [step("d")])
    assert [("error" in r) for r in result] == [False, True, False]
    assert LOG == ["do a", "do b", "undo b", "do d"]


def test_the_journal_of_a_lost_call_is_taken_back(tmp_path):
    identifier = uuid.uuid4().hex
    # What a daemon killed mid-call leaves: its journal, no answer.
    record = journal.Journal(identifier)
    record.record(["t_undo", {"name": "a"}])
    record.record(["t_undo", {"name": "b"}])
    record._file.close()
    assert executor.execute({"id": identifier, "recover": True})
    assert LOG == ["undo b", "undo a"]
    assert journal.read(identifier) == []
    # A call that returns leaves no journal behind.
    run([step("c")])
    assert list((tmp_path / "plans").iterdir()) == []


@pytest.mark.parametrize(
    "groups, field",
    [
        ("not a plan", "plan.groups"),
        ([["t_make"]], "step"),
        ([[["nope", {}]]], "operation"),
        ([[[None, {}]]], "operation"),
        ([[["t_make", []]]], "t_make"),
        ([[["t_make", {"name": "a", "extra": 1}]]], "t_make argument"),
        ([[["t_make", {}]]], "t_make.name"),
        ([[["t_make", {"name": "a/b"}]]], "t_make.name"),
    ],
)
def test_bad_plans_are_refused_before_anything_runs(groups, field):
    if isinstance(groups, list):
        groups = [[step("first")], *groups]
    with pytest.raises(exception.InvalidArgument) as caught:
        executor.execute({"id": uuid.uuid4().hex, "groups": groups})
    assert caught.value.kwargs["field"] == field
    assert LOG == []


def test_a_plan_needs_an_id():
    for plan in ([], {"groups": []}, {"id": "../../etc", "groups": []}):
        with pytest.raises(exception.InvalidArgument):
            executor.execute(plan)


def test_every_kernel_operation_validates_its_name():
    for name, cls in devices.REGISTRY.classes.items():
        if name.startswith("t_"):
            continue
        assert cls.PARAMS["name"] is validation.interface_name, name
        assert "name" in cls.REQUIRED


def test_operations_validate_when_made_naming_the_argument():
    with pytest.raises(exception.InvalidArgument) as caught:
        devices.EnsureTap(name="t/1")
    assert caught.value.kwargs["field"] == "ensure_tap.name"
    with pytest.raises(exception.InvalidArgument) as caught:
        devices.EnsureBridge(name="br0", mtu=10)
    assert caught.value.kwargs["field"] == "ensure_bridge.mtu"


def test_client_validates_the_wire_form_as_the_daemon_does():
    calls: list[Any] = []
    host = runner.HostRunner("test", None, calls.append)  # type: ignore
    plan = runner.Plan(steps=[devices.EnsureBridge(name="br0")])
    host.validate(plan)
    assert calls == []
    assert host.run_many([]) == []


def test_wire_form_leaves_out_unset_arguments():
    op = devices.EnsureTap(name="tap0", master="br0", mtu=None)
    assert op.to_wire() == ["ensure_tap", {"name": "tap0", "master": "br0"}]
    assert devices.disable_ipv6("br0").to_wire() == [
        "set_sysctl",
        {"name": "br0", "family": "ipv6", "key": "disable_ipv6", "value": 1},
    ]
    assert devices.REGISTRY.from_wire(op.to_wire()) == op


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_names = st.sampled_from(
    sorted(n for n in devices.REGISTRY.classes if not n.startswith("t_"))
)


@given(
    st.one_of(
        _junk,
        st.lists(
            st.tuples(
                _names,
                st.dictionaries(
                    st.sampled_from(
                        ["name", "mtu", "mac", "master", "vlan", "link",
                         "peer", "uplinks", "up", "value", "key", "family",
                         "vf", "role", "kind", "vif_id"]
                    ),
                    _junk,
                    max_size=5,
                ),
            ).map(list),
            max_size=3,
        ),
    )
)
def test_junk_plans_fail_only_with_invalid_argument(steps):
    """Whatever a client sends, validation refuses it cleanly or accepts it
    in canonical form; it never raises anything else."""
    try:
        _id, groups, _recover = devices.parse_plan(
            {"id": "0" * 32, "groups": [steps]}
        )
    except exception.InvalidArgument:
        return
    for op in groups[0]:
        assert isinstance(op, operation.Operation)
        assert set(op.arguments) <= set(op.PARAMS)
        validation.interface_name(op.arguments["name"])


@pytest.mark.parametrize(
    "name",
    sorted(n for n in devices.REGISTRY.classes if not n.startswith("t_")),
)
def test_an_argument_named_self_is_refused_as_unknown(name):
    # Found by the privileged entry point fuzzer: {"self": ...} reached
    # the constructor's own parameter and raised TypeError, which left the
    # daemon as no os_vif exception.
    with pytest.raises(exception.InvalidArgument) as caught:
        devices.parse_plan(
            {"id": "0" * 32, "groups": [[[name, {"name": "a", "self": 1}]]]}
        )
    assert caught.value.kwargs["field"] == "%s argument" % name
    assert caught.value.kwargs["value"] == "self"
