"""The os-vif command's host-info, plug, unplug, convert, validate, schema.

Run on real files, in-process through ``main()`` and once as a real
process.  plug/unplug use the real ``noop`` plugin (loaded through its
entry point), which changes nothing on the host.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from os_vif import exception, serialization
from os_vif.cli import main
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs
from tests import wire_samples

INSTANCE = "9c1f3e2a-5b7d-4e8f-a0b1-00000000c0de"


@pytest.fixture
def vif_file(tmp_path):
    obj = wire_samples.build_sample("VIFOpenVSwitch", "populated")
    path = tmp_path / "vif.json"
    path.write_text(json.dumps(serialization.to_primitive(obj)))
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_to_compact_and_back(capsys, tmp_path, vif_file):
    code, out, err = run(capsys, "convert", str(vif_file), "--to", "compact")
    assert (code, err) == (0, "")
    compact = json.loads(out)
    assert compact["@type"] == "VIFOpenVSwitch"
    assert isinstance(compact["network"]["subnets"], list)
    compact_file = tmp_path / "compact.json"
    compact_file.write_text(out)
    code, out, err = run(
        capsys, "convert", str(compact_file), "--to", "primitive", "--minify"
    )
    assert code == 0
    assert out == vif_file.read_text() + "\n"


def test_convert_target_version(capsys, tmp_path):
    profile = wire_samples.build_sample(
        "VIFPortProfileOpenVSwitch", "populated"
    )
    path = tmp_path / "profile.json"
    path.write_text(serialization.dumps(profile))
    code, out, _ = run(
        capsys, "convert", str(path), "--to", "primitive",
        "--target-version", "1.1",
    )
    assert code == 0
    prim = json.loads(out)
    assert prim["versioned_object.version"] == "1.1"
    assert "create_port" not in prim["versioned_object.data"]


def test_host_info_then_convert_for_that_host(capsys, tmp_path):
    code, out, err = run(capsys, "host-info", "--vif-type", "VIFVlanNested")
    assert code == 0
    info = serialization.loads(out)
    assert [p.plugin_name for p in info.plugin_info] == ["noop"]
    host_file = tmp_path / "host.json"
    host_file.write_text(out)
    vif_list = tmp_path / "vifs.json"
    vif_list.write_text(
        json.dumps(
            [serialization.to_compact(vifs.nested_vif(n)) for n in (0, 1)]
        )
    )
    code, out, err = run(
        capsys, "convert", str(vif_list), "--to", "compact",
        "--host-info", str(host_file),
    )
    assert code == 0, err
    assert [d["@type"] for d in json.loads(out)] == ["VIFVlanNested"] * 2
    # A VIF type the host (filtered to VIFVlanNested) cannot plug: one
    # line, non-zero.
    macvlan = vif_objects.VIFMacvlanNested(
        id=vifs.vif_id(9), plugin="noop", vif_name="eth9"
    )
    ovs = tmp_path / "macvlan.json"
    ovs.write_text(serialization.dumps(macvlan))
    code, out, err = run(
        capsys, "convert", str(ovs), "--to", "compact",
        "--host-info", str(host_file),
    )
    assert code == 1
    assert err == (
        "os-vif convert: error: No VIF class was found with the name "
        "VIFMacvlanNested\n"
    )


def test_host_info_primitive_format(capsys):
    code, out, _ = run(capsys, "host-info", "--format", "primitive")
    assert code == 0
    assert json.loads(out)["versioned_object.name"] == "HostInfo"


def test_validate(capsys, tmp_path, vif_file):
    code, out, _ = run(capsys, "validate", str(vif_file))
    assert code == 0
    assert out == (
        "valid: VIFOpenVSwitch 1.0 c3a8f2d4-7d2b-4f64-8a4e-0000000000f1 "
        "(plugin ovs)\n"
    )
    bad = json.loads(vif_file.read_text())
    data = bad["versioned_object.data"]["network"]["versioned_object.data"]
    data["subnets"]["versioned_object.data"]["objects"][1][
        "versioned_object.data"
    ]["cidr"] = "2001:db8::/129"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([json.loads(vif_file.read_text()), bad]))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    assert out == ""
    assert err == (
        "os-vif validate: error: Cannot load os_vif data at "
        "[1].network.subnets.objects[1].cidr: '2001:db8::/129' is not an "
        "IP network\n"
    )


def test_validate_reads_standard_input(monkeypatch, capsys):
    import io

    text = serialization.dumps(vifs.nested_vif(0))
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()))
    )
    code, out, _ = run(capsys, "validate", "-")
    assert code == 0 and out.startswith("valid: VIFVlanNested 1.0")


def test_schema(capsys):
    code, out, _ = run(capsys, "schema", "VIFVHostUser", "--version", "1.0")
    assert code == 0
    schema = json.loads(out)
    assert schema == serialization.json_schema("VIFVHostUser", "1.0")
    assert "vif_name" not in (
        schema["$defs"]["VIFVHostUser-1.0"]["properties"]
    )
    code, _, err = run(capsys, "schema", "VIFVHostUser", "--version", "1.7")
    assert code == 1
    assert err.startswith("os-vif schema: error: Invalid version '1.7'")


def test_plug_and_unplug_many_with_progress(capsys, tmp_path):
    entries = [
        {
            "vif": serialization.to_compact(vifs.nested_vif(n)),
            "instance_info": {
                "@type": "InstanceInfo", "@version": "1.0",
                "uuid": INSTANCE, "name": "pod-1", "project_id": "p",
            },
        }
        for n in range(3)
    ]
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(entries))
    code, out, err = run(capsys, "plug", str(path))
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0] == (
        "[1/3] plugged VIFVlanNested %s (plugin noop)" % vifs.nested_vif(0).id
    )
    assert lines[2].startswith("[3/3] plugged")
    assert lines[3].startswith("plug of 3 VIFs in ")
    assert lines[3].endswith(" s: 3 done, 0 failed, 0 unchanged")
    code, out, err = run(capsys, "unplug", "--quiet", str(path))
    assert (code, out, err) == (0, "", "")


def test_plug_bare_vifs_needs_an_instance(capsys, tmp_path):
    path = tmp_path / "vifs.json"
    path.write_text(serialization.dumps(vifs.nested_vif(0), "primitive"))
    code, _, err = run(capsys, "plug", str(path))
    assert code == 1
    assert "give --instance-uuid" in err
    code, _, err = run(
        capsys, "plug", "--instance-uuid", INSTANCE, str(path)
    )
    assert code == 0, err


def test_plug_checks_every_vif_before_plugging_any(capsys, tmp_path):
    good, bad = (serialization.to_compact(vifs.nested_vif(n)) for n in (0, 1))
    bad["vlan_id"] = "ten"
    path = tmp_path / "vifs.json"
    path.write_text(json.dumps([good, bad]))
    code, _, err = run(capsys, "plug", "--instance-uuid", INSTANCE, str(path))
    assert code == 1
    assert err == (
        "os-vif plug: error: Cannot load os_vif data at [1].vlan_id: "
        "expected an integer, got a string\n"
    )


def test_plug_with_an_unknown_plugin_stops_with_one_line(capsys, tmp_path):
    port = vifs.nested_vif(0)
    port.plugin = "no-such-plugin"
    path = tmp_path / "vif.json"
    path.write_text(serialization.dumps(port))
    code, _, err = run(
        capsys, "plug", "--instance-uuid", INSTANCE, str(path)
    )
    assert code == 1
    assert err == "os-vif plug: error: VIF %s: %s\n" % (
        vifs.nested_vif(0).id,
        exception.NoMatchingPlugin(plugin_name="no-such-plugin"),
    )


def test_missing_file_is_one_line(capsys):
    code, _, err = run(capsys, "validate", "/nonexistent/vif.json")
    assert code == 1
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "command", ["host-info", "plug", "unplug", "convert", "validate",
                "schema"],
)
def test_help(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: os-vif %s" % command in capsys.readouterr().out


def test_as_a_real_process(tmp_path, vif_file):
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c",
         "import sys; from os_vif.cli import main; sys.exit(main())",
         "convert", "-", "--to", "compact", "--minify"],
        input=vif_file.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    obj = serialization.loads(proc.stdout)
    assert serialization.to_primitive(obj) == json.loads(vif_file.read_text())
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c",
         "import sys; from os_vif.cli import main; sys.exit(main())",
         "validate", "-"],
        input=b'{"@type": "VIFGeneric", "@version": "1.1"}',
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines()[-1] == (
        "os-vif validate: error: Cannot load os_vif data at <document>: "
        "VIFGeneric 1.1 is newer than 1.0, the newest this os_vif knows"
    )
