"""The forwarding rules on the real kernel's nf_tables, in a fresh netns.

The plans run through the executor in this process (root, inside the
test's namespace: the same code the daemon runs), so that the insertions
asked of the kernel can be counted.  A fresh namespace has no nf_tables
table at all: no ``filter``/``FORWARD`` chain, as a host without an
iptables firewall.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2.nftables.main import NFTables

from os_vif.internal import kernel
from os_vif.internal.kernel import firewall
from os_vif.internal.privileged import executor
from os_vif.internal.privileged import firewall as writes
from os_vif.sandbox import firewall as sandbox_firewall

BRIDGE = "br-fw0"


def run(step: kernel.KernelOperation) -> dict[str, Any]:
    """Run one step as a plan of one group; its result."""
    result = executor.execute(
        {"id": uuid.uuid4().hex, "groups": [[step.to_wire()]]}
    )[0]
    assert "error" not in result, result
    return result


def add_chain(family: int) -> None:
    """The filter/FORWARD chain iptables-nft makes, in ``family``."""
    sandbox_firewall.add_forward_chain(family).close()


def tables(family: int) -> list[str]:
    with NFTables(nfgen_family=family) as nft:
        return [t.get("NFTA_TABLE_NAME") for t in nft.get_tables()]


@pytest.fixture
def insertions(netns, monkeypatch) -> Iterator[list[int]]:
    """The families in which rules were inserted (or tried to be)."""
    firewall.close_sockets()  # sockets of this namespace only
    seen: list[int] = []
    real = writes._insert_rules

    def counted(nft: NFTables, family: int, *args: Any) -> bool:
        seen.append(family)
        return real(nft, family, *args)

    monkeypatch.setattr(writes, "_insert_rules", counted)
    yield seen
    firewall.close_sockets()


def test_without_the_chain_nothing_is_asked_of_the_kernel(insertions):
    """No chain: no insertion tried (a refused batch costs the kernel an
    RCU grace period, about 10 ms per family), nothing made, no undo."""
    result = run(kernel.AllowBridgeForwarding(name=BRIDGE))
    assert result == {"changed": [False], "undo": []}
    assert insertions == []
    assert tables(socket.AF_INET) == tables(socket.AF_INET6) == []
    assert firewall.family_rules(firewall.rule_tag(BRIDGE)) == []
    assert kernel.AllowBridgeForwarding(name=BRIDGE).check() == []


def test_a_chain_added_later_gets_the_rules(insertions):
    """Nothing is remembered about a missing chain: the next plug after
    an operator adds it inserts the rules, in that family only."""
    assert run(kernel.AllowBridgeForwarding(name=BRIDGE))["changed"] == [
        False
    ]
    add_chain(socket.AF_INET)
    result = run(kernel.AllowBridgeForwarding(name=BRIDGE))
    assert result["changed"] == [True]
    assert result["undo"] == [
        kernel.RevokeBridgeForwarding(name=BRIDGE).to_wire()
    ]
    assert insertions == [socket.AF_INET]
    assert firewall.bridge_rules(BRIDGE) == {
        socket.AF_INET: 2,
        socket.AF_INET6: 0,
    }
    # Idempotent: the rules are there, nothing inserted again.
    assert run(kernel.AllowBridgeForwarding(name=BRIDGE))["changed"] == [
        False
    ]
    assert insertions == [socket.AF_INET]
    assert kernel.AllowBridgeForwarding(name=BRIDGE).check() == []
    assert run(kernel.RevokeBridgeForwarding(name=BRIDGE))["changed"] == [
        True
    ]
    assert firewall.bridge_rules(BRIDGE) == {
        socket.AF_INET: 0,
        socket.AF_INET6: 0,
    }


def test_a_chain_gone_before_the_insertion_is_no_error(
    insertions, monkeypatch
):
    """The chain seen, then deleted before the insertion: the kernel
    refuses it (ENOENT), which means no firewall, not a failed plug."""
    monkeypatch.setattr(firewall, "has_chain", lambda nft: True)
    result = run(kernel.AllowBridgeForwarding(name=BRIDGE))
    assert result["changed"] == [False]
    assert insertions == [socket.AF_INET, socket.AF_INET6]
    assert tables(socket.AF_INET) == tables(socket.AF_INET6) == []
