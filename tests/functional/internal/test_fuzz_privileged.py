"""Fuzzing the privileged daemon's entry point with hostile plans.

A compromised caller can send the privsep daemon anything msgpack carries,
through the very call os_vif's runner makes (``daemon.call(context,
entrypoint, plan)``).  Hypothesis builds such plans from the wire form
(``{"id", "groups": [[[operation, {argument: value}], ...], ...],
"batch_deletions", "recover", "hello"}``): wrong types at every level,
unknown operations and arguments, names that are not os_vif's (the host's
decoys, too long, with ``/``, ``..``, NUL, ``%d``, unicode), oversized
lists and strings, duplicate and contradictory operations, plugs out of
order, and ``recover`` requests for journals that do not exist or that the
test forged in the journal directory against :mod:`journal
<os_vif.internal.privileged.journal>`'s rules.

Each example runs in one throwaway network namespace, where the daemons
run, next to *decoys* the test made itself with pyroute2 (a bridge, a
bridge with a port, a veth pair, a tap, names that look like os-vif's
``qbr``/``qvb``/``tap`` devices without its mark, a unicode name, the
loopback, and an iptables-nft ``filter``/``FORWARD`` chain with a rule of
the host's).  The properties, checked after every example:

* the call ends in an os_vif exception (never a DaemonLost: no crash, no
  hang) or in a list of per-group results, each a success or an os_vif
  exception;
* a plan the caller-side validation refuses changes nothing at all;
* every device left that is not a decoy carries os_vif's mark;
* every decoy keeps its full state (index, kind, MTU, MAC, master, admin
  state, alias, IPv4/IPv6 sysctls), except what an ownership rule lets a
  plan change on a device os_vif does not own (see
  ``doc/source/operators/ownership.rst``): the fields of the role an
  operation names it in, and anything when the plan proves, by a VIF id,
  that the device is what os-vif 5.x made for that VIF;
* the host's firewall rules are unchanged (os_vif's own, tagged rules
  aside);
* the same daemon (same pid) still answers a trivial call.

OVSDB is out of the daemon's reach: its registry holds kernel operations
only (asserted below), OVSDB operations run in the caller's own
transaction, and the daemon has no OVSDB connection; so no OVS decoy is
needed -- a plan naming an OVS port can only name a kernel device.

CI runs a few hundred examples, derandomized (the same ones every run);
``OS_VIF_FUZZ_PRIVILEGED_EXAMPLES=10000`` (or ``tools/fuzz_privileged.py``)
runs a long hunt.  ``OS_VIF_FUZZ_PRIVILEGED_REPORT=<file>`` writes the
count, time and outcomes as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.main import NFTables

from os_vif import exception
from os_vif.internal import kernel, operation, ownership
from os_vif.internal.kernel import firewall
from os_vif.internal.privileged import firewall as writes
from os_vif.internal.privileged import journal as journal_mod
from os_vif.internal.unprivileged import daemon, runner
from os_vif.sandbox import firewall as sandbox_firewall
from os_vif.sandbox import netns as netns_mod

EXAMPLES = int(os.environ.get("OS_VIF_FUZZ_PRIVILEGED_EXAMPLES", "300"))
REPORT = os.environ.get("OS_VIF_FUZZ_PRIVILEGED_REPORT")
# CI draws the same examples every run; a hunt may draw new ones.
RANDOM = os.environ.get("OS_VIF_FUZZ_PRIVILEGED_RANDOM") == "1"
# A hang shows as a failure in seconds, not after the default minute.
TIMEOUT = 20.0
FAMILIES = (runner.OVS, runner.LINUX_BRIDGE)
MARK = ownership.OS_VIF_ALIAS

# -- the decoys ---------------------------------------------------------------

#: name -> (kind, peer of a veth, master, MTU, MAC, up).  Bridges get their
#: MTU and MAC set by hand after creation, so the kernel keeps them whatever
#: port joins (otherwise a bridge takes its ports' lowest MTU and MAC): an
#: MTU other than the default, or setting it changes nothing and pins
#: nothing.
DECOYS: dict[str, tuple[str, str | None, str | None, int, str, bool]] = {
    "br-host": ("bridge", None, None, 1400, "02:00:00:00:01:01", True),
    "br-port": ("bridge", None, None, 1450, "02:00:00:00:01:02", True),
    "veth-p0": ("veth", "veth-p1", "br-port", 1450, "02:00:00:00:02:01", True),
    "veth-h0": ("veth", "veth-h1", None, 1500, "02:00:00:00:02:03", False),
    "tun-host": ("tun", None, None, 1500, "02:00:00:00:03:01", False),
    # os-vif 5.x's names and kinds: os_vif's only for the matching VIF id.
    "qbrdecoy": ("bridge", None, None, 1490, "02:00:00:00:04:01", True),
    "tapdecoy": ("tun", None, None, 1500, "02:00:00:00:04:02", True),
    "qvbdecoy": ("veth", "qvodecoy", None, 1500, "02:00:00:00:04:03", True),
    # os-vif-looking names of another kind: never os_vif's.
    "tapnotatun": ("bridge", None, None, 1490, "02:00:00:00:05:01", True),
    "qbrveth0": ("veth", "qbrveth1", None, 1500, "02:00:00:00:05:02", True),
    "décoy": ("bridge", None, None, 1490, "02:00:00:00:06:01", True),
}
PEERS = {spec[1] for spec in DECOYS.values() if spec[1]}
DECOY_NAMES = sorted(set(DECOYS) | PEERS | {"lo"})
#: The VIF id that makes the 5.x look-alikes claimable (see ownership).
LEGACY_ID = "decoy"
SYSCTLS = (
    ("ipv6", "disable_ipv6"),
    ("ipv4", "arp_ignore"),
    ("ipv4", "arp_announce"),
    ("ipv4", "arp_filter"),
)
HOST_RULE = "host:decoy accept"


def _kind(link: Any) -> str | None:
    return link.get(("linkinfo", "kind"))


def _sysctl(name: str, family: str, key: str) -> str | None:
    try:
        with open("/proc/sys/net/%s/conf/%s/%s" % (family, name, key)) as f:
            return f.read().strip()
    except OSError:
        return None


def links_state(ipr: IPRoute) -> dict[str, dict[str, Any]]:
    """Every link of the namespace by name, with everything compared."""
    found = list(ipr.get_links())
    names = {link["index"]: link.get("ifname") for link in found}
    state = {}
    for link in found:
        name = link.get("ifname")
        state[name] = {
            "index": link["index"],
            "kind": _kind(link),
            "mtu": link.get("mtu"),
            "mac": link.get("address"),
            "master": names.get(link.get("master") or 0),
            "up": bool(link["flags"] & 1),
            "alias": link.get("ifalias"),
        }
        if name in DECOY_NAMES:
            for family, key in SYSCTLS:
                state[name]["%s.%s" % (family, key)] = _sysctl(
                    name, family, key
                )
    return state


def firewall_rules() -> list[tuple[int, int, str]]:
    """(family, handle, user data) of every rule that is not os_vif's."""
    rules = []
    for family in firewall.FAMILIES:
        with contextlib.closing(NFTables(nfgen_family=family)) as nft:
            for rule in nft.get_rules():
                data = rule.get("NFTA_RULE_USERDATA")
                if isinstance(data, str) and data.startswith("os-vif:"):
                    continue
                rules.append((family, rule.get("NFTA_RULE_HANDLE"), data))
    return sorted(rules, key=repr)


