"""The differential suite's own parts, on hand-made dumps (no host).

If the normaliser hid a difference, or the table covered one it should
not, every scenario would pass whatever the hosts look like.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.functional.differential import intended, normalise

_KNOWN = {"fa:16:3e:00:00:01"}


def _dump() -> dict[str, Any]:
    return {
        "links": {
            "tapX": {"kind": "tun", "mtu": 1450,
                     "address": "FA:16:3E:00:00:01", "alias": None,
                     "ipv6": {"disable_ipv6": 1}},
            "qbrX": {"kind": "bridge", "address": "3a:11:22:33:44:55",
                     "bridge": {"ageing_time": 0}},
            "ovs-netdev": {"kind": "tun", "address": "12:34:56:78:9a:bc"},
        },
        "ovsdb": {
            "Bridge": {"u-br": {"name": "br-int", "datapath_type": "netdev",
                                "ports": ["set", [["uuid", "u-p1"],
                                                  ["uuid", "u-p0"]]]}},
            "Port": {
                "u-p0": {"name": "br-int", "qos": ["set", []],
                         "interfaces": ["uuid", "u-i0"]},
                "u-p1": {"name": "tapX", "qos": ["uuid", "u-q"],
                         "tag": ["set", []],
                         "interfaces": ["uuid", "u-i1"]},
            },
            "Interface": {
                "u-i0": {"name": "br-int", "type": "internal",
                         "external_ids": ["map", []]},
                "u-i1": {"name": "tapX", "type": "",
                         "external_ids": ["map", [["attached-mac",
                                                   "fa:16:3e:00:00:01"]]]},
            },
            "QoS": {"u-q": {"type": "linux-noop", "external_ids": [
                "map", [["id", "q1"]]]},
                    "u-q2": {"type": "linux-noop", "external_ids": [
                        "map", [["id", "q2"]]]}},
            "Queue": {},
        },
    }


def test_normalise_names_rows_and_tokenises_generated_macs() -> None:
    state = normalise.normalise(_dump(), _KNOWN)
    assert "link ovs-netdev" not in state
    assert state["link tapX"]["address"] == "fa:16:3e:00:00:01"
    assert state["link qbrX"]["address"] == normalise.GENERATED_MAC
    assert state["link qbrX"]["bridge.ageing_time"] == 0
    assert state["Bridge br-int"]["ports"] == ["br-int", "tapX"]
    assert state["Port tapX"]["qos"] == "QoS[port tapX]"
    assert state["Port tapX"]["interfaces"] == "tapX"
    assert state["Interface tapX"]["external_ids:attached-mac"] == (
        "fa:16:3e:00:00:01"
    )
    assert state["QoS[port tapX]"]["external_ids:id"] == "q1"
    assert "QoS[unreferenced type=linux-noop id=q2]" in state
    assert not any("u-" in key for key in state)


def test_compare_reports_each_difference_once() -> None:
    reference = normalise.normalise(_dump(), _KNOWN)
    other = copy.deepcopy(_dump())
    other["links"]["tapX"]["ipv6"]["disable_ipv6"] = 0
    other["links"]["qbrX"]["address"] = "3a:99:99:99:99:99"  # generated too
    del other["ovsdb"]["QoS"]["u-q2"]
    other["ovsdb"]["Port"]["u-p1"]["tag"] = 4095
    subject = normalise.normalise(other, _KNOWN)
    assert normalise.compare(reference, subject) == [
        "Port tapX.tag: 5.3.0=[] ours=4095",
        "QoS[unreferenced type=linux-noop id=q2] missing in ours",
        "link tapX.ipv6.disable_ipv6: 5.3.0=1 ours=0",
    ]
    assert normalise.compare(reference, reference) == []


def test_leftovers_allow_only_the_declared_bridges() -> None:
    before: normalise.Normalised = {"link lo": {}}
    after: normalise.Normalised = {
        "link lo": {}, "Bridge br-new": {}, "Port br-new": {},
        "Interface br-new": {}, "link br-new": {}, "Port tapX": {},
    }
    assert normalise.leftovers(before, after, ("br-new",)) == ["Port tapX"]


def test_table_patterns_match_literally_but_for_stars() -> None:
    entry = intended.Entry(
        difference="step *: link *.alias: 5.3.0=None ours=os-vif",
        scenarios="hybrid*", what="", why="", line=2,
    )
    line = "step 1 (plug h by ours): link qbrX.alias: 5.3.0=None ours=os-vif"
    assert entry.covers("hybrid-replug", line)
    assert not entry.covers("ovs-tap", line)
    assert not entry.covers("hybrid", line.replace("os-vif", "other"))
    assert not entry.covers("hybrid", line.replace(".alias", ".aliaz"))


def test_table_loads_with_its_reasons() -> None:
    entries = intended.load()
    assert entries
    for entry in entries:
        assert entry.what and entry.why, entry.line
        assert "``" not in entry.difference, entry.line


def test_a_bridge_mac_nobody_set_is_its_ports_not_compared() -> None:
    # The kernel gives such a bridge its lowest port's MAC: a libvirt tap
    # (known) or a veth's random one, whichever is lower.
    taken = _dump()
    taken["links"]["qbrX"].update(
        address="fe:16:3e:00:00:01", addr_assign_type=1
    )
    random = _dump()
    random["links"]["qbrX"].update(addr_assign_type=1)
    assert normalise.compare(
        normalise.normalise(taken, {"fe:16:3e:00:00:01"}),
        normalise.normalise(random, {"fe:16:3e:00:00:01"}),
    ) == []
    # A MAC someone set (3) is compared.
    chosen = copy.deepcopy(taken)
    chosen["links"]["qbrX"]["addr_assign_type"] = 3
    differences = normalise.compare(
        normalise.normalise(chosen, {"fe:16:3e:00:00:01"}),
        normalise.normalise(random, {"fe:16:3e:00:00:01"}),
    )
    assert any("qbrX.address" in item for item in differences)
    assert any("qbrX.addr_assign_type" in item for item in differences)
