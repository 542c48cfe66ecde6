"""unplug_many deletes the workloads' veth ends with the batch's one
deletion, through their host ends; what that cannot take goes as before.

Real kernel: the test runs in a fresh namespace (the host side, with the
privsep daemons) and makes its workloads' namespaces.
"""

from __future__ import annotations

import subprocess
from typing import Any

import os_vif
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import (
    bridged_vif,
    host_links,
    link_names,
    run_in,
    workload,
)

BRIDGE = "br-wlb0"


def test_a_batch_deletes_the_ends_and_what_their_host_ends_cannot_take(
    workload_netns: Any,
) -> None:
    os_vif.initialize()
    spaces = [workload_netns() for _ in range(4)]
    items = [
        (bridged_vif(n, BRIDGE), vifs.INSTANCE, workload(space))
        for n, space in enumerate(spaces)
    ]
    assert os_vif.plug_many(items) == [None] * 4
    # The second's host end is gone (its peer with it), and an end of
    # os_vif's under its name is left inside: only entering deletes it.
    subprocess.run(
        ["ip", "link", "del", items[1][0].vif_name], check=True
    )
    for command in (
        "link add eth0 type veth peer name eth0p",
        "link set eth0 alias os-vif",
    ):
        assert run_in(spaces[1], "ip", *command.split()).returncode == 0
    # The third's namespace is gone: so are both of its ends.
    subprocess.run(["ip", "netns", "del", spaces[2]], check=True)
    # The fourth's end inside is not os_vif's any more: its host end
    # (os_vif's) is deleted, which takes the peer with it, as a single
    # unplug does.
    assert run_in(
        spaces[3], "ip", "link", "set", "eth0", "alias", "someone"
    ).returncode == 0

    assert os_vif.unplug_many(items) == [None] * 4

    for space in (spaces[0], spaces[1], spaces[3]):
        assert link_names(space) == ["lo"]
    assert not {item[0].vif_name for item in items} & host_links()
    # Every port left in the call: the bridge os_vif made went too.
    assert BRIDGE not in host_links()