def _delete_os_vif_rules() -> None:
    for family in firewall.FAMILIES:
        with contextlib.closing(NFTables(nfgen_family=family)) as nft:
            for rule in nft.get_rules():
                data = rule.get("NFTA_RULE_USERDATA")
                if isinstance(data, str) and data.startswith("os-vif:"):
                    nft.rule(
                        "del",
                        table=firewall.TABLE,
                        chain=firewall.CHAIN,
                        handle=rule.get("NFTA_RULE_HANDLE"),
                    )


def make_firewall() -> None:
    """An iptables-nft filter/FORWARD chain with one rule of the host's."""
    for family in firewall.FAMILIES:
        with contextlib.closing(
            sandbox_firewall.add_forward_chain(family, replace=True)
        ) as nft:
            nft.rule(
                "add",
                table=firewall.TABLE,
                chain=firewall.CHAIN,
                expressions=(
                    writes._expressions(family, ("br-host", None, "ACCEPT")),
                ),
                userdata=HOST_RULE,
            )


def _index(ipr: IPRoute, name: str) -> int:
    return int(ipr.link_lookup(ifname=name)[0])


def make_decoys(ipr: IPRoute) -> None:
    """Make every decoy (deleting any previous one of the same name)."""
    for name in DECOY_NAMES:
        if name != "lo":
            with contextlib.suppress(NetlinkError, IndexError):
                ipr.link("del", index=_index(ipr, name))
    for name, (kind, peer, _master, _mtu, _mac, _up) in DECOYS.items():
        if kind == "veth":
            ipr.link("add", ifname=name, kind="veth", peer=peer)
        elif kind == "tun":
            ipr.link("add", ifname=name, kind="tuntap", mode="tap")
        else:
            ipr.link("add", ifname=name, kind=kind)
    for name, (_, peer, master, mtu, mac, up) in DECOYS.items():
        index = _index(ipr, name)
        ipr.link("set", index=index, mtu=mtu, address=mac)
        if peer:
            # The peer's MAC too: a new veth's is random.
            ipr.link(
                "set",
                index=_index(ipr, peer),
                mtu=mtu,
                address=mac[:-2] + "ff",
            )
        if master:
            ipr.link("set", index=index, master=_index(ipr, master))
        if up:
            ipr.link("set", index=index, state="up")
    with open("/proc/sys/net/ipv4/conf/br-host/arp_ignore", "w") as f:
        f.write("2")
    make_firewall()


