"""The ovs plugin makes the workload's end: a veth, its host end an OVS
port (``VIFOpenVSwitch``) or a port of the hybrid ``qbr`` (``VIFBridge``).

A private ovsdb-server and ovs-vswitchd (netdev datapath); two workloads
on ``br-int`` ping each other; unplug leaves no device and no port.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from os_vif import exception
from os_vif.internal import linkstate
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows
from tests.functional.ovs.conftest import (
    hybrid_workload_vif,
    ovs_workload_vif,
)
from tests.functional.workload.conftest import (
    ping,
    run_in,
    workload,
)

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE



@pytest.mark.parametrize(
    "make", [ovs_workload_vif, hybrid_workload_vif], ids=["ovs", "hybrid"]
)
def test_two_workloads_on_br_int_ping_each_other(
    ovs_plugin, ovs: OvsServer, workload_netns, make
) -> None:
    first, second = workload_netns(), workload_netns()
    vif1, vif2 = make(0), make(1)
    end1, end2 = workload(first), workload(second)
    ovs_plugin.plug(vif1, INSTANCE, workload=end1)
    ovs_plugin.plug(vif2, INSTANCE, workload=end2)

    host = linkstate.get_device(vif1.vif_name)
    assert host is not None and host.kind == "veth"
    assert host.alias == linkstate.OS_VIF_ALIAS and host.mtu == 1450
    if make is hybrid_workload_vif:
        qbr, _qvb, qvo = naming.hybrid_names(vif1.id)
        assert host.master == qbr
        port = qvo
    else:
        port = vif1.vif_name
        assert ovsdb_rows.row(ovs, "Port", port) is not None
    assert ovsdb_rows.port_bridge(ovs, port) == "br-int"

    answer = ping(first, "10.8.0.3")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert ovs_plugin.check(vif1, INSTANCE, workload=end1).ok

    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.plug(vif1, INSTANCE, workload=end1)
    assert ovsdb_rows.next_cfg(ovs) == before

    for vif, end in ((vif1, end1), (vif2, end2)):
        ovs_plugin.unplug(vif, INSTANCE, workload=end)
        assert linkstate.read_link(vif.vif_name) is None
        assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None
        if make is hybrid_workload_vif:
            assert not set(naming.hybrid_names(vif.id)) & {
                link.name for link in linkstate.dump_links()
            }
    out = run_in(first, "ip", "-o", "link", "show").stdout.splitlines()
    assert [line.split(":")[1].strip() for line in out] == ["lo"]
    ovs_plugin.unplug(vif1, INSTANCE, workload=end1)


def test_gc_collects_a_gone_workloads_port_and_a_stale_workload(
    ovs_plugin, ovs: OvsServer, workload_netns
) -> None:
    kept_ns, stale_ns, gone_ns = (workload_netns() for _ in range(3))
    kept, stale, gone = (
        ovs_workload_vif(0), hybrid_workload_vif(1), ovs_workload_vif(2)
    )
    pairs = ((kept, kept_ns), (stale, stale_ns), (gone, gone_ns))
    for vif, namespace in pairs:
        ovs_plugin.plug(vif, INSTANCE, workload=workload(namespace))
    subprocess.run(["ip", "netns", "del", gone_ns], check=True)
    deadline = time.monotonic() + 10
    while linkstate.read_link(gone.vif_name) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Its port is all that is left of the gone one.
    assert ovsdb_rows.row(ovs, "Port", gone.vif_name) is not None

    report = ovs_plugin.gc([kept])
    assert report.error is None
    removed = {r.what for r in report.removals if r.error is None}
    assert "port %s" % gone.vif_name in removed
    assert "device %s" % stale.vif_name in removed
    assert ovsdb_rows.row(ovs, "Port", gone.vif_name) is None
    assert not set(naming.hybrid_names(stale.id)) & {
        link.name for link in linkstate.dump_links()
    }
    out = run_in(stale_ns, "ip", "-o", "link", "show").stdout.splitlines()
    assert [line.split(":")[1].strip() for line in out] == ["lo"]
    assert ovs_plugin.check(kept, INSTANCE, workload=workload(kept_ns)).ok


def test_an_ovsdb_refusal_takes_back_both_ends(
    ovs_plugin, ovs: OvsServer, workload_netns
) -> None:
    namespace = workload_netns()
    vif = ovs_workload_vif(0)
    # An Interface under the VIF's name belongs to another port already:
    # OVSDB refuses the port after the daemon made the veth.
    ovsdb_rows.block_interface_name(ovs, vif.vif_name)
    with pytest.raises(exception.HostOperationFailed):
        ovs_plugin.plug(vif, INSTANCE, workload=workload(namespace))
    assert linkstate.read_link(vif.vif_name) is None
    out = run_in(namespace, "ip", "-o", "link", "show").stdout.splitlines()
    assert [line.split(":")[1].strip() for line in out] == ["lo"]
