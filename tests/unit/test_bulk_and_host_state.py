"""plug_many / unplug_many / check / gc: the contract layer.

The in-tree plugins are loaded by stevedore from this distribution's entry
points; third-party plugins are installed as fake distributions (a
dist-info with entry points, on sys.path), as in test_loading, so the
real loader finds them.  The test plugins record what they are given in
their module's ``CALLS`` list.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap

import pytest

import os_vif
from os_vif import exception, host_state
from os_vif.objects import instance_info
from os_vif.objects import vif as vif_objects
from os_vif.plugin import PluginBase
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="vm-1", project_id="p1"
)

# One plugin per behaviour; each module's CALLS records (method, names).
LOOPING = """
from os_vif import host_state
from os_vif.objects import host_info
from os_vif.plugin import PluginBase

CALLS = []


class Plugin(PluginBase):
    # Only the three required methods: every other one is PluginBase's.
    def describe(self):
        return host_info.HostPluginInfo(plugin_name="looping", vif_info=[])

    def plug(self, vif, instance_info):
        CALLS.append(("plug", vif.vif_name))
        if vif.vif_name.startswith("bad"):
            raise RuntimeError("cannot plug " + vif.vif_name)
        if vif.vif_name.startswith("same"):
            return host_state.Outcome.UNCHANGED
        return None

    def unplug(self, vif, instance_info):
        CALLS.append(("unplug", vif.vif_name))
        if vif.vif_name.startswith("bad"):
            raise OSError(16, "Device or resource busy")
"""

NATIVE = """
from os_vif import exception, host_state
from os_vif.objects import host_info
from os_vif.plugin import PluginBase

CALLS = []
# What the next plug_many does: "ok", "raise", "short", "swallow".
MODE = ["ok"]


class Plugin(PluginBase):
    def describe(self):
        return host_info.HostPluginInfo(plugin_name="native", vif_info=[])

    def plug(self, vif, instance_info):
        raise AssertionError("plug_many is native: plug is not called")

    def unplug(self, vif, instance_info):
        raise AssertionError("unplug_many is native")

    def plug_many(self, pairs, progress=None):
        CALLS.append(("plug_many", [vif.vif_name for vif, _ in pairs]))
        mode = MODE[0]
        if mode == "raise":
            raise RuntimeError("ovsdb-server went away")
        if mode == "short":
            return [host_state.Outcome.DONE]
        results = []
        for index, (vif, _instance) in enumerate(pairs):
            if vif.vif_name.startswith("bad"):
                result = exception.PlugException(vif=vif, err="refused")
            else:
                result = host_state.Outcome.DONE
            results.append(result)
            if progress is not None:
                if mode == "swallow":
                    try:
                        progress(index, result)
                    except Exception:  # a careless plugin
                        pass
                else:
                    progress(index, result)
        return results

    def unplug_many(self, pairs, progress=None):
        CALLS.append(("unplug_many", [vif.vif_name for vif, _ in pairs]))
        return ["not a result"] * len(pairs)

    def check(self, vif, instance_info):
        CALLS.append(("check", vif.vif_name))
        if vif.vif_name.startswith("bad"):
            raise RuntimeError("cannot read OVSDB")
        if vif.vif_name.startswith("odd"):
            return "fine"
        return host_state.CheckReport(
            problems=[
                host_state.Problem("device " + vif.vif_name, "mtu", 1450, 1500)
            ]
        )

    def gc(self, keep, dry_run=False):
        CALLS.append(("gc", [vif.vif_name for vif in keep], dry_run))
        if MODE[0] == "raise":
            raise RuntimeError("netlink dump failed")
        kept = {vif.vif_name for vif in keep}
        return host_state.PluginCollection(
            removals=[
                host_state.Removal(
                    what="device " + name,
                    kind="tap",
                    reason="no VIF in keep has it",
                    owner="owner-" + name,
                    error=OSError(1, "denied") if name == "stuck" else None,
                )
                for name in ("leak0", "stuck", "kept0")
                if name not in kept
            ]
        )