def _without_index(
    state: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in link.items() if k != "index"}
        for name, link in state.items()
    }


def restore_loopback(ipr: IPRoute, was: dict[str, Any]) -> None:
    """Put the loopback back as it was (it cannot be made again)."""
    ipr.link(
        "set",
        index=was["index"],
        mtu=was["mtu"],
        address=was["mac"],
        ifalias=was["alias"] or "",
        state="up" if was["up"] else "down",
    )
    for family, key in SYSCTLS:
        value = was["%s.%s" % (family, key)]
        if value is not None:
            with open("/proc/sys/net/%s/conf/lo/%s" % (family, key), "w") as f:
                f.write(value)


def clean(ipr: IPRoute) -> None:
    """Delete every device and firewall rule that is not a decoy."""
    for _ in range(3):
        extra = [
            link["index"]
            for link in ipr.get_links()
            if link.get("ifname") not in DECOY_NAMES
        ]
        if not extra:
            break
        for index in extra:
            with contextlib.suppress(NetlinkError):
                ipr.link("del", index=index)
    _delete_os_vif_rules()


# -- what a plan may change on a decoy ----------------------------------------

_ROLE_FIELDS = {
    "bridge": {"mtu", "up"},
    "uplink": {"up", "master"},
    "representor": {"mtu", "up", "master"},
    "hypervisor": {"mtu", "up", "master"},
}


def parse(wire: Any) -> list[operation.Operation] | None:
    """The plan's operations as the daemon reads them; None if refused."""
    try:
        _id, groups, _recover = kernel.parse_plan(wire)
    except exception.InvalidArgument:
        return None
    return [op for group in groups for op in group]


def allowances(
    ops: list[operation.Operation], state: dict[str, dict[str, Any]]
) -> dict[str, set[str] | None]:
    """Decoy name -> fields a plan may change on it (None: anything).

    A device os_vif does not own may be changed only in what the role an
    operation names it in allows; a 5.x look-alike of the right kind is
    os_vif's when an operation gives the VIF id it was derived from.
    """
    allowed: dict[str, set[str] | None] = {}
    for op in ops:
        for name, kind in ownership.legacy_names(op.get("vif_id")).items():
            if name in state and state[name]["kind"] == kind:
                allowed[name] = None
                # A veth's peer goes with it.
                peer = DECOYS.get(name, (None, None))[1]
                if peer:
                    allowed[peer] = None
    for op in ops:
        name, role = op.get("name"), op.get("role", "owned")
        fields: set[str] = set()
        if op.NAME == "set_link" and role in _ROLE_FIELDS:
            fields = set(_ROLE_FIELDS[role])
        elif op.NAME == "ensure_bridge" and role == "bridge":
            fields = {"mtu", "up", "ipv6.disable_ipv6"}
        elif op.NAME == "set_sysctl" and role == "bridge":
            fields = {"%s.%s" % (op.get("family"), op.get("key"))}
        if name in DECOY_NAMES and fields:
            current = allowed.setdefault(name, set())
            if current is not None:
                current.update(fields)
    return allowed


# -- strategies --------------------------------------------------------

OWN_VIF = "fz0123456789abcd"
OWN_NAMES = [
    "fz-br0",
    "fz-br1",
    "fz-tap0",
    "fz-tap1",
    "fz-va",
    "fz-vb",
    "fz-vc",
    *sorted(ownership.legacy_names(OWN_VIF)),
]
HOSTILE_NAMES = [
    "",
    ".",
    "..",
    "../etc",
    "a/b",
    "/",
    "nul\0x",
    "sp ace",
    "tab\tx",
    "co:lon",
    "x" * 16,
    "é" * 8,
    "fz%d",
    "br%d",
    "%s%n",
    "\u00a0nbsp",
    "à",
    "\u200bzw",
    "\U0001f600",
    "\udc80esc",
    "x" * 70000,
]
ROLES = [
    "owned",
    "bridge",
    "uplink",
    "representor",
    "hypervisor",
    "root",
    "",
]
PARAMS = sorted(
    {key for cls in kernel.REGISTRY.classes.values() for key in cls.PARAMS}
)

