"""``os-vif plug``/``unplug`` in bulk, ``os-vif check`` and ``os-vif gc``.

The plugins are the real ones, loaded by stevedore; where a test needs a
plugin to fail, find problems or collect, it replaces a method of the
loaded noop plugin (which touches no host).
"""

from __future__ import annotations

import json
import sys

import pytest

import os_vif
from os_vif import exception, host_state, serialization
from os_vif.cli import _plugging, main
from os_vif.sandbox import vifs

INSTANCE = "9c1f3e2a-5b7d-4e8f-a0b1-00000000c0de"

@pytest.fixture(autouse=True)
def _in_tree_plugins_see_an_empty_host(empty_host, empty_ovsdb):
    """The in-tree plugins' native check and gc read the host: here they
    see one without links and an empty OVSDB (tests/unit/conftest.py's
    fake netlink socket and OVSDB API).

    What they find on a real host is tested with real devices in
    tests/functional.
    """
    return empty_host



def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def libvirt_ovs_vif():
    """An ovs VIF without create_port: libvirt adds its port to OVS.

    os_vif still makes (and checks) its bridge, as os-vif 5.x does.
    """
    return vifs.ovs_vif(create_port=False, create_tap=False)


def write(tmp_path, ports, name="vifs.json"):
    path = tmp_path / name
    path.write_text(json.dumps([serialization.to_compact(v) for v in ports]))
    return str(path)


@pytest.fixture
def noop(monkeypatch):
    """The loaded noop plugin, whose methods a test may replace."""
    # Loaded afresh: exactly the plugins installed, whatever ran before.
    os_vif.initialize(reset=True)
    return _plugging.plugin_of(vifs.nested_vif(0))


# -- plug / unplug --


def test_a_failed_vif_does_not_stop_the_others(capsys, tmp_path, noop,
                                               monkeypatch):
    tried = []

    def plug(vif, instance):
        tried.append(vif.vif_name)
        if vif.vif_name == "eth1":
            raise OSError(16, "Device or resource busy")
        if vif.vif_name == "eth2":
            return host_state.Outcome.UNCHANGED
        return None

    monkeypatch.setattr(noop, "plug", plug)
    path = write(tmp_path, [vifs.nested_vif(n) for n in range(4)])
    code, out, err = run(capsys, "plug", "--instance-uuid", INSTANCE, path)
    assert code == 1 and out == ""
    assert tried == ["eth0", "eth1", "eth2", "eth3"]
    lines = err.splitlines()
    ids = [vifs.nested_vif(n).id for n in range(4)]
    assert lines[:4] == [
        "[1/4] plugged VIFVlanNested %s (plugin noop)" % ids[0],
        "[2/4] failed VIFVlanNested %s (plugin noop)" % ids[1],
        "[3/4] unchanged VIFVlanNested %s (plugin noop)" % ids[2],
        "[4/4] plugged VIFVlanNested %s (plugin noop)" % ids[3],
    ]
    assert lines[4].startswith("plug of 4 VIFs in ")
    assert lines[4].endswith(" s: 2 done, 1 failed, 1 unchanged")
    assert lines[5:] == [
        "os-vif plug: error: VIF %s: plug failed: [Errno 16] Device or "
        "resource busy" % ids[1]
    ]


def test_quiet_keeps_only_the_errors(capsys, tmp_path, noop, monkeypatch):
    def unplug(vif, instance):
        raise RuntimeError("gone wrong on " + vif.vif_name)

    monkeypatch.setattr(noop, "unplug", unplug)
    path = write(tmp_path, [vifs.nested_vif(0), vifs.nested_vif(1)])
    code, out, err = run(
        capsys, "unplug", "-q", "--instance-uuid", INSTANCE, path
    )
    assert code == 1
    assert err.splitlines() == [
        "os-vif unplug: error: VIF %s: unplug failed: gone wrong on eth%d"
        % (vifs.nested_vif(n).id, n)
        for n in (0, 1)
    ]


