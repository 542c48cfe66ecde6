"""oslo-config-generator lists every os_vif option, in os-vif's groups."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from os_vif import opts

GENERATOR = pathlib.Path(sys.executable).parent / "oslo-config-generator"


def test_list_opts_has_plugin_and_privsep_groups():
    groups = dict(opts.list_opts())
    assert "os_vif_noop" in groups
    for group in (
        "vif_plug_linux_bridge_privileged",
        "vif_plug_ovs_privileged",
        "vif_plug_workload_privileged",
    ):
        names = {opt.name for opt in groups[group]}
        assert {"helper_command", "capabilities", "user"} <= names


@pytest.mark.skipif(
    not GENERATOR.exists(), reason="oslo-config-generator missing"
)
def _generated() -> str:
    return subprocess.run(
        [str(GENERATOR), "--namespace", "os_vif"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_generator_prints_the_groups():
    out = _generated()
    assert "[vif_plug_ovs_privileged]" in out
    assert "[vif_plug_linux_bridge_privileged]" in out
    for group, options in opts.list_opts():
        if options:
            assert "[%s]" % group in out
            for opt in options:
                assert "#%s = " % opt.dest in out or "#%s =" % opt.dest in out


#: The in-tree plugins that hand plans to a privsep daemon.
PRIVILEGED_PLUGINS = ("linux_bridge", "ovs", "offload")


def test_every_privileged_plugin_lists_privsep_timeout():
    groups = dict(opts.list_plugins_opts())
    for name in PRIVILEGED_PLUGINS:
        group = groups["os_vif_%s" % name]
        (opt,) = [o for o in group if o.name == "privsep_timeout"]
        assert (type(opt).__name__, opt.default, opt.type.min) == (
            "IntOpt",
            60,
            1,
        )
    assert "privsep_timeout" not in {o.name for o in groups["os_vif_noop"]}


@pytest.mark.skipif(
    not GENERATOR.exists(), reason="oslo-config-generator missing"
)
def test_generator_shows_privsep_timeout_in_each_group():
    out = _generated()
    for name in PRIVILEGED_PLUGINS:
        section = out.split("[os_vif_%s]" % name, 1)[1].split("\n[", 1)[0]
        assert "#privsep_timeout = 60" in section
        assert "Minimum value: 1" in section


@pytest.mark.parametrize("name", PRIVILEGED_PLUGINS)
def test_the_runner_a_plugin_hands_plans_to_has_its_timeout(name, conf):
    import os_vif
    from os_vif import _plugin_loader
    from os_vif.internal.unprivileged import runner

    os_vif.initialize()
    plugin = _plugin_loader.plugin_classes()[name].load(name)
    base = runner.LINUX_BRIDGE if name == "linux_bridge" else runner.OVS
    assert plugin.host is base  # the default: the shared runner itself
    assert plugin.host.timeout == 60
    conf.config(privsep_timeout=7, group="os_vif_%s" % name)
    host = plugin.host
    assert host.timeout == 7
    assert (host.name, host.context) == (base.name, base.context)
    assert base.timeout == 60  # the shared runner is left as it was
    with pytest.raises(ValueError):
        conf.config(privsep_timeout=0, group="os_vif_%s" % name)


def test_load_config_reads_every_option_now(conf, tmp_path):
    from oslo_config import cfg

    good = tmp_path / "good.conf"
    good.write_text("[os_vif_ovs]\novsdb_connection = unix:/tmp/db.sock\n")
    opts.load_config([str(good)])
    assert cfg.CONF.os_vif_ovs.ovsdb_connection == "unix:/tmp/db.sock"
    # A bad value is an error at once, naming the group, option and file.
    bad = tmp_path / "bad.conf"
    bad.write_text("[os_vif_ovs]\nnetwork_device_mtu = big\n")
    with pytest.raises(ValueError) as info:
        opts.load_config([str(bad)])
    assert str(info.value).startswith(
        "[os_vif_ovs] network_device_mtu in %s: " % bad
    )
    with pytest.raises(ValueError, match="missing.conf"):
        opts.load_config([str(tmp_path / "missing.conf")])