ints = st.one_of(
    st.integers(-5, 70000),
    st.sampled_from([0, 1, 67, 68, 1500, 9000, 65535, 65536, 4095, 4096]),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, -(2**63), 2**64 - 1]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), ints), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> Any:
    """A strategy choosing among ``choices`` by weight.

    ``st.one_of`` does not pick its branches evenly (it leans to the
    simpler ones), so repeating a branch does not weigh it.
    """
    total = sum(weight for weight, _ in choices)

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        # Hypothesis favours both bounds: both go to the first choice.
        roll = draw(st.integers(0, total - 1)) % (total - 1 or 1)
        for weight, strategy in choices:
            if roll < weight:
                return draw(strategy)
            roll -= weight
        raise AssertionError("unreachable")

    return pick()


names = st.one_of(
    st.sampled_from(DECOY_NAMES),
    st.sampled_from(OWN_NAMES),
    st.sampled_from(HOSTILE_NAMES),
    st.text(min_size=1, max_size=16),
)
macs = st.one_of(
    st.sampled_from(
        ["02:00:00:00:aa:01", "02:00:00:00:01:01", "03:00:00:00:00:01"]
    ),
    st.text(max_size=20),
)
vif_ids = st.one_of(
    st.sampled_from(
        [OWN_VIF, LEGACY_ID, "notatun", "veth0", "x", "-x", "a" * 65]
    ),
    st.text(max_size=10),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": names,
    "peer": names,
    "master": names,
    "link": names,
    "mtu": ints,
    "mac": macs,
    "vif_id": vif_ids,
    "role": st.sampled_from(ROLES),
    "kind": st.sampled_from(["bridge", "tun", "veth", "vlan", "dummy"]),
    "family": st.sampled_from(["ipv4", "ipv6", "ipv5", "../../.."]),
    "key": st.sampled_from(
        [
            "disable_ipv6",
            "arp_ignore",
            "arp_announce",
            "arp_filter",
            "forwarding",
        ]
    ),
    "value": ints,
    "uplinks": st.lists(names, max_size=3),
    "peers": st.lists(names, max_size=3),
    "drop_action": st.sampled_from(["DROP", "REJECT", "ACCEPT"]),
    "link_state": st.sampled_from(["auto", "enable", "disable", "off"]),
    "vf": ints,
    "vlan": ints,
    "ageing": ints,
}


def _value(key: str) -> st.SearchStrategy[Any]:
    good = VALUES.get(key, st.booleans())
    return weighted((3, good), (1, junk))


# Values the validators accept, aimed at the host's devices and at
# os_vif's own: what gets past validation to admission and the kernel.
GOOD_NAMES = DECOY_NAMES + OWN_NAMES + ["fz-none", "fz%d", "br%d", "à", "é1"]
good_names = st.sampled_from(GOOD_NAMES)
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "name": good_names,
    "peer": good_names,
    "master": good_names,
    "link": good_names,
    "mtu": st.sampled_from([68, 576, 1280, 1400, 1450, 1500, 9000, 65535]),
    "mac": st.sampled_from(["02:00:00:00:aa:01", "02:00:00:00:01:01"]),
    "vif_id": st.sampled_from([OWN_VIF, LEGACY_ID, "notatun", "veth0", "h"]),
    "role": st.sampled_from(ROLES[:5]),
    "kind": st.sampled_from(["bridge", "tun", "veth", "vlan"]),
    "family": st.sampled_from(["ipv4", "ipv6"]),
    "key": st.sampled_from(
        ["disable_ipv6", "arp_ignore", "arp_announce", "arp_filter"]
    ),
    "value": st.integers(0, 2),
    "uplinks": st.lists(good_names, max_size=3),
    "peers": st.lists(good_names, max_size=3),
    "drop_action": st.sampled_from(["DROP", "REJECT"]),
    "link_state": st.sampled_from(["auto", "enable", "disable"]),
    "vf": st.integers(0, 3),
    "vlan": st.integers(0, 4095),
    "ageing": st.integers(0, 30000),
}