def test_a_terminal_gets_a_bar(capsys, tmp_path, noop, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    path = write(tmp_path, [vifs.nested_vif(n) for n in range(3)])
    code, _out, err = run(capsys, "plug", "--instance-uuid", INSTANCE, path)
    assert code == 0
    frames = err.split("\r")[1:]
    assert [frame.split("] ")[1].split("\n")[0] for frame in frames] == [
        "1/3 plugged, 0 failed",
        "2/3 plugged, 0 failed",
        "3/3 plugged, 0 failed",
    ]
    assert frames[-1].startswith("[" + "#" * 30 + "] 3/3")
    assert frames[0].startswith("[" + "#" * 10 + "." * 20 + "]")
    assert err.splitlines()[-1].endswith(": 3 done, 0 failed, 0 unchanged")


# -- check --


def test_check_one_line_per_vif(capsys, tmp_path, noop, monkeypatch):
    # The ovs plugin's own check reads OVSDB (the VIF's bridge): tested
    # functionally; here it finds nothing, as the noop plugin does.
    checked = []

    def ovs_check(vif, instance):
        checked.append(vif.id)
        return host_state.CheckReport()

    monkeypatch.setattr(
        _plugging.plugin_of(libvirt_ovs_vif()), "check", ovs_check
    )
    path = write(tmp_path, [vifs.nested_vif(0), libvirt_ovs_vif()])
    code, out, err = run(capsys, "check", "--instance-uuid", INSTANCE, path)
    assert (code, err) == (0, "")
    assert checked == [libvirt_ovs_vif().id]
    assert out.splitlines() == [
        "VIF %s (plugin noop): ok" % vifs.nested_vif(0).id,
        "VIF %s (plugin ovs): ok" % libvirt_ovs_vif().id,
    ]
    # Only ok VIFs: status 0.
    path = write(tmp_path, [vifs.nested_vif(0), vifs.nested_vif(1)])
    assert run(capsys, "check", "--instance-uuid", INSTANCE, path)[0] == 0


def test_check_names_each_problem_and_error(capsys, tmp_path, noop,
                                            monkeypatch):
    def check(vif, instance):
        if vif.vif_name == "eth1":
            raise RuntimeError("cannot read\nthe cache")
        return host_state.CheckReport(
            problems=[
                host_state.Problem("device eth0", "mtu", 1450, 1500),
                host_state.Problem("port eth0", "exists", True, None),
            ]
        )

    monkeypatch.setattr(noop, "check", check)
    path = write(tmp_path, [vifs.nested_vif(0), vifs.nested_vif(1)])
    code, out, _err = run(
        capsys, "check", "--instance-uuid", INSTANCE, path
    )
    assert code == 1
    assert out.splitlines() == [
        "VIF %s (plugin noop): 2 problems: device eth0: mtu is 1500, "
        "expected 1450; port eth0: exists is None, expected True"
        % vifs.nested_vif(0).id,
        "VIF %s (plugin noop): error: cannot read the cache"
        % vifs.nested_vif(1).id,
    ]
    code, out, _err = run(
        capsys, "check", "--format", "json", "--instance-uuid", INSTANCE,
        path,
    )
    assert code == 1
    assert json.loads(out) == [
        {
            "vif": vifs.nested_vif(0).id,
            "plugin": "noop",
            "status": "problems",
            "ok": False,
            "supported": True,
            "problems": [
                {"object": "device eth0", "what": "mtu", "expected": 1450,
                 "found": 1500},
                {"object": "port eth0", "what": "exists", "expected": True,
                 "found": None},
            ],
            "error": None,
        },
        {
            "vif": vifs.nested_vif(1).id,
            "plugin": "noop",
            "status": "error",
            "ok": False,
            "supported": True,
            "problems": [],
            "error": "cannot read\nthe cache",
        },
    ]


def test_check_reads_standard_input_and_refuses_unknown_plugins(
    capsys, monkeypatch
):
    import io

    port = vifs.nested_vif(0)
    port.plugin = "nope"
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(
            serialization.dumps(port).encode()
        ))
    )
    code, out, err = run(capsys, "check", "--instance-uuid", INSTANCE, "-")
    assert (code, out) == (1, "")
    assert err == "os-vif check: error: VIF %s: %s\n" % (
        port.id, exception.NoMatchingPlugin(plugin_name="nope")
    )


# -- gc --


def test_gc_with_nothing_to_remove(capsys, tmp_path, noop):
    keep = tmp_path / "keep.json"
    keep.write_text("[]")
    code, out, err = run(capsys, "gc", "--keep", str(keep))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "nothing to remove"
    # The in-tree plugins collect natively: nothing "not supported".
    assert lines == ["nothing to remove"]
    assert "not supported" not in err
    assert any(line.endswith(": 0 removed") for line in err.splitlines())
    assert err.splitlines()[-1].startswith("gc: 0 removed, 0 failed in ")


def test_gc_table(capsys, tmp_path, noop, monkeypatch):
    offered = []

    def gc(keep, dry_run=False):
        offered.append(([vif.id for vif in keep], dry_run))
        return host_state.PluginCollection(
            removals=[
                host_state.Removal(
                    what="device tap1", kind="tap", reason="leaked",
                    owner="vif-1",
                ),
                host_state.Removal(
                    what="port qvo2", kind="ovs-port", reason="no VIF",
                    error=OSError(1, "Operation not permitted"),
                ),
            ]
        )

    monkeypatch.setattr(noop, "gc", gc)
    keep = write(
        tmp_path, [vifs.nested_vif(0), libvirt_ovs_vif()], "keep.json"
    )
    code, out, _err = run(capsys, "gc", "--keep", keep, "--dry-run", "-q")
    assert code == 1 and offered == [([vifs.nested_vif(0).id], True)]
    lines = out.splitlines()
    assert lines[:3] == [
        "ACTION        KIND      WHAT         OWNER  PLUGIN  REASON",
        "would remove  tap       device tap1  vif-1  noop    leaked",
        "failed        ovs-port  port qvo2    -      noop    no VIF (error: "
        "[Errno 1] Operation not permitted)",
    ]


def test_gc_reports_a_failed_plugin(capsys, tmp_path, noop, monkeypatch):
    def gc(keep, dry_run=False):
        raise RuntimeError("dump failed")

    monkeypatch.setattr(noop, "gc", gc)
    keep = write(tmp_path, [vifs.nested_vif(0)], "keep.json")
    code, out, _err = run(capsys, "gc", "-q", "--keep", keep)
    assert code == 1
    assert "plugin noop: failed: dump failed" in out.splitlines()


def test_gc_refuses_a_bad_keep_file(capsys, tmp_path, noop, monkeypatch):
    called = []
    monkeypatch.setattr(noop, "gc", lambda keep, dry_run: called.append(1))
    keep = tmp_path / "keep.json"
    keep.write_text('[{"@type": "VIFVlanNested", "vlan_id": "x"}]')
    code, out, err = run(capsys, "gc", "--keep", str(keep))
    assert (code, out, called) == (1, "", [])
    assert err.startswith("os-vif gc: error: Cannot load os_vif data at [0]")
