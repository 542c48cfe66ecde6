"""A host with a fake dual-port ConnectX-5 for the offload plugin's tests.

No SR-IOV hardware here, so:

* sysfs is a fake tree (:mod:`tests.fake_sysfs`) that the plugin reads
  through its ``sysfs_root`` option;
* every netdev the tree names (PFs, representors) exists for real in the
  test's network namespace as one end of a veth pair, so the bridge and
  OVS attachment, MTU and link state are real;
* only the VF netlink calls are faked, inside the real privsep daemon
  (:mod:`tests.fake_vf_daemon`), and every request is
  recorded with its exact attributes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg
from pyroute2 import IPRoute

from os_vif.internal import linkstate as netdev
from os_vif.plugins.offload import OffloadPlugin
from os_vif.sandbox import netns as netns_fixture
from tests import fake_sysfs, fake_vf_daemon
from tests.conftest import ConfigFixture
from tests.functional.ovs.conftest import (  # noqa: F401 - fixtures
    ovs,
    ovs_netns,
    ovs_server_session,
)

REPO = str(Path(__file__).resolve().parents[3])
PRIVSEP_GROUP = "vif_plug_ovs_privileged"
#: A VF's settings before any plug: what mlx5 reports for a fresh VF.
FRESH_VF = {
    "mac": "00:00:00:00:00:00",
    "vlan": 0,
    "spoofchk": 0,
    "trust": 0,
    "link_state": 0,
}


@dataclasses.dataclass
class OffloadHost:
    """The fake NIC, its stand-in netdevs and the plugin under test."""

    layout: fake_sysfs.Layout
    state_path: str
    plugin: OffloadPlugin
    #: oslo.config's fixture: ``conf.config(...)`` overrides, undone after.
    conf: ConfigFixture

    def state(self) -> dict[str, Any]:
        return json.loads(Path(self.state_path).read_text())

    def write_state(self, state: dict[str, Any]) -> None:
        Path(self.state_path).write_text(json.dumps(state))

    def vf_calls(self) -> list[dict[str, Any]]:
        return list(self.state()["calls"])

    def vf_state(self, pf: int, vf: int) -> dict[str, Any]:
        return dict(self.state()["pfs"][self.layout.pfs[pf].ifname]["vfs"][vf])

    def fail_vf_attribute(self, pf: int, attribute: str, errno: int) -> None:
        state = self.state()
        state["pfs"][self.layout.pfs[pf].ifname]["fail"][attribute] = errno
        self.write_state(state)

    def pf_index(self, pf: int) -> int:
        device = netdev.get_device(self.layout.pfs[pf].ifname)
        assert device is not None
        return device.index

    def stand_ins(self) -> set[str]:
        """The names of the veths that play the PFs and representors."""
        names = set()
        for pf in self.layout.pfs:
            names |= {pf.ifname, "up%d" % pf.number}
            for vf in pf.vfs:
                if vf.representor is not None:
                    names |= {
                        vf.representor,
                        "vf%d-%d" % (pf.number, vf.index),
                    }
        return names

    def snapshot(self, stand_ins_only: bool = False) -> dict[str, Any]:
        """Every link of the namespace with what a plug may change.

        ``stand_ins_only`` leaves out the links ovs-vswitchd owns (its
        datapath device and bridge ports, which it removes in its own
        time after a bridge is deleted).
        """
        with IPRoute() as ipr:
            links = {
                link.get("ifname"): (
                    link.get("mtu"),
                    bool(link["flags"] & 1),
                    link.get("master"),
                )
                for link in ipr.get_links()
                if not stand_ins_only or link.get("ifname") in self.stand_ins()
            }
        return {"links": links, "vfs": self.state()["pfs"]}


def _add_stand_ins(layout: fake_sysfs.Layout) -> None:
    """Make each PF and representor of ``layout`` a veth in this netns."""
    with IPRoute() as ipr:
        for pf in layout.pfs:
            ipr.link(
                "add", ifname=pf.ifname, kind="veth", peer="up%d" % pf.number
            )
            for vf in pf.vfs:
                if vf.representor is None:
                    continue
                # The peer plays the VF: what the guest would send.
                ipr.link(
                    "add",
                    ifname=vf.representor,
                    kind="veth",
                    peer="vf%d-%d" % (pf.number, vf.index),
                )


@contextlib.contextmanager
def offload_host_on(
    layout: fake_sysfs.Layout, state_dir: Path
) -> Iterator[OffloadHost]:
    """Run the plugin against ``layout`` in the current namespace.

    The caller has entered the namespace and stopped the privsep daemons
    (the netns fixtures do both), so the daemon started by the first plug
    runs here, with the VF calls faked.
    """
    state_path = str(state_dir / "vf-state.json")
    state = {
        "pfs": {
            pf.ifname: {
                "vfs": [dict(FRESH_VF) for _ in pf.vfs],
                "fail": {},
            }
            for pf in layout.pfs
        },
        "calls": [],
    }
    Path(state_path).write_text(json.dumps(state))
    _add_stand_ins(layout)
    command = "env %s=%s PYTHONPATH=%s %s -m %s" % (
        fake_vf_daemon.STATE_ENV,
        shlex.quote(state_path),
        shlex.quote(REPO),
        shlex.quote(sys.executable),
        fake_vf_daemon.__name__,
    )
    plugin = OffloadPlugin.load("offload")
    conf = ConfigFixture(cfg.CONF)
    conf.setUp()
    try:
        conf.config(helper_command=command, group=PRIVSEP_GROUP)
        conf.config(sysfs_root=layout.root, group="os_vif_offload")
        yield OffloadHost(layout, state_path, plugin, conf)
    finally:
        conf.cleanUp()


def _require_functional() -> None:
    reason = netns_fixture.missing_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def cx5_host(tmp_path: Path) -> Iterator[OffloadHost]:
    """A dual-port ConnectX-5 in switchdev mode, PF1's VF 3 on vfio-pci,
    in a fresh namespace; representors go to Linux bridges."""
    _require_functional()
    layout = fake_sysfs.connectx5_switchdev(
        tmp_path / "sys", vfio_vfs=((1, 3),)
    )
    with netns_fixture.fresh_netns("osvif-offload"):
        with offload_host_on(layout, tmp_path) as host:
            host.conf.config(
                default_switch="linux_bridge", group="os_vif_offload"
            )
            yield host


@pytest.fixture
def legacy_host(tmp_path: Path) -> Iterator[OffloadHost]:
    """A ConnectX-5 PF in legacy mode (no representors)."""
    _require_functional()
    layout = fake_sysfs.legacy_mode(tmp_path / "sys")
    with netns_fixture.fresh_netns("osvif-offload"):
        with offload_host_on(layout, tmp_path) as host:
            yield host


@pytest.fixture
def cx5_ovs_host(
    ovs: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> Iterator[tuple[OffloadHost, Any]]:
    """The ConnectX-5 inside the private Open vSwitch's namespace."""
    layout = fake_sysfs.connectx5_switchdev(tmp_path / "sys")
    with netns_fixture.entered(ovs.netns):
        try:
            with offload_host_on(layout, tmp_path) as host:
                host.conf.config(
                    ovsdb_connection=ovs.connection, group="os_vif_offload"
                )
                yield host, ovs
        finally:
            # The ovs fixture deletes bridges and links; the shared
            # connection must not outlive this test's database state.
            from os_vif.internal.ovsdb import connection

            connection.close_all()
