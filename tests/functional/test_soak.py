"""The soak's short mode (``tools/soak.py --short``), as CI runs it.

About a minute of churn of 40 VIFs of three kinds through plug_many,
unplug_many, single plug / unplug, check_many and gc while a fault
strikes every 5 s (privsep daemons killed, ovsdb-server and ovs-vswitchd
restarted, a client killed mid-batch, devices and ports deleted by
hand); the program is run as a subprocess, as an operator runs it, and
its exit status and JSON report are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from os_vif.sandbox import netns as netns_sandbox
from os_vif.sandbox import ovs as ovs_sandbox

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
SOAK = os.path.join(ROOT, "tools", "soak.py")
FAULT_KINDS = (
    "daemon_kill",
    "ovsdb_restart",
    "vswitchd_restart",
    "client_kill",
    "device_delete",
    "port_delete",
)


@pytest.fixture(scope="module")
def short_soak(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the short soak once; its exit status, output and report."""
    reason = netns_sandbox.missing_reason() or ovs_sandbox.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("soak") / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            SOAK,
            "--short",
            "--seed",
            "20",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(out.read_text()) if out.exists() else None
    return {"result": result, "report": report}


def test_the_short_soak_passes(short_soak: dict[str, Any]) -> None:
    result = short_soak["result"]
    report = short_soak["report"]
    assert report is not None, result.stderr[-4000:]
    assert result.returncode == 0, (
        report["failures"],
        result.stdout[-4000:],
    )
    assert report["ok"] and report["failures"] == []
    assert "PASS" in result.stdout


def test_every_kind_of_fault_struck(short_soak: dict[str, Any]) -> None:
    report = short_soak["report"]
    assert report is not None
    by_kind = report["faults"]["by_kind"]
    for kind in FAULT_KINDS:
        assert by_kind[kind]["count"] >= 1, kind
        # Every fault was recovered from: a plug or unplug succeeded after.
        assert by_kind[kind]["unrecovered"] == 0, kind
    assert report["clients"]["kills"] >= 1


def test_failures_were_os_vif_exceptions(short_soak: dict[str, Any]) -> None:
    report = short_soak["report"]
    assert report is not None
    assert report["calls"]["foreign_exceptions"] == []
    assert report["calls"]["unattributed_failures"] == []
    for row in report["faults"]["by_kind"].values():
        for label in row["exceptions"]:
            assert label.split("(")[0] in (
                "PlugException",
                "UnplugException",
                "HostOperationFailed",
                "DaemonLost",
            ) or label.startswith("check:"), label


def test_nothing_lost_and_leaks_collected(short_soak: dict[str, Any]) -> None:
    report = short_soak["report"]
    assert report is not None
    assert report["vifs"]["lost"] == []
    assert report["vifs"]["left_behind"] == []
    leaks = report["leaks"]
    assert leaks["made"] == leaks["found"] == leaks["collected"]
    assert report["teardown"] == {
        "unplugged": report["teardown"]["unplugged"],
        "failed": 0,
        "left": [],
    }
    checkpoints = report["checkpoints"]
    assert len(checkpoints) >= 3
    assert all(c["ok"] and c["decoys_ok"] for c in checkpoints)


def test_memory_and_descriptors_stay_flat(short_soak: dict[str, Any]) -> None:
    report = short_soak["report"]
    assert report is not None
    resources = report["resources"]
    for key in ("rss_kb", "fds"):
        assert resources["end"][key] <= resources["warm"][key] * 1.10, key
