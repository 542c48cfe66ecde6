"""What the os-vif command promises: checks before any change, one-line
errors, options everywhere, configuration read up front.

Plug checks use the real linux_bridge and ovs plugins; nothing here gets as
far as a privileged call (the checks refuse first, or the plugin is noop).
"""

from __future__ import annotations

import json

import pytest

import os_vif
from os_vif import exception, serialization
from os_vif.cli import _plugging, main
from os_vif.objects import instance_info
from os_vif.plugins.linux_bridge import LinuxBridgePlugin
from os_vif.plugins.noop import NoOpPlugin
from os_vif.plugins.offload import OffloadPlugin
from os_vif.plugins.ovs import OvsPlugin
from os_vif.sandbox import vifs

INSTANCE = "9c1f3e2a-5b7d-4e8f-a0b1-00000000c0de"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, document, name="vifs.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


@pytest.fixture
def plugged(monkeypatch):
    """Record the VIFs os_vif.plug_many is given (none, if checks fail)."""
    calls = []

    def plug_many(pairs, progress=None):
        calls.extend(vif.id for vif, _instance in pairs)
        return [None] * len(pairs)

    monkeypatch.setattr(os_vif, "plug_many", plug_many)
    return calls


def test_every_in_tree_plugin_can_validate_a_plug():
    for plugin_class in (
        LinuxBridgePlugin, OvsPlugin, OffloadPlugin, NoOpPlugin
    ):
        assert callable(getattr(plugin_class, "validate_plug", None))


def test_plug_refuses_what_only_the_daemon_checks_before_plugging_any(
    capsys, tmp_path, conf, plugged
):
    # The plan builder passes peers through; the privileged side's
    # validator refuses the name.  validate_plug must find it first.
    os_vif.initialize()
    conf.config(
        forward_bridge_interface=["eth0", "bad/name"],
        group="os_vif_linux_bridge",
    )
    path = write(tmp_path, [
        serialization.to_compact(vifs.bridge_vif(0, filtering=True)),
        serialization.to_compact(vifs.bridge_vif(1)),
    ])
    code, out, err = run(capsys, "plug", "--instance-uuid", INSTANCE, path)
    assert code == 1
    assert plugged == []
    refusal = exception.InvalidArgument(
        field="allow_bridge_forwarding.peers[1]",
        value="bad/name",
        reason="an interface name may not contain '/'",
    )
    assert err == "os-vif plug: error: VIF %s: %s\n" % (
        vifs.bridge_vif(1).id, refusal
    )
    # validate makes exactly the same check.
    code, out, err2 = run(
        capsys, "validate", "--instance-uuid", INSTANCE, path
    )
    assert code == 1
    assert err2 == err.replace("os-vif plug:", "os-vif validate:")


def test_plug_refuses_a_long_name_of_a_later_vif_before_the_first(
    capsys, tmp_path, plugged
):
    path = write(tmp_path, [
        serialization.to_compact(vifs.bridge_vif(0)),
        serialization.to_compact(
            vifs.bridge_vif(1, bridge="br-sixteen-chars")
        ),
    ])
    code, _, err = run(capsys, "plug", "--instance-uuid", INSTANCE, path)
    assert code == 1 and plugged == []
    refusal = exception.InvalidArgument(
        field="vif.bridge_name",
        value="br-sixteen-chars",
        reason="an interface name is 1 to 15 bytes long",
    )
    assert err == "os-vif plug: error: VIF %s: %s\n" % (
        vifs.bridge_vif(1).id, refusal
    )


def test_validate_takes_the_entries_plug_takes(capsys, tmp_path):
    instance = instance_info.InstanceInfo(
        uuid=INSTANCE, name="pod", project_id="p"
    )
    path = write(tmp_path, [
        {
            "vif": serialization.to_compact(vifs.nested_vif(0)),
            "instance_info": serialization.to_compact(instance),
        },
        serialization.to_primitive(vifs.nested_vif(1)),
        serialization.to_compact(vifs.bridge_vif(2)),
    ])
    code, out, err = run(capsys, "validate", path)
    assert (code, err) == (0, "")
    nested = [vifs.nested_vif(n).id for n in (0, 1)]
    assert out.splitlines() == [
        "[0] valid: VIFVlanNested 1.0 %s (plugin noop)" % nested[0],
        "[1] valid: VIFVlanNested 1.0 %s (plugin noop)" % nested[1],
        "[2] valid: VIFBridge 1.0 %s (plugin linux_bridge)"
        % vifs.bridge_vif(2).id,
    ]


def test_validate_names_an_unknown_plugin_by_vif_id(capsys, tmp_path):
    port = vifs.nested_vif(0)
    port.plugin = "nope"
    code, _, err = run(
        capsys, "validate", write(tmp_path, serialization.to_compact(port))
    )
    assert code == 1
    assert err == "os-vif validate: error: VIF %s: %s\n" % (
        port.id, exception.NoMatchingPlugin(plugin_name="nope")
    )


