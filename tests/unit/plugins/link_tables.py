"""Hand-made link tables for the GC tests: the dump a collection reads."""

from __future__ import annotations

from os_vif.internal.linkstate import Link, LinkTable


def link(
    name: str,
    index: int,
    kind: str | None,
    *,
    marked: bool = True,
    master: int = 0,
) -> Link:
    """A link as a dump gives it; ``marked``: it carries os_vif's alias."""
    return Link(
        name=name,
        index=index,
        kind=kind,
        mtu=1500,
        mac=None,
        up=True,
        master_index=master,
        alias="os-vif" if marked else None,
        vlan_id=None,
    )


def table(*links: Link) -> LinkTable:
    """The table of one dump holding exactly ``links``."""
    return LinkTable({k.name: k for k in links}, {k.index: k for k in links})
