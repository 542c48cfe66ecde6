"""The plan executor: validation first, then steps, rollback on failure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from os_vif import exception
from os_vif.internal import host_ops, operations, validation


@pytest.fixture
def journal(monkeypatch):
    """Two test operations that log what they do and undo."""
    log: list[str] = []

    def make(name):
        def run(tx, name, fail=False):
            if fail:
                raise OSError(17, "boom")
            log.append("do " + name)
            tx.on_undo("make " + name, lambda: log.append("undo " + name))
            return True

        return operations.Operation(
            name=name,
            params={"name": validation.interface_name,
                    "fail": validation.boolean},
            required=frozenset({"name"}),
            run=run,
        )

    monkeypatch.setitem(operations.OPERATIONS, "t_make", make("t_make"))
    return log


def test_steps_run_in_order_and_report_change(journal):
    result = operations.execute(
        [["t_make", {"name": "a"}], ["t_make", {"name": "b"}]]
    )
    assert result == [True, True]
    assert journal == ["do a", "do b"]


def test_failure_undoes_earlier_steps_newest_first(journal):
    with pytest.raises(exception.HostOperationFailed) as caught:
        operations.execute(
            [
                ["t_make", {"name": "a"}],
                ["t_make", {"name": "b"}],
                ["t_make", {"name": "c", "fail": True}],
            ]
        )
    assert journal == ["do a", "do b", "undo b", "undo a"]
    assert caught.value.kwargs["device"] == "c"
    assert "boom" in str(caught.value)


def test_a_failing_undo_does_not_stop_the_others(journal, monkeypatch):
    def broken(tx, name):
        tx.on_undo("broken", lambda: 1 / 0)
        return True

    monkeypatch.setitem(
        operations.OPERATIONS,
        "t_broken",
        operations.Operation(
            "t_broken", {"name": validation.interface_name},
            frozenset({"name"}), broken,
        ),
    )
    with pytest.raises(exception.HostOperationFailed):
        operations.execute(
            [
                ["t_make", {"name": "a"}],
                ["t_broken", {"name": "b"}],
                ["t_make", {"name": "c", "fail": True}],
            ]
        )
    assert journal == ["do a", "undo a"]


def test_os_vif_errors_pass_through_after_rollback(journal, monkeypatch):
    def missing(tx, name):
        raise exception.NetworkInterfaceNotFound(interface=name)

    monkeypatch.setitem(
        operations.OPERATIONS,
        "t_missing",
        operations.Operation(
            "t_missing", {"name": validation.interface_name},
            frozenset({"name"}), missing,
        ),
    )
    with pytest.raises(exception.NetworkInterfaceNotFound):
        operations.execute(
            [["t_make", {"name": "a"}], ["t_missing", {"name": "x"}]]
        )
    assert journal == ["do a", "undo a"]


@pytest.mark.parametrize(
    "plan, field",
    [
        ("not a plan", "plan"),
        ([["t_make"]], "step"),
        ([["nope", {}]], "operation"),
        ([[None, {}]], "operation"),
        ([["t_make", []]], "t_make"),
        ([["t_make", {"name": "a", "extra": 1}]], "t_make argument"),
        ([["t_make", {}]], "t_make.name"),
        ([["t_make", {"name": "a/b"}]], "t_make.name"),
    ],
)
def test_bad_plans_are_refused_before_anything_runs(journal, plan, field):
    full = [["t_make", {"name": "first"}], *plan] if plan != "not a plan" \
        else plan
    with pytest.raises(exception.InvalidArgument) as caught:
        operations.execute(full)
    assert caught.value.kwargs["field"] == field
    assert journal == []


def test_every_registered_operation_validates_its_name():
    # Importing host_ops registers every operation the daemon serves.
    assert host_ops.LINUX_BRIDGE.name == "linux_bridge"
    for name, op in operations.OPERATIONS.items():
        if name.startswith("t_"):
            continue
        assert op.params["name"] is validation.interface_name, name
        assert "name" in op.required


def test_client_validates_before_calling_the_daemon():
    calls = []
    ops = host_ops.HostOperations("test", calls.append)
    with pytest.raises(exception.InvalidArgument) as caught:
        ops.run([host_ops.ensure_bridge("br0"), host_ops.ensure_tap("t/1")])
    assert caught.value.kwargs["field"] == "ensure_tap.name"
    assert calls == []
    assert ops.run([]) == []


def test_step_builders_leave_out_unset_arguments():
    step = host_ops.ensure_tap("tap0", master="br0")
    assert step == host_ops.Step(
        "ensure_tap",
        {"name": "tap0", "multiqueue": False, "up": True, "master": "br0"},
    )
    assert host_ops.disable_ipv6("br0").arguments == {
        "name": "br0", "family": "ipv6", "key": "disable_ipv6", "value": 1,
    }


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_names = st.sampled_from(sorted(operations.OPERATIONS))


@given(
    st.one_of(
        _junk,
        st.lists(
            st.tuples(_names, st.dictionaries(
                st.sampled_from(["name", "mtu", "mac", "master", "vlan",
                                 "link", "peer", "netns", "uplinks", "up",
                                 "value", "key", "family", "vf"]),
                _junk,
                max_size=5,
            )).map(list),
            max_size=3,
        ),
    )
)
def test_junk_plans_fail_only_with_invalid_argument(plan):
    """Whatever a client sends, validation refuses it cleanly or accepts it
    in canonical form; it never raises anything else."""
    try:
        steps = operations.validate_plan(plan)
    except exception.InvalidArgument:
        return
    for op, arguments in steps:
        assert set(arguments) <= set(op.params)
        if "name" in arguments:
            validation.interface_name(arguments["name"])
