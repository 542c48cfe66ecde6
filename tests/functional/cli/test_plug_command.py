"""``os-vif plug`` / ``os-vif unplug`` on the real kernel.

The linux_bridge plugin, through its privsep daemon, in a fresh network
namespace; the result is read back from the kernel with netlink.
"""

from __future__ import annotations

import json

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import serialization
from os_vif.cli import main
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs

INSTANCE = "6a0b7c57-4f4c-4b1e-9b7e-37a2c1e2d0f1"


def bridge_vif(n: int) -> vif_objects.VIFBridge:
    """VIF ``n`` of the tests: its tap ``tap-cli<n>`` on ``br-cli0``."""
    return vifs.bridge_vif(n, bridge="br-cli0", tap="tap-cli%d" % n, mtu=1400)


@pytest.fixture
def create_tap(conf):
    os_vif.initialize()
    conf.config(create_tap=True, group="os_vif_linux_bridge")


def names(ipr: IPRoute) -> set[str]:
    return {link.get("ifname") for link in ipr.get_links()}


def test_plug_and_unplug_a_file_of_vifs(netns, create_tap, tmp_path, capsys):
    path = tmp_path / "vifs.json"
    # One VIF in each format: the command reads both.
    path.write_text(json.dumps([
        serialization.to_compact(bridge_vif(0)),
        serialization.to_primitive(bridge_vif(1)),
    ]))
    assert main(["plug", "--instance-uuid", INSTANCE, str(path)]) == 0
    err = capsys.readouterr().err
    assert "[2/2] plugged VIFBridge" in err
    assert err.splitlines()[-1].startswith("plug of 2 VIFs in ")
    assert err.splitlines()[-1].endswith(": 2 done, 0 failed, 0 unchanged")
    with IPRoute() as ipr:
        assert {"br-cli0", "tap-cli0", "tap-cli1"} <= names(ipr)
        bridge = ipr.link_lookup(ifname="br-cli0")[0]
        for tap in ("tap-cli0", "tap-cli1"):
            link = ipr.link("get", ifname=tap)[0]
            assert link.get("master") == bridge
            assert link.get("mtu") == 1400
    # Idempotent, as the library.
    assert main(["plug", "-q", "--instance-uuid", INSTANCE, str(path)]) == 0
    assert main(["unplug", "--instance-uuid", INSTANCE, str(path)]) == 0
    assert ": 2 done, 0 failed" in capsys.readouterr().err
    with IPRoute() as ipr:
        assert not {"tap-cli0", "tap-cli1"} & names(ipr)


def test_a_failed_plug_is_one_line_and_undone(
    netns, create_tap, tmp_path, capsys
):
    # br-cli0 exists already, as a veth: the privileged side refuses to
    # take it for a bridge and undoes the plan.
    with IPRoute() as ipr:
        ipr.link("add", ifname="br-cli0", kind="veth", peer="br-cli0p")
    path = tmp_path / "vifs.json"
    path.write_text(json.dumps([serialization.to_compact(bridge_vif(0))]))
    assert main(["plug", "--instance-uuid", INSTANCE, str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[1/1] failed VIFBridge ")
    assert len(lines) == 3, lines
    assert lines[1].endswith(": 0 done, 1 failed, 0 unchanged")
    assert lines[2].startswith(
        "os-vif plug: error: VIF %s: plug failed: " % bridge_vif(0).id
    )
    assert "VIFBridge(" not in lines[2] and "br-cli0" in lines[2]
    with IPRoute() as ipr:
        assert "tap-cli0" not in names(ipr)
