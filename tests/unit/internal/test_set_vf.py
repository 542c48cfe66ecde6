"""The set_vf operation against a PF whose netlink answers are faked.

SR-IOV needs hardware, so the netlink calls are answered here: the PF
lookup (linkstate) gets the PF's message as pyroute2 encodes it, the
pyroute2 ``get`` returns the PF's VF table encoded and decoded as the
kernel's message would be, ``set`` with ``vf=`` records the exact
request.  (The functional tests run the same operation in the privsep
daemon.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from os_vif.internal import kernel as devices
from os_vif.internal import linkstate
from os_vif.internal.privileged import netlink as privileged_netlink
from os_vif.internal.privileged.apply import Context, apply
from tests import fake_vf_daemon

UNKNOWN = 0xFFFFFFFF


class FakePF:
    def __init__(self, vfs: list[dict[str, Any]]) -> None:
        self.vfs = vfs
        self.sets: list[dict[str, Any]] = []
        msg = ifinfmsg()
        msg.update(family=0, ifi_type=1, index=7, flags=1, change=0)
        msg["attrs"] = [("IFLA_IFNAME", "pf0")]
        msg["header"]["type"] = 16  # RTM_NEWLINK, as the kernel answers
        msg.encode()
        self.link_bytes = bytes(msg.data)
        self.link_msg = ifinfmsg(msg.data)
        self.link_msg.decode()

    def read_link(
        self, name: str | None = None, index: int = 0
    ) -> linkstate.Link | None:
        if name == "pf0" or index == 7:
            return linkstate.decode_link(self.link_bytes)
        return None

    def link(self, command: str, **kwarg: Any) -> Any:
        if command == "get" and "ext_mask" in kwarg:
            assert kwarg == {"index": 7, "ext_mask": 1}
            return (fake_vf_daemon._with_vfs(self.link_msg, self.vfs),)
        assert command == "set" and set(kwarg) == {"index", "vf"}
        assert kwarg["index"] == 7
        self.sets.append(dict(kwarg["vf"]))
        return ()


@pytest.fixture
def pf(monkeypatch: pytest.MonkeyPatch) -> FakePF:
    fake = FakePF(
        [
            {
                "mac": "00:00:00:00:00:00",
                "vlan": 0,
                "spoofchk": 1,
                "trust": UNKNOWN,
                "link_state": 0,
            }
        ]
    )

    @contextlib.contextmanager
    def netlink() -> Iterator[FakePF]:
        yield fake

    monkeypatch.setattr(privileged_netlink, "netlink", netlink)
    monkeypatch.setattr(linkstate, "read_link", fake.read_link)
    return fake


def test_only_differing_settings_are_sent_and_undone(pf: FakePF) -> None:
    tx = Context(None)
    changed = apply(
        devices.SetVf(
            name="pf0",
            vf=0,
            mac="fa:16:3e:00:00:01",
            vlan=0,
            spoofchk=True,
            trust=False,
            link_state="auto",
        ),
        tx,
    )
    assert changed is True
    # vlan, spoofchk and link state already match; the driver cannot report
    # trust, so it is sent -- and cannot be restored.
    assert pf.sets == [{"vf": 0, "mac": "fa:16:3e:00:00:01", "trust": 0}]
    # The undo sends the old MAC back (trust cannot be restored).
    assert tx.undo_log == [
        devices.SetVf(name="pf0", vf=0, mac="00:00:00:00:00:00")
    ]


def test_nothing_to_change_sends_nothing(pf: FakePF) -> None:
    tx = Context(None)
    op = devices.SetVf(name="pf0", vf=0, vlan=0, spoofchk=True)
    assert apply(op, tx) is False
    assert pf.sets == []


def test_vf_missing_from_the_table_gets_the_whole_request(pf: FakePF) -> None:
    tx = Context(None)
    assert apply(devices.SetVf(name="pf0", vf=3, vlan=12), tx) is True
    assert pf.sets == [{"vf": 3, "vlan": 12}]
    tx.rollback()
    assert len(pf.sets) == 1
