"""Plugins are found through real entry points of installed distributions."""

from __future__ import annotations

import logging
import sys
import textwrap
from unittest import mock

import pytest
from stevedore import extension

import os_vif
from os_vif import _plugin_loader, exception
from os_vif.objects import host_info, instance_info, vif
from os_vif.plugin import PluginBase
from os_vif.plugins.ovs import OvsPlugin
from os_vif.sandbox import vifs

PLUGIN_SOURCE = """
from os_vif.objects import host_info
from os_vif.plugin import PluginBase
from oslo_config import cfg


class ThirdPartyPlugin(PluginBase):
    CONFIG_OPTS = [cfg.IntOpt("answer", default=42, help="test option")]

    def describe(self):
        return host_info.HostPluginInfo(plugin_name=%(name)r, vif_info=[])

    def plug(self, vif, instance_info):
        raise RuntimeError("boom")

    def unplug(self, vif, instance_info):
        pass
"""


@pytest.fixture
def distributions(tmp_path, monkeypatch):
    """Install fake distributions (dist-info + module) on sys.path."""

    def install(
        dist: str, entry_points: dict[str, str], modules: dict[str, str]
    ):
        info = tmp_path / ("%s-1.0.dist-info" % dist)
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % dist
        )
        (info / "entry_points.txt").write_text(
            "[os_vif]\n"
            + "".join("%s = %s\n" % item for item in entry_points.items())
        )
        for module, source in modules.items():
            (tmp_path / (module + ".py")).write_text(textwrap.dedent(source))

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    for module in list(sys.modules):
        if module.startswith("fake_plugin_"):
            del sys.modules[module]
    os_vif.initialize(reset=True)


def test_in_tree_noop_loads():
    os_vif.initialize(reset=True)
    info = os_vif.host_info()
    assert info.has_plugin("noop")
    assert info.get_plugin("noop").has_vif("VIFVlanNested")


def test_broken_plugin_is_logged_and_others_load(distributions, caplog):
    distributions(
        "broken-dist",
        {
            "broken": "fake_plugin_broken:Plugin",
            "good": "fake_plugin_good:ThirdPartyPlugin",
            "notaplugin": "fake_plugin_good:NOT_A_CLASS",
        },
        {
            "fake_plugin_broken": "raise ImportError('missing libfoo')\n",
            "fake_plugin_good": PLUGIN_SOURCE % {"name": "good"}
            + "\nNOT_A_CLASS = 1\n",
        },
    )
    with caplog.at_level(logging.ERROR, logger="os_vif"):
        os_vif.initialize(reset=True)
    info = os_vif.host_info()
    assert info.has_plugin("good") and info.has_plugin("noop")
    assert not info.has_plugin("broken")
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "broken" in messages and "missing libfoo" in messages
    assert "notaplugin" in messages and "PluginBase" in messages


def test_plugin_options_land_in_their_group(distributions):
    from oslo_config import cfg

    distributions(
        "opts-dist",
        {"withopts": "fake_plugin_opts:ThirdPartyPlugin"},
        {"fake_plugin_opts": PLUGIN_SOURCE % {"name": "withopts"}},
    )
    os_vif.initialize(reset=True)
    assert cfg.CONF.os_vif_withopts.answer == 42


def test_same_name_in_two_distributions_warns_naming_both(
    distributions, caplog
):
    distributions(
        "kuryr-like",
        {"noop": "fake_plugin_noop:ThirdPartyPlugin"},
        {"fake_plugin_noop": PLUGIN_SOURCE % {"name": "noop"}},
    )
    with caplog.at_level(logging.WARNING, logger="os_vif"):
        os_vif.initialize(reset=True)
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
    ]
    assert any(
        "noop" in w and "kuryr-like" in w and "os-vif" in w for w in warnings
    ), warnings
    # os_vif's own noop wins: it describes the nested VIF types.
    assert os_vif.host_info().get_plugin("noop").has_vif("VIFVlanNested")


def test_one_per_name_without_own_distribution_takes_first(caplog):
    from importlib import metadata

    from stevedore import extension

    first, second, again = (
        extension.Extension(
            "x", metadata.EntryPoint("x", value, "os_vif"), object, None
        )
        for value in ("a:A", "b:B", "a:A")
    )
    distributions = {("x", "a:A"): "dist-a", ("x", "b:B"): "dist-b"}
    with caplog.at_level(logging.WARNING, logger="os_vif"):
        kept = _plugin_loader.one_per_name(
            [first, second, again], distributions
        )
    assert kept == [first]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "dist-a (a:A)" in warning and "dist-b (b:B)" in warning
    assert warning.endswith("using a:A from dist-a")


