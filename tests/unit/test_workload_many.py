"""plug_many / unplug_many / check_many with workloads' ends.

An item of a batch is ``(vif, instance_info)`` or ``(vif, instance_info,
workload)``.  The loaded noop plugin stands in for a plugin (its methods
replaced by recorders), as in test_workload_api: what matters here is
what os_vif hands to a plugin, and what it refuses before.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import os_vif
from os_vif import exception, host_state
from os_vif.objects import instance_info, workload
from os_vif.plugin import PluginBase
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="pod-1", project_id="p1"
)


def _end(n: int) -> workload.WorkloadInterface:
    return workload.WorkloadInterface(netns="pod%d" % n, ifname="eth0")


@pytest.fixture
def noop() -> PluginBase:
    os_vif.initialize()
    plugin: PluginBase = os_vif._EXT_MANAGER["noop"].obj  # type: ignore[index]
    return plugin


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the plugin was called")


def _record(seen: list[Any], answer: Any) -> Any:
    def method(pairs: Any, *rest: Any, **kwargs: Any) -> Any:
        seen.append(([vif.vif_name for vif, _info in pairs], kwargs))
        return [answer] * len(pairs)

    return method


@pytest.mark.parametrize("function", ["plug_many", "unplug_many"])
def test_workloads_are_given_only_when_an_item_has_one(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase, function: str
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(
        noop, function, _record(seen, host_state.Outcome.DONE)
    )
    a, b, c = (vifs.nested_vif(n) for n in range(3))
    end = _end(1)
    # Without any workload: os-vif 5.x's call, no keyword at all.
    assert getattr(os_vif, function)([(a, INSTANCE), (b, INSTANCE, None)]) == [
        None,
        None,
    ]
    # With one: a workload per pair, None where an item has none.
    getattr(os_vif, function)(
        [(a, INSTANCE), (b, INSTANCE, end), (c, INSTANCE, None)]
    )
    assert seen == [
        (["eth0", "eth1"], {}),
        (["eth0", "eth1", "eth2"], {"workloads": [None, end, None]}),
    ]


def test_check_many_gives_the_workloads_too(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(
        noop, "check_many", _record(seen, host_state.CheckReport())
    )
    a, b = vifs.nested_vif(0), vifs.nested_vif(1)
    end = _end(0)
    reports = os_vif.check_many([(a, INSTANCE, end), (b, INSTANCE)])
    assert [report.vif_id for report in reports] == [a.id, b.id]
    assert seen == [(["eth0", "eth1"], {"workloads": [end, None]})]


@pytest.mark.parametrize(
    "function", ["plug_many", "unplug_many", "check_many"]
)
def test_a_bad_workload_refuses_the_whole_call_first(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase, function: str
) -> None:
    for name in ("plug", "unplug", "check", function):
        monkeypatch.setattr(noop, name, _never)
    good = [(vifs.nested_vif(n), INSTANCE, _end(n)) for n in range(3)]
    # Not a WorkloadInterface.
    items: list[Any] = [*good, (vifs.nested_vif(3), INSTANCE, {"netns": "x"})]
    with pytest.raises(exception.InvalidArgument) as caught:
        getattr(os_vif, function)(items)
    assert caught.value.kwargs["field"] == "pairs[3].workload"
    # A VIF whose plugin cannot make its workload's end (noop makes only
    # the nested types' ends).
    user = vifs.vhostuser_vif(0, plugin="noop")
    with pytest.raises(exception.InvalidArgument) as caught:
        getattr(os_vif, function)([good[0], (user, INSTANCE, _end(9))])
    assert caught.value.kwargs["field"] == "pairs[1].workload"
    assert "cannot make the workload's end" in str(caught.value)
    # Neither a pair nor a triple.
    for bad in ((good[0][0],), (*good[0], None)):
        with pytest.raises(exception.InvalidArgument) as caught:
            getattr(os_vif, function)([good[0], bad])
        assert caught.value.kwargs["field"] == "pairs[1]"


def test_a_plugin_that_cannot_is_refused_even_with_its_own_batch(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase
) -> None:
    # supports_workload decides, as for plug(): a plugin written for
    # os-vif 5.x (the default answers False) never sees a workload.
    monkeypatch.setattr(noop, "supports_workload", lambda vif: False)
    monkeypatch.setattr(noop, "plug_many", _never)
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug_many([(vifs.nested_vif(0), INSTANCE, _end(0))])
    assert caught.value.kwargs["field"] == "pairs[0].workload"


def test_an_override_without_workloads_gets_the_default_loop(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase
) -> None:
    native: list[Any] = []
    single: list[Any] = []

    def plug_many(pairs: Any, progress: Any = None) -> Any:
        native.append(len(pairs))
        return [host_state.Outcome.DONE] * len(pairs)

    def plug(vif: Any, info: Any, **kwargs: Any) -> None:
        single.append((vif.vif_name, kwargs))

    monkeypatch.setattr(noop, "plug_many", plug_many)
    monkeypatch.setattr(noop, "plug", plug)
    end = _end(1)
    a, b = vifs.nested_vif(0), vifs.nested_vif(1)
    os_vif.plug_many([(a, INSTANCE), (b, INSTANCE)])
    assert native == [2] and single == []
    progress: list[Any] = []
    results = os_vif.plug_many(
        [(a, INSTANCE), (b, INSTANCE, end)],
        lambda index, result: progress.append((index, result)),
    )
    assert results == [None, None]
    # Its own batch knows no workloads: the VIFs go one by one through
    # plug, each with its workload, if any.
    assert native == [2]
    assert single == [("eth0", {}), ("eth1", {"workload": end})]
    assert progress == [
        (0, host_state.Outcome.DONE),
        (1, host_state.Outcome.DONE),
    ]


def test_the_defaults_hand_each_workload_to_the_single_methods(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase
) -> None:
    seen: list[Any] = []

    def method(name: str, answer: Any = None) -> Any:
        def call(vif: Any, info: Any, **kwargs: Any) -> Any:
            seen.append((name, vif.vif_name, kwargs))
            if vif.vif_name == "eth2":
                raise RuntimeError("no " + name)
            return answer

        return call

    # PluginBase's batches (noop has its own, for the workload daemon).
    for name in ("plug_many", "unplug_many", "check_many"):
        monkeypatch.setattr(
            noop, name, functools.partial(getattr(PluginBase, name), noop)
        )
    monkeypatch.setattr(noop, "plug", method("plug"))
    monkeypatch.setattr(noop, "unplug", method("unplug"))
    monkeypatch.setattr(
        noop, "check", method("check", host_state.CheckReport())
    )
    end = _end(0)
    items: list[Any] = [
        (vifs.nested_vif(0), INSTANCE, end),
        (vifs.nested_vif(1), INSTANCE),
        (vifs.nested_vif(2), INSTANCE, end),
    ]
    plugged = os_vif.plug_many(items)
    assert plugged[:2] == [None, None]
    assert isinstance(plugged[2], exception.PlugException)
    unplugged = os_vif.unplug_many(items)
    assert isinstance(unplugged[2], exception.UnplugException)
    reports = os_vif.check_many(items)
    assert [report.ok for report in reports] == [True, True, False]
    assert isinstance(reports[2].error, RuntimeError)
    for name in ("plug", "unplug", "check"):
        assert [(vif, kw) for what, vif, kw in seen if what == name] == [
            ("eth0", {"workload": end}),
            ("eth1", {}),
            ("eth2", {"workload": end}),
        ]


def test_noop_makes_a_batch_of_nested_ends_in_one_daemon_call(
    monkeypatch: pytest.MonkeyPatch, noop: PluginBase
) -> None:
    from os_vif.internal.unprivileged import runner

    calls: list[Any] = []

    def run_many(self: Any, plans: Any, *rest: Any, **kw: Any) -> Any:
        calls.append((self.name, [plan.label for plan in plans]))
        # The first is there already; the others are made.
        return [
            runner.PlanResult(changed=position > 0)
            for position in range(len(plans))
        ]

    monkeypatch.setattr(runner.HostRunner, "run_many", run_many)
    nested = [vifs.nested_vif(n) for n in range(3)]
    ends = [
        workload.WorkloadInterface(
            netns="pod%d" % n, ifname="eth0", parent="ens3"
        )
        for n in range(3)
    ]
    items: list[Any] = [
        (vif, INSTANCE, end) for vif, end in zip(nested, ends, strict=True)
    ]
    items.insert(1, (vifs.nested_vif(7), INSTANCE))  # without: nothing
    for function in (noop.plug_many, noop.unplug_many):
        seen: list[Any] = []
        results = function(
            [item[:2] for item in items],
            lambda i, r, s=seen: s.append((i, r)),
            workloads=[*ends[:1], None, *ends[1:]],
        )
        done, unchanged = host_state.Outcome.DONE, host_state.Outcome.UNCHANGED
        assert results == [unchanged, done, done, done]
        assert sorted(seen) == sorted(enumerate(results))
    labels = [vif.id for vif in nested]
    assert calls == [("workload", labels), ("workload", labels)]
