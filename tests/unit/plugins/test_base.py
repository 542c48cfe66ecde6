"""os_vif.plugins.base: one VIF is a batch of one, the orders, leniency.

A toy plugin on the base, whose runner stands in for the privsep daemon
and OVSDB (the in-tree plugins' functional tests run the real ones).
"""

from __future__ import annotations

import logging
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from os_vif import exception, host_state
from os_vif.internal.unprivileged import runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import host_info
from os_vif.objects import vif as vif_objects
from os_vif.plugins import base


class ToyPlans:
    """Plans labelled by vif_name; 'invalid' and 'absent' are special."""

    @staticmethod
    def plug_plan(
        vif: Any, instance_info: Any, config: Any, found: str
    ) -> Plan:
        if vif.vif_name == "invalid":
            raise exception.InvalidArgument(
                field="vif.vif_name", value="invalid", reason="bad"
            )
        return Plan(label=vif.vif_name)

    @staticmethod
    def unplug_plan(
        vif: Any, instance_info: Any, config: Any, found: str
    ) -> Plan | None:
        if vif.vif_name == "absent":
            return None
        return Plan(label=vif.vif_name)


class Toy(base.HostPlugin[str, Any]):
    """Plans labelled by vif_name; discovery says 'gone' for a 'gone*'."""

    RUNNER = runner.HostRunner("toy", None, lambda *a, **k: None)  # type: ignore[arg-type]

    def describe(self) -> host_info.HostPluginInfo:
        return host_info.HostPluginInfo(plugin_name="toy", vif_info=[])

    def discover(
        self, vif: Any, instance_info: Any, *, unplug: bool = False
    ) -> str:
        if unplug and vif.vif_name.startswith("gone"):
            return "gone"
        return "here"

    def plans(self) -> base.Plans[str, Any]:
        return ToyPlans()

    def best_effort(
        self, vif: Any, instance_info: Any, found: str
    ) -> str | None:
        return "what is left" if found == "gone" else None


def fake_run_many(
    monkeypatch: pytest.MonkeyPatch,
    record: Callable[[Any, list[str], runner.Order], None],
    changed: Callable[[str], bool],
) -> None:
    """Replace HostRunner.run_many: ``record(the runner, the plans'
    labels, order)``, then plans labelled 'bad' fail (having changed
    something), the others succeed, having changed what ``changed(label)``
    says."""

    def run_many(
        self: Any,
        plans: Any,
        ovsdb: Any = None,
        *,
        order: runner.Order,
        links: Any = None,
    ) -> list[runner.PlanResult]:
        record(self, [plan.label for plan in plans], order)
        results = []
        for plan in plans:
            if "bad" in plan.label:
                error = exception.HostOperationFailed(
                    operation="x", device=plan.label, err="no"
                )
                results.append(runner.PlanResult(error, True))
            else:
                results.append(runner.PlanResult(changed=changed(plan.label)))
        return results

    monkeypatch.setattr(runner.HostRunner, "run_many", run_many)


@pytest.fixture
def calls(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[list[str], runner.Order]]:
    """run_many, recorded: labels with 'bad' fail, 'new*' change."""
    made: list[tuple[list[str], runner.Order]] = []
    fake_run_many(
        monkeypatch,
        lambda _runner, labels, order: made.append((labels, order)),
        lambda label: label.startswith("new"),
    )
    return made


@pytest.fixture
def toy() -> Toy:
    return Toy(types.SimpleNamespace(privsep_timeout=5))


def _vif(name: str) -> vif_objects.VIFOpenVSwitch:
    return vif_objects.VIFOpenVSwitch(id=str(uuid.uuid4()), vif_name=name)


def test_each_call_runs_in_its_order(toy: Toy, calls: list[Any]) -> None:
    toy.plug(_vif("new1"), None)  # type: ignore[arg-type]
    toy.unplug(_vif("new1"), None)  # type: ignore[arg-type]
    toy.plug_many([(_vif("new1"), None), (_vif("new2"), None)])  # type: ignore[list-item]
    toy.unplug_many([(_vif("new1"), None), (_vif("new2"), None)])  # type: ignore[list-item]
    assert calls == [
        (["new1"], runner.Order.KERNEL_FIRST),
        (["new1"], runner.Order.OVSDB_FIRST),
        (["new1", "new2"], runner.Order.KERNEL_FIRST),
        (["new1", "new2"], runner.Order.TOGETHER),
    ]


def test_one_vif_raises_its_error(toy: Toy, calls: list[Any]) -> None:
    with pytest.raises(exception.HostOperationFailed):
        toy.plug(_vif("bad1"), None)  # type: ignore[arg-type]
    with pytest.raises(exception.InvalidArgument):
        toy.plug(_vif("invalid"), None)  # type: ignore[arg-type]
    # Bad input never reaches the runner.
    assert [labels for labels, _ in calls] == [["bad1"]]
    assert toy.plug(_vif("old1"), None) is None  # type: ignore[func-returns-value,arg-type]


def test_an_unplug_with_nothing_to_do_calls_nothing(
    toy: Toy, calls: list[Any]
) -> None:
    toy.unplug(_vif("absent"), None)  # type: ignore[arg-type]
    assert toy.unplug_many([(_vif("absent"), None)]) == [  # type: ignore[list-item]
        host_state.Outcome.UNCHANGED
    ]
    assert calls == []