@st.composite
def good_steps(draw: st.DrawFn) -> Any:
    """A step the validators accept (mostly), naming anything on the host."""
    name = draw(st.sampled_from(sorted(kernel.REGISTRY.classes)))
    cls = kernel.REGISTRY.classes[name]
    keys = sorted(cls.PARAMS)
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=5))
    arguments = {
        key: draw(GOOD.get(key, st.booleans()))
        for key in sorted(set(chosen) | (set(cls.REQUIRED) & set(keys)))
    }
    return [name, arguments]


@st.composite
def hostile_steps(draw: st.DrawFn) -> Any:
    """A step with wrong types, unknown names or arguments, bad values."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(junk)
    if shape == 1:
        return [draw(st.one_of(st.text(max_size=30), junk)), draw(junk)]
    if shape == 2:
        return draw(
            st.lists(junk, min_size=1, max_size=4).filter(
                lambda s: len(s) != 2
            )
        )
    name = draw(st.sampled_from(sorted(kernel.REGISTRY.classes)))
    cls = kernel.REGISTRY.classes[name]
    keys = sorted(cls.PARAMS)
    chosen = draw(
        st.lists(st.sampled_from(keys), unique=True, max_size=len(keys))
    )
    arguments: dict[Any, Any] = {"name": draw(names)} if "name" in keys else {}
    for key in chosen:
        arguments[key] = draw(_value(key))
    if shape == 3:
        arguments[
            draw(
                st.sampled_from(["self", "cls", "__class__", "arguments", ""])
            )
        ] = 1
    elif shape == 4:
        arguments[draw(st.sampled_from(PARAMS))] = draw(junk)
    elif shape == 5:
        arguments[draw(ints)] = 1
    return [name, arguments]


def steps() -> st.SearchStrategy[Any]:
    """Any step: good ones three times as often as hostile ones."""
    return weighted((3, good_steps()), (1, hostile_steps()))


def plug(vif: str, bridge_role: str = "owned") -> list[Any]:
    """A realistic hybrid plug's kernel steps for VIF ``vif``."""
    by_prefix = {n[:3]: n for n in ownership.legacy_names(vif)}
    qbr, qvb, qvo, tap = (by_prefix[p] for p in ("qbr", "qvb", "qvo", "tap"))
    return [
        [
            "ensure_bridge",
            {
                "name": qbr,
                "vif_id": vif,
                "role": bridge_role,
                "disable_ipv6": True,
                "mtu": 1450,
            },
        ],
        [
            "ensure_veth",
            {
                "name": qvb,
                "peer": qvo,
                "master": qbr,
                "mtu": 1450,
                "vif_id": vif,
                "promisc": True,
            },
        ],
        [
            "ensure_tap",
            {
                "name": tap,
                "master": qbr,
                "mtu": 1450,
                "vif_id": vif,
                "disable_ipv6": True,
            },
        ],
        [
            "set_sysctl",
            {
                "name": qbr,
                "family": "ipv4",
                "key": "arp_ignore",
                "value": 1,
                "vif_id": vif,
            },
        ],
        ["allow_bridge_forwarding", {"name": qbr}],
    ]


def unplug(vif: str) -> list[Any]:
    """The matching unplug's kernel steps."""
    names = sorted(ownership.legacy_names(vif))
    return [["delete_device", {"name": n, "vif_id": vif}] for n in names] + [
        ["revoke_bridge_forwarding", {"name": names[0], "if_absent": True}]
    ]


@st.composite
def realistic_groups(draw: st.DrawFn, valid: bool) -> list[Any]:
    """Plugs and unplugs reordered, duplicated, cut, mixed with hostility."""
    vif = draw(st.sampled_from([OWN_VIF, LEGACY_ID, "notatun", "veth0"]))
    pool = plug(vif, draw(st.sampled_from(["owned", "bridge"])))
    pool += unplug(vif)
    pool += [
        ["ensure_tap", {"name": "fz-tap0", "master": draw(good_names)}],
        ["set_link", {"name": "fz-tap0", "master": draw(good_names)}],
        ["ensure_bridge", {"name": "fz-br0"}],
        ["delete_device", {"name": "fz-br0"}],
        [
            "set_link",
            {
                "name": draw(good_names),
                "role": draw(st.sampled_from(ROLES[:5])),
                "master": "fz-br0",
                "up": draw(st.booleans()),
            },
        ],
        [
            "remove_bridge_if_unused",
            {"name": draw(good_names), "uplinks": [draw(good_names)]},
        ],
    ]
    group = draw(st.lists(st.sampled_from(pool), max_size=12))
    if draw(st.booleans()):
        extra = good_steps() if valid else hostile_steps()
        group.insert(draw(st.integers(0, len(group))), draw(extra))
    return group


