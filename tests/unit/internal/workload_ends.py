"""Made-up workload's ends for the unit tests of the workload's end."""

from __future__ import annotations

from typing import Any

from os_vif.internal import linkstate

#: The VIF the made-up ends belong to.
VIF_ID = "00000001-0000-0000-0000-000000000000"


def end_link(**fields: Any) -> linkstate.Link:
    """The end's link as a read gives it: ``eth0`` (index 2), a veth of
    MTU 1400, up, carrying os_vif's mark; ``fields`` change any of that."""
    values: dict[str, Any] = {
        "name": "eth0",
        "index": 2,
        "kind": "veth",
        "mtu": 1400,
        "mac": "fa:16:3e:00:00:01",
        "up": True,
        "master_index": 0,
        "alias": linkstate.OS_VIF_ALIAS,
        "vlan_id": None,
    }
    values.update(fields)
    return linkstate.Link(**values)