def test_a_failed_plug_is_one_line_naming_the_vif(
    capsys, tmp_path, monkeypatch
):
    os_vif.initialize()
    noop = _plugging.plugin_of(vifs.nested_vif(0))

    failure = exception.HostOperationFailed(
        operation="create bridge",
        device="br0",
        err=OSError(17, "File exists"),
    )

    def fail(vif, instance):
        raise failure

    monkeypatch.setattr(noop, "plug", fail)
    path = write(tmp_path, [serialization.to_compact(vifs.nested_vif(0))])
    code, _, err = run(capsys, "plug", "--instance-uuid", INSTANCE, path)
    assert code == 1
    lines = err.splitlines()
    # The progress line is whole; the library's own ERROR record (which
    # names the VIF by its repr) is left to the command's one line.
    assert lines[0] == "[1/1] failed VIFVlanNested %s (plugin noop)" % (
        vifs.nested_vif(0).id
    )
    assert len(lines) == 3, err
    assert lines[1].startswith("plug of 1 VIF in ")
    assert lines[1].endswith(": 0 done, 1 failed, 0 unchanged")
    assert lines[2] == "os-vif plug: error: VIF %s: plug failed: %s" % (
        vifs.nested_vif(0).id, failure
    )
    assert "VIFVlanNested(" not in err


@pytest.mark.parametrize("value", ["not-a-uuid", "1234"])
def test_instance_uuid_is_checked(capsys, tmp_path, value, plugged):
    path = write(tmp_path, serialization.to_compact(vifs.nested_vif(0)))
    code, _, err = run(capsys, "plug", "--instance-uuid", value, path)
    assert code == 1 and plugged == []
    assert err == (
        "os-vif plug: error: --instance-uuid %r is not a UUID\n" % value
    )


def test_host_info_names_an_unknown_vif_type(capsys):
    code, out, err = run(capsys, "host-info", "--vif-type", "VIFBrdige")
    assert code == 1 and out == ""
    assert err.startswith(
        "os-vif host-info: error: unknown VIF type VIFBrdige (os_vif has "
    )
    assert "VIFBridge" in err and len(err.splitlines()) == 1


def test_version(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == "os-vif %s\n" % metadata.version(
        "os-vif"
    )


def test_global_options_before_and_after_the_subcommand(capsys, tmp_path):
    first = tmp_path / "a.conf"
    first.write_text("[os_vif_ovs]\novs_vsctl_timeout = 7\n")
    second = tmp_path / "b.conf"
    second.write_text("[os_vif_ovs]\nnetwork_device_mtu = 9000\n")
    from oslo_config import cfg

    code, _, err = run(
        capsys, "--config-file", str(first), "schema", "VIFBridge",
        "--config-file", str(second), "--debug",
    )
    assert code == 0, err
    # Both files were read: the later one did not replace the first.
    assert cfg.CONF.os_vif_ovs.ovs_vsctl_timeout == 7
    assert cfg.CONF.os_vif_ovs.network_device_mtu == 9000


def test_a_bad_option_value_is_one_line_before_anything_runs(
    capsys, tmp_path, plugged
):
    conf_file = tmp_path / "nova.conf"
    conf_file.write_text("[os_vif_linux_bridge]\nnetwork_device_mtu = big\n")
    path = write(tmp_path, serialization.to_compact(vifs.nested_vif(0)))
    code, out, err = run(
        capsys, "plug", "--config-file", str(conf_file), "--instance-uuid",
        INSTANCE, path,
    )
    assert code == 1 and plugged == [] and out == ""
    assert err == (
        "os-vif plug: error: [os_vif_linux_bridge] network_device_mtu in "
        "%s: invalid literal for int() with base 10: 'big'\n" % conf_file
    )


def test_a_bad_privsep_option_is_found_too(capsys, tmp_path):
    conf_file = tmp_path / "nova.conf"
    conf_file.write_text("[vif_plug_ovs_privileged]\nthread_pool_size = x\n")
    code, _, err = run(
        capsys, "schema", "VIFBridge", "--config-file", str(conf_file)
    )
    assert code == 1
    assert err.startswith(
        "os-vif schema: error: [vif_plug_ovs_privileged] thread_pool_size"
    )


def test_a_utf8_byte_order_mark_is_accepted(capsys, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(
        b"\xef\xbb\xbf" + serialization.dumps(vifs.nested_vif(0)).encode()
    )
    code, out, err = run(capsys, "validate", str(path))
    assert (code, err) == (0, "")
    assert out.startswith("valid: VIFVlanNested 1.0")
    code, out, err = run(capsys, "convert", str(path), "--to", "primitive")
    assert (code, err) == (0, "")


def test_ovs_validate_plug_reads_no_switch(conf):
    # No ovsdb-server behind the connection: validating reaches none.
    os_vif.initialize()
    conf.config(
        ovsdb_connection="unix:/nonexistent/db.sock", group="os_vif_ovs"
    )
    port = vifs.ovs_vif(create_tap=False)
    instance = instance_info.InstanceInfo(uuid=INSTANCE, name="vm")
    plugin = _plugging.plugin_of(port)
    assert plugin.validate_plug(port, instance) is None
    port.vif_name = "tap with space"
    with pytest.raises(exception.InvalidArgument) as info:
        plugin.validate_plug(port, instance)
    assert "vif_name" in str(info.value)


def test_the_library_log_filter_ends_with_the_command(capsys, tmp_path):
    import logging

    port = vifs.nested_vif(0)
    port.plugin = "nope"
    path = write(tmp_path, serialization.to_compact(port))
    assert run(capsys, "plug", "--instance-uuid", INSTANCE, path)[0] == 1
    # A client running main() in its process keeps os_vif's own records.
    assert logging.getLogger("os_vif").filters == []