@st.composite
def groups(draw: st.DrawFn) -> Any:
    """The plan's groups: hostile steps, realistic ones, oversized lists."""
    # Hypothesis favours the bounds of a range: 0 and 29 are common plans.
    shape = draw(st.integers(0, 29))
    if shape < 17:
        # Every step valid: the plan reaches admission and the kernel.
        kinds = weighted(
            (1, st.lists(good_steps(), max_size=6)),
            (1, realistic_groups(valid=True)),
        )
        return draw(st.lists(kinds, max_size=5))
    if shape == 17:
        return draw(junk)
    if shape == 18:
        # Many groups that each do nothing (an absent optional device).
        count = draw(st.integers(50, 2000))
        return [[["set_link", {"name": "fz-none", "optional": True}]]] * count
    if shape == 19:
        # A long group whose last step is bad: validated to the end.
        count = draw(st.integers(100, 5000))
        return [
            [["delete_device", {"name": "fz-none"}]] * count + [draw(steps())]
        ]
    if shape == 20:
        return [
            [
                [
                    "ensure_bridge",
                    {
                        "name": "fz-br0",
                        "vif_id": "x" * draw(st.integers(65, 100000)),
                    },
                ]
            ]
        ]
    kinds = weighted(
        (2, st.lists(steps(), max_size=5)),
        (2, realistic_groups(valid=False)),
        (1, junk),
    )
    return draw(st.lists(kinds, max_size=5))


_fresh_id = st.just(None).map(lambda _: uuid.uuid4().hex)
# Mostly a good id: a bad one refuses the plan before its groups are read.
plan_ids = weighted(
    (12, _fresh_id),
    (
        1,
        st.sampled_from(
            [
                "0" * 32,
                "../" * 10 + "x",
                "A" * 32,
                "0" * 31,
                "0" * 33,
                "/etc/passwd",
                "0" * 31 + "\n",
                "",
                "../../run/os-vif/plans/x",
            ]
        ),
    ),
    (1, junk),
)
FORGERIES = [
    None,
    "world_writable",
    "group_writable",
    "other_owner",
    "symlink",
    "fifo",
    "directory",
    "garbage",
    "nested",
]


@st.composite
def plans(draw: st.DrawFn) -> tuple[Any, str | None]:
    """(wire plan, journal forgery) for one call."""
    if draw(st.integers(0, 24)) == 12:
        return draw(junk), None
    plan: dict[Any, Any] = {"id": draw(plan_ids)}
    if draw(st.integers(0, 9)) != 4:
        plan["groups"] = draw(groups())
    for flag in ("batch_deletions", "recover", "hello"):
        if draw(st.integers(0, 5)) == 2:
            plan[flag] = draw(weighted((2, st.just(True)), (1, junk)))
    forgery = None
    if plan.get("recover") is True:
        forgery = draw(st.sampled_from(FORGERIES))
    if draw(st.integers(0, 19)) == 7:
        plan[draw(st.text(max_size=10))] = draw(junk)
    return plan, forgery


# -- journals the test forges -----------------------------------------

# Undo records no journal of os_vif's would hold: the host's devices.
HOSTILE_UNDO = [
    ["delete_device", {"name": "br-host"}],
    ["set_link", {"name": "veth-p0", "nomaster": True, "mtu": 9000}],
    ["delete_device", {"name": "tun-host"}],
]


@contextlib.contextmanager
def forged_journal(identifier: str, forgery: str | None) -> Iterator[None]:
    """Put a journal the daemon must not run (or must survive) there."""
    path = journal_mod.path(identifier)
    target = os.path.join(journal_mod.DIRECTORY, "fz-target-" + identifier)
    lines = "".join(json.dumps(u) + "\n" for u in HOSTILE_UNDO)
    made: list[str] = []
    try:
        if forgery is not None:
            journal_mod.private_directory()
        if forgery in ("world_writable", "group_writable", "other_owner"):
            with open(path, "w") as f:
                f.write(lines)
            made.append(path)
            if forgery == "world_writable":
                os.chmod(path, 0o666)
            elif forgery == "group_writable":
                os.chmod(path, 0o620)
            else:
                os.chmod(path, 0o600)
                os.chown(path, 65534, 65534)
        elif forgery == "symlink":
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(lines)
            made.append(target)
            os.symlink(target, path)
            made.append(path)
        elif forgery == "fifo":
            os.mkfifo(path, 0o600)
            made.append(path)
        elif forgery == "directory":
            os.mkdir(path, 0o700)
            made.append(path)
        elif forgery in ("garbage", "nested"):
            # A private file: trusted, so only junk in it (a journal of
            # os_vif's own making is the daemon's to run).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                if forgery == "garbage":
                    f.write(
                        '{"a": 1}\n[1, 2, 3]\n["nope", {}]\n\0\0\n[\n"x"\n'
                    )
                else:
                    f.write("[" * 200000 + "\n" + "{" * 5000 + "\n")
            made.append(path)
        yield
    finally:
        for item in reversed(made):
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISDIR(os.lstat(item).st_mode):
                    os.rmdir(item)
                else:
                    os.unlink(item)