def test_same_entry_point_twice_is_no_conflict(caplog):
    from importlib import metadata

    from stevedore import extension

    twice = [
        extension.Extension(
            "x", metadata.EntryPoint("x", "a:A", "os_vif"), object, None
        )
        for _ in range(2)
    ]
    with caplog.at_level(logging.WARNING, logger="os_vif"):
        assert _plugin_loader.one_per_name(twice, {}) == twice[:1]
    assert caplog.records == []


class DemoPlugin(PluginBase):
    """A plugin served by hand through a patched manager."""

    def describe(self):
        return host_info.HostPluginInfo(plugin_name="demo", vif_info=[])

    def plug(self, vif, instance_info):
        self.plugged = (vif, instance_info)

    def unplug(self, vif, instance_info):
        self.unplugged = (vif, instance_info)


@pytest.fixture
def fresh(monkeypatch):
    """os_vif as before initialize(); the previous state comes back after."""
    monkeypatch.setattr(os_vif, "_EXT_MANAGER", None)


def test_ext_manager_is_none_then_a_stevedore_manager(fresh):
    assert os_vif._EXT_MANAGER is None
    os_vif.initialize()
    manager = os_vif._EXT_MANAGER
    assert isinstance(manager, extension.ExtensionManager)
    assert manager.namespace == "os_vif"
    assert {"linux_bridge", "noop", "offload", "ovs"} <= set(manager.names())
    # Each loaded plugin is the obj of its extension.
    assert isinstance(manager["ovs"].obj, OvsPlugin)


def test_manager_is_made_once_with_five_x_arguments(fresh, monkeypatch):
    made = mock.MagicMock(name="ExtensionManager")
    monkeypatch.setattr(extension, "ExtensionManager", made)
    os_vif.initialize()
    os_vif.initialize()
    made.assert_called_once_with(namespace="os_vif", invoke_on_load=False)
    assert os_vif._EXT_MANAGER is made.return_value


def test_setting_it_back_to_none_loads_again(fresh):
    os_vif.initialize()
    first = os_vif._EXT_MANAGER
    os_vif._EXT_MANAGER = None
    os_vif.initialize()
    assert os_vif._EXT_MANAGER is not first
    assert os_vif._EXT_MANAGER["noop"].obj is not first["noop"].obj


def test_plugins_are_taken_from_names_and_getitem(fresh, monkeypatch):
    served = extension.Extension("demo", None, DemoPlugin, None)
    monkeypatch.setattr(
        extension.ExtensionManager, "names", lambda self: ["anything"]
    )
    monkeypatch.setattr(
        extension.ExtensionManager, "__getitem__", lambda self, name: served
    )
    os_vif.initialize()
    assert isinstance(served.obj, DemoPlugin)
    # Loaded under the name names() gave; without options, it registers
    # no [os_vif_anything] group.
    from oslo_config import cfg

    assert served.obj.config is not None
    assert not hasattr(cfg.CONF, "os_vif_anything")
    target = vif.VIFBridge(id="9d4a4c66-2f1c-4c3b-9a51-0f0d3e8b8f11")
    target.plugin = "whatever __getitem__ is asked"
    info = instance_info.InstanceInfo()
    os_vif.plug(target, info)
    assert served.obj.plugged == (target, info)
    os_vif.unplug(target, info)
    assert served.obj.unplugged == (target, info)
    assert os_vif.host_info().get_plugin("demo").vif_info == []


def test_plugin_whose_load_fails_is_left_out(fresh, monkeypatch, caplog):
    from os_vif.plugins.noop import NoOpPlugin

    def broken_load(cls, name):
        raise RuntimeError("no such device: br-ex")

    monkeypatch.setattr(NoOpPlugin, "load", classmethod(broken_load))
    with caplog.at_level(logging.ERROR, logger="os_vif"):
        os_vif.initialize()
    messages = [r.getMessage() for r in caplog.records]
    assert any("noop" in m and "no such device: br-ex" in m for m in messages)
    manager = os_vif._EXT_MANAGER
    assert "noop" not in manager.names() and "ovs" in manager.names()
    assert not os_vif.host_info().has_plugin("noop")
    assert os_vif.host_info().has_plugin("ovs")
    with pytest.raises(exception.NoMatchingPlugin):
        os_vif.plug(vifs.nested_vif(), instance_info.InstanceInfo())


def test_duplicate_names_are_listed_once(distributions):
    distributions(
        "kuryr-like",
        {"noop": "fake_plugin_noop2:ThirdPartyPlugin"},
        {"fake_plugin_noop2": PLUGIN_SOURCE % {"name": "noop"}},
    )
    os_vif.initialize(reset=True)
    names = os_vif._EXT_MANAGER.names()
    assert names.count("noop") == 1
    assert os_vif._EXT_MANAGER["noop"].entry_point.value == (
        "os_vif.plugins.noop:NoOpPlugin"
    )