def test_a_best_effort_unplug_only_warns_of_a_host_failure(
    toy: Toy, calls: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        toy.unplug(_vif("gone-bad1"), None)  # type: ignore[arg-type]
        results = toy.unplug_many(
            [(_vif("gone-bad2"), None), (_vif("bad3"), None)]
        )  # type: ignore[list-item]
    assert results[0] is host_state.Outcome.DONE
    # Not best effort: its failure is its result.
    assert isinstance(results[1], exception.HostOperationFailed)
    assert caplog.text.count("could not look for what is left") == 2
    with pytest.raises(exception.HostOperationFailed):
        toy.unplug(_vif("bad4"), None)  # type: ignore[arg-type]


def test_validate_plug_and_check_build_the_plug_plan(
    toy: Toy, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(
        runner.HostRunner,
        "validate",
        staticmethod(lambda plan: seen.append(plan.label)),
    )
    monkeypatch.setattr(
        runner.HostRunner,
        "check",
        staticmethod(lambda plan, ovsdb=None: seen.append(plan.label) or []),
    )
    toy.validate_plug(_vif("v1"), None)  # type: ignore[arg-type]
    assert toy.check(_vif("c1"), None).problems == ()  # type: ignore[arg-type]
    with pytest.raises(exception.InvalidArgument):
        toy.validate_plug(_vif("invalid"), None)  # type: ignore[arg-type]
    assert seen == ["v1", "c1"]


# -- workloads' ends in a batch --


class ToyWithWorkloads(Toy):
    """A Toy that makes workloads' ends: the plan says which workload."""

    WORKLOAD_TYPES = (vif_objects.VIFOpenVSwitch,)

    def workload_plug_plan(
        self, vif: Any, instance_info: Any, workload: Any
    ) -> Plan:
        return Plan(label="%s@%s" % (vif.vif_name, workload.netns))

    def workload_host_end(self, vif: Any) -> base.HostEnd:
        return base.HostEnd(name=vif.vif_name, master=None, mtu=None)


@pytest.fixture
def daemons(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, list[str], runner.Order]]:
    """run_many, recorded with the daemon it was sent to: labels with
    'bad' fail, every plan changes."""
    made: list[tuple[str, list[str], runner.Order]] = []
    fake_run_many(
        monkeypatch,
        lambda daemon, labels, order: made.append(
            (daemon.name, labels, order)
        ),
        lambda label: True,
    )
    return made


def _end(netns: str) -> Any:
    from os_vif.objects import workload

    return workload.WorkloadInterface(netns=netns, ifname="eth0")


def test_a_batch_with_workloads_is_split_by_daemon(
    daemons: list[Any],
) -> None:
    toy = ToyWithWorkloads(types.SimpleNamespace(privsep_timeout=5))
    pairs: Any = [(_vif(name), None) for name in ("a", "b", "bad", "d")]
    ends = [None, _end("ns1"), _end("ns2"), None]
    seen: list[Any] = []
    results = toy.plug_many(
        pairs, lambda i, r: seen.append((i, r)), workloads=ends
    )
    # The VIFs without a workload in the plugin's daemon, those with one
    # in the workload daemon (the only one that may enter a namespace).
    assert daemons == [
        ("toy", ["a", "d"], runner.Order.KERNEL_FIRST),
        ("workload", ["b@ns1", "bad@ns2"], runner.Order.KERNEL_FIRST),
    ]
    # Results and progress by the caller's index.
    assert results[:2] == [host_state.Outcome.DONE] * 2
    assert isinstance(results[2], exception.HostOperationFailed)
    assert results[3] is host_state.Outcome.DONE
    assert sorted(index for index, _ in seen) == [0, 1, 2, 3]
    assert all(results[index] is result for index, result in seen)

    daemons.clear()
    toy.unplug_many(pairs, workloads=ends)
    toy.unplug(pairs[1][0], None, workload=ends[1])
    toy.plug(pairs[1][0], None, workload=ends[1])
    assert [(name, order) for name, _labels, order in daemons] == [
        ("toy", runner.Order.TOGETHER),
        ("workload", runner.Order.TOGETHER),
        ("workload", runner.Order.OVSDB_FIRST),
        ("workload", runner.Order.KERNEL_FIRST),
    ]
    # The unplug of a workload's end removes it first.
    names = [step.NAME for step in _unplug_steps(toy, pairs[1][0], ends[1])]
    assert names[0] == "delete_workload_end"


def _unplug_steps(toy: Any, vif: Any, end: Any) -> list[Any]:
    job = toy._unplug_job(vif, None, end)
    return list(job.plan.steps)


def test_check_many_checks_each_with_its_workload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from os_vif.internal import linkstate

    toy = ToyWithWorkloads(types.SimpleNamespace(privsep_timeout=5))
    seen: list[str] = []
    # The batch's one link dump, of a host without links.
    monkeypatch.setattr(
        linkstate.LinkTable, "read", classmethod(lambda cls: cls({}, {}))
    )
    monkeypatch.setattr(
        runner.HostRunner,
        "check",
        staticmethod(lambda plan, ovsdb=None: seen.append(plan.label) or []),
    )
    pairs: Any = [(_vif("a"), None), (_vif("b"), None)]
    reports = toy.check_many(pairs, workloads=[_end("ns1"), None])
    assert [report.ok for report in reports] == [True, True]
    assert seen == ["a@ns1", "b"]