# -- the property -----------------------------------------------------


def _roundtrip(wire: Any) -> Any:
    """``wire`` as the daemon receives it (msgpack; lists become tuples)."""
    return msgpack.unpackb(
        msgpack.packb(
            wire, use_bin_type=True, unicode_errors="surrogateescape"
        ),
        use_list=False,
        raw=False,
        strict_map_key=False,
        unicode_errors="surrogateescape",
    )


def _check_answer(answer: Any, wire: Any) -> str:
    assert isinstance(answer, (list, tuple)), answer
    if isinstance(wire, dict) and wire.get("hello") is True:
        assert [set(entry) for entry in answer] == [{"pid"}], answer
        return "hello"
    for entry in answer:
        assert isinstance(entry, dict), entry
        if "error" in entry:
            name, _message, kwargs = entry["error"]
            cls = getattr(exception, name, None)
            assert isinstance(cls, type) and issubclass(
                cls, exception.ExceptionBase
            ), entry
            assert isinstance(kwargs, dict)
        else:
            assert all(isinstance(c, bool) for c in entry["changed"]), entry
            for step in entry["undo"]:
                kernel.REGISTRY.from_wire(step)
    errors = sorted({e["error"][0] for e in answer if "error" in e})
    if errors:
        return "ran, group error: " + ", ".join(errors)
    return "ran"


class Fuzzer:
    """One namespace, its decoys and daemons, and the per-example check."""

    def __init__(self, ipr: IPRoute) -> None:
        self.ipr = ipr
        self.outcomes: Counter[str] = Counter()
        self.pids: dict[str, int] = {}
        make_decoys(ipr)
        self.baseline = self._decoys()
        self.rules = firewall_rules()
        #: The decoys as first made, indexes aside (remade, they change).
        self.original = _without_index(self.baseline)
        self.loopback = self.baseline["lo"]

    def _decoys(self) -> dict[str, dict[str, Any]]:
        state = links_state(self.ipr)
        return {name: state.get(name, {}) for name in DECOY_NAMES}

    def pid(self, family: runner.HostRunner) -> int:
        """The daemon's pid, from a trivial call (the daemon must answer)."""
        answer = daemon.call(
            family.context,
            family._entrypoint,
            {"id": uuid.uuid4().hex, "hello": True},
            timeout=TIMEOUT,
            what="hello",
        )
        return int(answer[0]["pid"])

    def reset(self) -> None:
        """Back to the baseline: no device of os_vif's, decoys as made."""
        clean(self.ipr)
        if self._decoys() != self.baseline or firewall_rules() != self.rules:
            # A change an ownership rule allowed: made again, never taken
            # as the new normal (a change the properties missed would be).
            make_decoys(self.ipr)
            restore_loopback(self.ipr, self.loopback)
            self.baseline = self._decoys()
            self.rules = firewall_rules()
            assert _without_index(self.baseline) == self.original

    def run(
        self, family: runner.HostRunner, wire: Any, forgery: str | None
    ) -> None:
        """Send ``wire`` and check every property (see the module)."""
        self.reset()
        if family.name not in self.pids:
            self.pids[family.name] = self.pid(family)
        if forgery is not None:
            wire = dict(wire, id=uuid.uuid4().hex)
        received = _roundtrip(wire)
        ops = parse(received)
        before = links_state(self.ipr)
        with forged_journal(wire["id"] if forgery else "", forgery):
            try:
                answer = daemon.call(
                    family.context,
                    family._entrypoint,
                    wire,
                    timeout=TIMEOUT,
                    what="fuzz",
                )
            except daemon.DaemonLost as err:
                # Whatever the outcome, the next example has a new daemon.
                self.pids.pop(family.name, None)
                raise AssertionError("the daemon was lost: %s" % err) from None
            except exception.ExceptionBase as err:
                outcome = "refused: %s" % type(err).__name__
                if isinstance(err, exception.InvalidArgument):
                    # Which check refused: the field, without positions.
                    outcome += " " + re.sub(
                        r"\[\d+\]", "", str(err.kwargs.get("field"))
                    )
                # What daemon.call makes of an OSError the daemon's code let
                # out: not an os_vif exception of the daemon's.
                assert err.kwargs.get("operation") != "privileged call", err
                assert ops is None or not isinstance(
                    err, exception.InvalidArgument
                ), err
            else:
                assert ops is not None, (
                    "the daemon ran a plan the caller refuses"
                )
                outcome = _check_answer(answer, received)
                if isinstance(wire, dict) and wire.get("recover") is True:
                    outcome = "recovered (journal: %s)" % (
                        forgery or "none, or the plan's own"
                    )
        self.outcomes[outcome] += 1
        after = links_state(self.ipr)
        if ops is None:
            assert after == before, "a refused plan changed the host"
        for name, link in after.items():
            if name not in DECOY_NAMES:
                assert link["alias"] == MARK, (name, link)
        allowed = allowances(ops or [], before)
        for name in DECOY_NAMES:
            rule = allowed.get(name, set())
            if rule is None:
                continue
            old, new = before[name], after.get(name)
            assert new is not None, "decoy %s deleted" % name
            changed = {k for k in old if old[k] != new.get(k)}
            assert changed <= rule, (
                name,
                {k: (old[k], new.get(k)) for k in changed},
            )
        assert firewall_rules() == self.rules, (
            "the host's firewall rules changed"
        )
        pid = self.pid(family)
        if pid != self.pids[family.name]:
            self.pids[family.name] = pid
            raise AssertionError("the daemon was replaced")