"""

@pytest.fixture(autouse=True)
def _in_tree_plugins_see_an_empty_host(empty_host, empty_ovsdb):
    """The in-tree plugins' native check and gc read the host: here they
    see one without links and an empty OVSDB (tests/unit/conftest.py's
    fake netlink socket and OVSDB API).

    What they find on a real host is tested with real devices in
    tests/functional.
    """
    return empty_host



@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """Install the test plugins as a fake distribution; reload os_vif."""
    info = tmp_path / "bulk_test_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bulk-test-plugins\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[os_vif]\nlooping = fake_bulk_looping:Plugin\n"
        "native = fake_bulk_native:Plugin\n"
    )
    for name, source in (("looping", LOOPING), ("native", NATIVE)):
        (tmp_path / ("fake_bulk_%s.py" % name)).write_text(
            textwrap.dedent(source)
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    os_vif.initialize(reset=True)
    yield (
        sys.modules["fake_bulk_looping"],
        sys.modules["fake_bulk_native"],
    )
    for module in ("fake_bulk_looping", "fake_bulk_native"):
        sys.modules.pop(module, None)
    # Off sys.path first, so that the next loading finds them no more.
    monkeypatch.undo()
    os_vif.initialize(reset=True)


def generic(name, plugin="looping", n=0):
    # Not a sandbox factory's: a VIF of this file's fake plugins, whose
    # behaviour the vif_name picks ("bad..." fails, "same..." is unchanged).
    return vif_objects.VIFGeneric(
        id="b2d6c7b4-1a0f-4a53-8b0c-%012d" % n,
        plugin=plugin,
        vif_name=name,
        network=vifs.network_of(None),
    )


# -- plug_many / unplug_many --


def test_plug_many_through_the_real_noop_plugin():
    os_vif.initialize(reset=True)
    seen = []
    pairs = [(vifs.nested_vif(0), INSTANCE), (vifs.nested_vif(1), INSTANCE)]
    results = os_vif.plug_many(pairs, lambda i, r: seen.append((i, r)))
    assert results == [None, None]
    assert seen == [(0, host_state.Outcome.DONE), (1, host_state.Outcome.DONE)]
    assert os_vif.unplug_many(iter(pairs)) == [None, None]


def test_one_bad_vif_fails_alone_and_results_keep_the_input_order(plugins):
    looping, native = plugins
    pairs = [
        (generic("a0"), INSTANCE),
        (generic("n0", "native"), INSTANCE),
        (generic("bad1"), INSTANCE),
        (vifs.nested_vif(0), INSTANCE),
        (generic("same2"), INSTANCE),
        (generic("bad-n1", "native"), INSTANCE),
        (generic("a3"), INSTANCE),
    ]
    seen = {}
    results = os_vif.plug_many(pairs, lambda i, r: seen.setdefault(i, r))
    # Every VIF was tried, each plugin once with its own VIFs in order.
    assert looping.CALLS == [
        ("plug", "a0"), ("plug", "bad1"), ("plug", "same2"), ("plug", "a3")
    ]
    assert native.CALLS == [("plug_many", ["n0", "bad-n1"])]
    assert [r is None for r in results] == [
        True, True, False, True, True, False, True
    ]
    failed = results[2]
    assert isinstance(failed, exception.PlugException)
    assert failed.kwargs["vif"] is pairs[2][0]
    assert isinstance(failed.kwargs["err"], RuntimeError)
    assert failed.__cause__ is failed.kwargs["err"]
    assert "cannot plug bad1" in str(failed)
    # A plugin's own PlugException is wrapped, as os_vif.plug wraps it.
    native_failure = results[5]
    assert isinstance(native_failure, exception.PlugException)
    assert isinstance(native_failure.kwargs["err"], exception.PlugException)
    # Progress: once per pair, "unchanged" told apart from "done", and the
    # failure the same object as returned.
    assert sorted(seen) == list(range(7))
    assert seen[4] is host_state.Outcome.UNCHANGED
    assert seen[0] is seen[1] is host_state.Outcome.DONE
    assert seen[2] is results[2] and seen[5] is results[5]


def test_unplug_many_wraps_in_unplug_exception(plugins):
    looping, _native = plugins
    results = os_vif.unplug_many(
        [(generic("bad0"), INSTANCE), (generic("a1"), INSTANCE)]
    )
    assert isinstance(results[0], exception.UnplugException)
    assert isinstance(results[0].kwargs["err"], OSError)
    assert results[1] is None
    assert looping.CALLS == [("unplug", "bad0"), ("unplug", "a1")]


def test_a_plugin_breaking_the_batch_contract_fails_only_its_vifs(plugins):
    looping, native = plugins
    pairs = [
        (generic("n0", "native"), INSTANCE),
        (generic("a0"), INSTANCE),
        (generic("n1", "native"), INSTANCE),
    ]
    native.MODE[0] = "raise"
    results = os_vif.plug_many(pairs)
    assert results[1] is None
    for index in (0, 2):
        assert isinstance(results[index], exception.PlugException)
        assert "ovsdb-server went away" in str(results[index].kwargs["err"])
    native.MODE[0] = "short"  # one result for two VIFs
    results = os_vif.plug_many(pairs)
    assert results[1] is None
    assert all(
        isinstance(results[i].kwargs["err"], TypeError) for i in (0, 2)
    )
    assert "returned 1 results for 2 VIFs" in str(results[0])
    # Neither an Outcome nor an exception: that VIF failed.
    results = os_vif.unplug_many(pairs)
    assert isinstance(results[0], exception.UnplugException)
    assert "neither an Outcome nor an exception" in str(results[0])
    assert results[1] is None


class Stop(Exception):
    pass


@pytest.mark.parametrize("mode", ["ok", "swallow"])
def test_what_progress_raises_ends_the_call(plugins, mode):
    looping, native = plugins
    native.MODE[0] = mode

    def progress(index, result):
        raise Stop(index)

    with pytest.raises(Stop):
        os_vif.plug_many(
            [(generic("a0"), INSTANCE), (generic("a1"), INSTANCE)], progress
        )
    # The default loop stopped after the first VIF.
    assert looping.CALLS == [("plug", "a0")]
    # Even a plugin catching Exception around progress does not hide it.
    with pytest.raises(Stop):
        os_vif.plug_many([(generic("n0", "native"), INSTANCE)], progress)


def test_pairs_are_checked_before_any_plugin_is_called(plugins):
    looping, _native = plugins
    good = (generic("a0"), INSTANCE)
    cases = [
        (None, "pairs"),
        ("vifs", "pairs"),
        ({"a": 1}, "pairs"),
        ([good, (generic("a1"),)], "pairs[1]"),
        ([good, "ab"], "pairs[1]"),
        ([good, ("not a vif", INSTANCE)], "pairs[1].vif"),
        ([good, (generic("a1"), {"uuid": 1})], "pairs[1].instance_info"),
        ([good, (vif_objects.VIFGeneric(), INSTANCE)], "pairs[1].vif.plugin"),
    ]
    for pairs, field in cases:
        for function in (os_vif.plug_many, os_vif.unplug_many):
            with pytest.raises(exception.InvalidArgument) as caught:
                function(pairs)
            assert caught.value.kwargs["field"] == field
    with pytest.raises(exception.NoMatchingPlugin) as caught:
        os_vif.plug_many([good, (generic("x", "nosuch"), INSTANCE)])
    assert "nosuch" in str(caught.value)
    assert caught.value.__notes__ == ["in pairs[1]"]
    assert looping.CALLS == []


def test_plug_many_needs_initialize(monkeypatch):
    monkeypatch.setattr(os_vif, "_EXT_MANAGER", None)
    for call in (
        lambda: os_vif.plug_many([]),
        lambda: os_vif.unplug_many(None),
        lambda: os_vif.check(None, None),
        lambda: os_vif.gc([]),
    ):
        with pytest.raises(exception.LibraryNotInitialized):
            call()


def test_an_empty_batch_is_no_work():
    os_vif.initialize()
    assert os_vif.plug_many([]) == []
    assert os_vif.unplug_many(()) == []


def test_non_os_vif_objects_are_dispatched_with_a_warning(plugins):
    looping, _native = plugins

    class Double:
        plugin = "looping"
        vif_name = "double"

    with pytest.warns(DeprecationWarning, match=r"pairs\[0\].vif"):
        assert os_vif.plug_many([(Double(), INSTANCE)]) == [None]
    assert looping.CALLS == [("plug", "double")]


# -- check --


def test_check_through_the_real_noop_plugin():
    os_vif.initialize(reset=True)
    report = os_vif.check(vifs.nested_vif(3), INSTANCE)
    assert report == host_state.CheckReport(
        vif_id=vifs.nested_vif(3).id, plugin="noop"
    )
    assert report.ok and report.supported and report.status == "ok"


def test_in_tree_plugins_check_natively():
    os_vif.initialize(reset=True)
    # Every ovs plan names the VIF's bridge (os-vif 5.x ensures it even
    # without create_port), so a check that reads no host is one the plan
    # refuses: the plugin's own check reports the field.
    vif = _unplannable_ovs_vif()
    report = os_vif.check(vif, INSTANCE)
    assert report.supported and report.status == "error"
    assert (report.plugin, report.problems) == ("ovs", ())
    assert isinstance(report.error, exception.InvalidArgument)
    assert report.error.kwargs["field"] == "vif.vif_name"


def _unplannable_ovs_vif():
    vif = vifs.ovs_vif(create_port=False, create_tap=False)
    vif.vif_name = "a-name-far-too-long"
    return vif


def test_check_reports_problems_and_errors(plugins):
    _looping, native = plugins
    report = os_vif.check(generic("tap0", "native", n=7), INSTANCE)
    assert report.problems == (
        host_state.Problem("device tap0", "mtu", 1450, 1500),
    )
    assert not report.ok and report.status == "problems"
    assert report.vif_id == generic("x", n=7).id
    assert str(report.problems[0]) == "device tap0: mtu is 1500, expected 1450"
    failed = os_vif.check(generic("bad0", "native"), INSTANCE)
    assert isinstance(failed.error, RuntimeError)
    assert (failed.ok, failed.status, failed.supported) == (
        False, "error", True
    )
    odd = os_vif.check(generic("odd0", "native"), INSTANCE)
    assert isinstance(odd.error, TypeError)
    # The third-party plugin without check: PluginBase's default.
    assert os_vif.check(generic("a0"), INSTANCE).status == "not supported"


def test_check_checks_its_arguments_as_plug(plugins):
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.check("not a vif", INSTANCE)
    assert caught.value.kwargs["field"] == "vif"
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.check(generic("a0"), None)
    assert caught.value.kwargs["field"] == "instance_info"
    with pytest.raises(exception.NoMatchingPlugin):
        os_vif.check(generic("a0", "nosuch"), INSTANCE)


def test_check_many_keeps_the_order_and_groups_per_plugin(plugins):
    _looping, native = plugins
    pairs = [
        (generic("tap0", "native"), INSTANCE),
        (vifs.nested_vif(0), INSTANCE),
        (generic("bad1", "native"), INSTANCE),
        (generic("a0"), INSTANCE),
        (_unplannable_ovs_vif(), INSTANCE),
    ]
    reports = os_vif.check_many(pairs)
    # native has check but not check_many: PluginBase loops over check.
    assert native.CALLS == [("check", "tap0"), ("check", "bad1")]
    assert [r.status for r in reports] == [
        "problems", "ok", "error", "not supported", "error"
    ]
    assert [r.plugin for r in reports] == [
        "native", "noop", "native", "looping", "ovs"
    ]
    assert [r.vif_id for r in reports] == [v.id for v, _ in pairs]
    assert isinstance(reports[2].error, RuntimeError)
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.check_many([pairs[0], (None, INSTANCE)])
    assert caught.value.kwargs["field"] == "pairs[1].vif"
    assert os_vif.check_many([]) == []


def test_check_many_reports_a_broken_batch_on_each_vif(plugins, monkeypatch):
    _looping, native = plugins
    plugin = os_vif._EXT_MANAGER["native"].obj
    pairs = [(generic("a", "native"), INSTANCE)] * 2
    monkeypatch.setattr(plugin, "check_many", lambda pairs: [])
    reports = os_vif.check_many(pairs)
    assert [type(r.error) for r in reports] == [TypeError, TypeError]
    assert "returned 0 reports for 2 VIFs" in str(reports[0].error)
    monkeypatch.setattr(plugin, "check_many", lambda pairs: [1, 2])
    assert "not a CheckReport" in str(os_vif.check_many(pairs)[1].error)


# -- gc --


def test_gc_offers_every_plugin_its_vifs_of_keep(plugins):
    looping, native = plugins
    keep = [generic("kept0", "native"), vifs.nested_vif(0), generic("a0")]
    report = os_vif.gc(keep, dry_run=True)
    # Only its own VIFs, and the flag.
    assert native.CALLS == [("gc", ["kept0"], True)]
    by_plugin = {c.plugin: c for c in report.plugins}
    assert {"looping", "native", "noop", "ovs", "linux_bridge"} <= set(
        by_plugin
    )
    assert by_plugin["noop"] == host_state.PluginCollection(plugin="noop")
    assert by_plugin["noop"].ok
    # The third-party plugin with only plug/unplug: PluginBase's "not
    # supported"; the in-tree plugins collect natively (nothing here).
    assert not by_plugin["looping"].supported and not by_plugin["looping"].ok
    for name in ("ovs", "linux_bridge", "offload"):
        assert by_plugin[name].ok and not by_plugin[name].removals
    assert report.dry_run and not report.ok
    # The sequence of removals, stamped with their plugin.
    assert [r.what for r in report] == ["device leak0", "device stuck"]
    assert len(report) == 2 and report[0].plugin == "native"
    assert report[0].owner == "owner-leak0" and not report[0].failed
    assert report[1].failed and isinstance(report[1].error, OSError)
    assert list(report) == list(report.removals)


def test_gc_with_nothing_to_keep_still_asks_every_plugin(plugins):
    _looping, native = plugins
    seen = []
    report = os_vif.gc([], progress=seen.append)
    # Progress: each plugin's collection, as it is done.
    assert tuple(seen) == report.plugins and len(seen) >= 5
    assert native.CALLS == [("gc", [], False)]
    assert [r.what for r in report] == [
        "device leak0", "device stuck", "device kept0"
    ]


def test_one_plugin_failing_does_not_stop_the_others(plugins):
    _looping, native = plugins
    native.MODE[0] = "raise"
    report = os_vif.gc([vifs.nested_vif(0)])
    by_plugin = {c.plugin: c for c in report.plugins}
    assert isinstance(by_plugin["native"].error, RuntimeError)
    assert by_plugin["noop"].ok
    assert len(report) == 0 and not report.ok


def test_keep_naming_an_unloaded_plugin_is_reported(plugins):
    report = os_vif.gc([generic("x", "gone"), generic("y", "gone")])
    gone = [c for c in report.plugins if c.plugin == "gone"]
    assert len(gone) == 1 and not gone[0].supported
    assert "no plugin of this name is loaded; 2 VIFs of keep" in (
        gone[0].reason
    )


def test_keep_is_checked_first(plugins):
    _looping, native = plugins
    for keep, field in (
        (None, "keep"),
        ("abc", "keep"),
        ([vifs.nested_vif(0), "abc"], "keep[1]"),
        ([vif_objects.VIFGeneric()], "keep[0].plugin"),
    ):
        with pytest.raises(exception.InvalidArgument) as caught:
            os_vif.gc(keep)
        assert caught.value.kwargs["field"] == field
    assert native.CALLS == []


# -- PluginBase defaults, directly --


class Minimal(PluginBase):
    def __init__(self):
        super().__init__(None)
        self.calls = []

    def describe(self):
        raise NotImplementedError

    def plug(self, vif, instance_info):
        self.calls.append(vif)
        if vif == "boom":
            raise ValueError(vif)

    def unplug(self, vif, instance_info):
        self.calls.append(vif)
        return host_state.Outcome.UNCHANGED


def test_plugin_base_defaults():
    plugin = Minimal()
    seen = []
    results = plugin.plug_many(
        [("a", None), ("boom", None), ("c", None)],
        lambda i, r: seen.append(i),
    )
    assert results[0] is results[2] is host_state.Outcome.DONE
    assert isinstance(results[1], ValueError)
    assert seen == [0, 1, 2] and plugin.calls == ["a", "boom", "c"]
    assert plugin.unplug_many([("a", None)]) == [host_state.Outcome.UNCHANGED]
    assert plugin.check("a", None) == host_state.CheckReport(supported=False)
    assert plugin.gc([], dry_run=True) == host_state.PluginCollection(
        supported=False
    )


def test_reports_are_values():
    report = host_state.CheckReport(
        problems=[host_state.Problem("port p", "tag", 4095, None)]
    )
    assert isinstance(report.problems, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.supported = False  # type: ignore[misc]
    assert str(host_state.Outcome.UNCHANGED) == "unchanged"
