"""What a test compares of the namespace's links before and after."""

from __future__ import annotations

from typing import Any

from pyroute2 import IPRoute


def link_states() -> dict[str, Any]:
    """Every link by name: (kind, MTU, up, master index, alias)."""
    with IPRoute() as ipr:
        return {
            link.get("ifname"): (
                link.get(("linkinfo", "kind")),
                link.get("mtu"),
                link["flags"] & 1,
                link.get("master"),
                link.get("ifalias"),
            )
            for link in ipr.get_links()
        }