# Plans that broke a property once (see the commits that fixed them).
SET_LO_MAC = [
    [["set_link", {"name": "lo", "mac": "02:00:00:00:aa:01", "vif_id": "x"}]]
]
TEMPLATE_NAMES = [
    [["ensure_bridge", {"name": "fz%d"}]],
    [["ensure_tap", {"name": "tp%d"}]],
    [["ensure_veth", {"name": "v%d", "peer": "w%d"}]],
]
NBSP_NAME = [[["ensure_bridge", {"name": "\u00e0"}]]]
SELF_ARGUMENT = [[["set_link", {"name": "fz-br0", "self": 1}]]]


def _found(groups: list[Any]) -> tuple[dict[str, Any], None]:
    return {"id": uuid.uuid4().hex, "groups": groups}, None


def test_the_daemon_serves_kernel_operations_only() -> None:
    """Why no OVS decoy is needed: no plan can reach OVSDB."""
    assert kernel.REGISTRY.domain == operation.KERNEL
    assert {cls.DOMAIN for cls in kernel.REGISTRY.classes.values()} == {
        operation.KERNEL
    }
    with pytest.raises(exception.InvalidArgument):
        kernel.REGISTRY.from_wire(
            ["add_port", {"bridge": "br-int", "port": "x"}]
        )


def test_fuzz_the_privileged_entry_point() -> None:
    """Hostile plans: os_vif errors only, decoys untouched, daemon alive."""
    reason = netns_mod.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    started = time.monotonic()
    with netns_mod.fresh_netns("osvif-fz") as _ns, IPRoute() as ipr:
        fuzzer = Fuzzer(ipr)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            family=st.sampled_from(FAMILIES),
            plan=plans(),
        )
        # What the fuzzer found once, every run.
        @example(family=runner.OVS, plan=_found(SET_LO_MAC))
        @example(family=runner.LINUX_BRIDGE, plan=_found(TEMPLATE_NAMES))
        @example(family=runner.OVS, plan=_found(NBSP_NAME))
        @example(family=runner.OVS, plan=_found(SELF_ARGUMENT))
        @example(family=runner.OVS, plan=({"recover": True}, "fifo"))
        @example(family=runner.OVS, plan=({"recover": True}, "directory"))
        @example(family=runner.OVS, plan=({"recover": True}, "nested"))
        def one(
            family: runner.HostRunner, plan: tuple[Any, str | None]
        ) -> None:
            fuzzer.run(family, *plan)

        try:
            one()
        finally:
            elapsed = time.monotonic() - started
            total = sum(fuzzer.outcomes.values())
            if REPORT:
                with open(REPORT, "w") as f:
                    json.dump(
                        {
                            "examples": total,
                            "seconds": round(elapsed, 1),
                            "outcomes": dict(fuzzer.outcomes.most_common()),
                        },
                        f,
                        indent=2,
                    )
    assert total >= min(EXAMPLES, 100)
