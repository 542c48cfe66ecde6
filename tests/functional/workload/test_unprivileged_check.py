"""os_vif.check of a workload's end from a caller without CAP_SYS_ADMIN.

nova-compute and zun-compute run without the capability that entering a
namespace needs; their check has the workload daemon read the end.  The
unprivileged caller here is a child process that dropped CAP_SYS_ADMIN
from its effective set (root's daemons it starts get it back, as a
daemon started through sudo does); its reports must be those of the test
itself (root), for a correct end and for a damaged one.  Real kernel,
real privsep daemons.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import os_vif
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import (
    bridged_vif,
    macvlan_vif,
    run_in,
    vm_port,
    workload,
)

BRIDGE = "br-wlu0"

#: The child: drop CAP_SYS_ADMIN (effective only, before any thread), then
#: check the VIFs the test made, re-plug the damaged one and check it
#: again; print the reports, and how many reads went to the workload
#: daemon.
CHILD = textwrap.dedent(
    """
    import ctypes, json, sys

    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32),
                    ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0
    data[0].effective &= ~(1 << 21)  # CAP_SYS_ADMIN
    assert libc.capset(ctypes.byref(header), data) == 0, ctypes.get_errno()

    import os_vif
    from os_vif.internal import netns
    from os_vif.internal.privileged import context
    from os_vif.internal.unprivileged import daemon
    from tests.functional.workload import test_unprivileged_check as test

    namespaces = sys.argv[1:]
    try:
        with netns.entered(namespaces[0]):
            pass
    except PermissionError:
        readable = False
    else:
        readable = True
    reads = []
    call = daemon.call

    def counted(ctx, entrypoint, argument, **kwargs):
        if entrypoint is context.workload_read_ends:
            reads.append(len(argument))
        return call(ctx, entrypoint, argument, **kwargs)

    daemon.call = counted
    os_vif.initialize()
    items = test.items(namespaces)
    single = [os_vif.check(*item[:2], workload=item[2]) for item in items]
    many = os_vif.check_many(items)
    checked = list(reads)
    # A plug leaves the reading to the daemon: no read of its own.
    os_vif.plug(*items[1][:2], workload=items[1][2])
    plugged = list(reads)
    repaired = os_vif.check(*items[1][:2], workload=items[1][2])
    context.stop_all()
    print(json.dumps({
        "readable": readable,
        "reads": checked,
        "plug_reads": plugged,
        "single": [test.shown(report) for report in single],
        "many": [test.shown(report) for report in many],
        "repaired": test.shown(repaired),
    }))
    """
)


PARENTS = ("vmport0", "vmport1")


def nested_vif(n: int) -> vif_objects.VIFMacvlanNested:
    """A nested VIF (noop plugin): a macvlan of the VM's port."""
    return macvlan_vif(n, family=0x3AE00000, kind=0x33)


def items(namespaces: list[str]) -> list[tuple[Any, Any, Any]]:
    """A VIF and its workload's end in each of ``namespaces``: veths on a
    bridge for the first three, macvlans of ``vmport0`` for the others."""
    found = []
    for n, namespace in enumerate(namespaces):
        if n >= 3:
            found.append(
                (nested_vif(n), vifs.INSTANCE,
                 workload(namespace, parent=PARENTS[0]))
            )
            continue
        vif = bridged_vif(n, BRIDGE, "fd09::%d/64" % (n + 2))
        found.append((vif, vifs.INSTANCE, workload(namespace)))
    return found


def shown(report: Any) -> dict[str, Any]:
    """A report as JSON can carry it (the problems sorted)."""
    return {
        "ok": report.ok,
        "error": None if report.error is None else str(report.error),
        "problems": sorted(
            [str(p.object), str(p.what), repr(p.expected), repr(p.found)]
            for p in report.problems
        ),
    }


def _unprivileged(namespaces: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *namespaces],
        capture_output=True,
        text=True,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))
        ))),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def host(netns):
    """The VMs' ports the nested ends hang from (up veths), os_vif ready."""
    for name in PARENTS:
        vm_port(name)
    os_vif.initialize()


def test_a_check_without_cap_sys_admin_reports_what_root_reports(
    host, workload_netns
):
    namespaces = [workload_netns() for _ in range(5)]
    plugged = items(namespaces)
    # The third end is never plugged: it is missing.
    for item in plugged[:2] + plugged[3:4]:
        os_vif.plug(item[0], item[1], workload=item[2])
    # The fifth is a macvlan of the other port: its parent differs.
    vif, instance, end = plugged[4]
    os_vif.plug(
        vif, instance,
        workload=workload(end.netns, parent=PARENTS[1]),
    )
    # Damage the second one: an address gone, another MTU.
    run_in(namespaces[1], "ip", "addr", "del", "10.9.0.3/24", "dev", "eth0")
    run_in(namespaces[1], "ip", "link", "set", "eth0", "mtu", "1300")

    root = [
        shown(os_vif.check(*item[:2], workload=item[2])) for item in plugged
    ]
    child = _unprivileged(namespaces)

    # The child really could not enter a namespace itself.
    assert child["readable"] is False
    assert [report["ok"] for report in root] == [
        True, False, False, True, False
    ]
    assert ["device eth0 in namespace %s" % namespaces[1], "mtu", "1400",
            "1300"] in root[1]["problems"]
    assert any(p[1] == "address" for p in root[1]["problems"])
    assert [p[1] for p in root[4]["problems"]] == ["parent"]
    assert child["single"] == root
    assert child["many"] == root
    # One daemon read per single check, one for the whole check_many.
    assert child["reads"] == [1, 1, 1, 1, 1, 5]
    # The child's plug repaired the damaged end without a read of its own.
    assert child["plug_reads"] == child["reads"]
    assert child["repaired"] == {"ok": True, "error": None, "problems": []}
    assert shown(os_vif.check(*plugged[1][:2], workload=plugged[1][2]))[
        "ok"
    ]
