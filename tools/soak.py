#!/usr/bin/env python3
"""A soak of os_vif: VIFs churned for a set time while faults strike.

Run as root: ``python tools/soak.py [--short | --duration S --vifs N
--fault-interval K] [--seed X] [--json FILE]``.

**The world.**  The soak makes a network namespace of its own, starts a
private Open vSwitch in it (:class:`os_vif.sandbox.ovs.OvsServer`,
userspace datapath), moves into it (so the privsep daemons start there),
points the ``ovs`` and ``linux_bridge`` plugins at that switch (with a
short ``privsep_timeout``, ``--privsep-timeout``) and adds *decoys*: what
the host owns and os_vif must never touch -- a veth pair, a Linux bridge
with a veth end and a tap on it, a lone tap, a bridge named like a
``qvb``, the integration bridge ``br-int`` (made by the host, as neutron
makes it) with an internal port whose ``iface-id`` is someone else's, a
port for the host's veth carrying all three VIF ids (as an SR-IOV
representor's port does), and ``br-ex`` patched to ``br-int``.  Their
kernel links and OVSDB rows are recorded in full and compared at every
checkpoint.

**The churn.**  ``--vifs`` VIFs, a third each ``VIFOpenVSwitch`` with a
tap, hybrid ``VIFBridge`` (ovs plugin) and ``VIFBridge`` of the
linux_bridge plugin on four shared bridges, go through
``os_vif.plug_many``, ``unplug_many``, single ``plug`` / ``unplug`` (of
plugged and unplugged VIFs alike), ``check_many`` and ``gc`` (dry run) in
a seeded random order.  The soak keeps a model: which VIFs should be
plugged (the last call on a VIF says, whether it failed or not: a client
wants what it asked for), and which ones a fault *hit* (their call failed,
their check was not ok, or the schedule damaged them).

**The faults**, one every ``--fault-interval`` seconds, the kinds in a
seeded shuffled round (every kind once per round):

* ``daemon_kill`` -- SIGKILL the privsep daemon(s) of the soak's process
  (``os_vif.internal.unprivileged.daemon.daemon_pid``), while a plug or
  unplug is in flight when one is;
* ``ovsdb_restart`` / ``vswitchd_restart`` -- restart ovsdb-server /
  ovs-vswitchd, also mid-call;
* ``client_kill`` -- another os_vif client (this program run with
  ``--client``: a separate process, its own daemons) plugs a batch of
  VIFs of its own and is SIGKILLed at a random moment of its
  ``plug_many``;
* ``device_delete`` / ``port_delete`` -- a device (tap, qbr, qvb, qvo) or
  the OVS port of a plugged VIF deleted by hand.

**Leaks.**  A leak is a host object -- a kernel link of the namespace or
an OVS port -- that os_vif made and that no VIF needs: no VIF the model
holds plugged names it, and no client will unplug it.  The schedule makes
them in exactly one way: a killed client's VIFs are abandoned (nobody
knows of them), so everything of theirs on the host -- the VIFs its batch
plugged before the kill, and whatever the VIF in flight left -- is a leak,
and so is a Linux bridge os_vif made for them that no plugged VIF names.
Damage (``device_delete``, ``port_delete``) is no leak: its VIF stays
plugged and its re-plug repairs it.  ``gc`` must find exactly these.

**Checkpoints** (after ``--warmup`` seconds, then every
``--checkpoint-interval`` and at the end; faults paused): a VIF that
should be unplugged and was hit is unplugged once more; then nothing of
any unplugged VIF may be on the host; every VIF that should be plugged is
checked, those a fault hit and not ok are re-plugged once, and then all
must check ok; every other object in the namespace must be a decoy, the
switch's own, a plugged VIF's or a leak; ``gc`` (dry run) must list
exactly the leaks, then ``gc`` removes them (each removal ok), after which
the kept VIFs still check ok and a dry run finds nothing; the decoys are
as they were; the process's RSS and open descriptors (``/proc/self``) are
within 10 % of what they were after warm-up.  After the last checkpoint
every VIF is unplugged and only the decoys may remain.

**The report** (a table, and ``--json FILE``): per fault kind, how many
there were, how many struck mid-call, the calls and VIFs that failed and
how (exception class and the class of its ``err``: all must be os_vif's),
the recovery time (from the fault to the end of the first successful plug
or unplug that started after the fault was over); calls per kind, leaks
made / found / collected, RSS and descriptors at start, after warm-up and
at the end.  A failed call is blamed on the earliest fault that struck
during it, else on the last fault not yet recovered from when it started;
one with no fault to blame is a soak failure.  The exit status is 0 when
nothing was lost or leaked and no check failed, 1 otherwise, 2 when the
world could not be set up.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import logging
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

KINDS = ("ovs", "hybrid", "lb")
FAULT_KINDS = (
    "daemon_kill",
    "ovsdb_restart",
    "vswitchd_restart",
    "client_kill",
    "device_delete",
    "port_delete",
)
#: The linux_bridge VIFs' shared bridges (os_vif makes and removes them).
LB_BRIDGES = ("br-lb0", "br-lb1", "br-lb2", "br-lb3")
#: Links that are the switch's or the namespace's own (never compared:
#: ovs-vswitchd makes its internal ports' devices again on restart).
INFRA_LINKS = frozenset({"lo", "ovs-netdev", "br-int", "br-ex", "int-host0"})
#: Host-owned kernel links, compared in full at every checkpoint.
DECOY_LINKS = (
    "hostveth0",
    "hostveth1",
    "br-host",
    "taphost0",
    "taphost1",
    "qvbhost0",
)
#: Host-owned OVS ports (the bridges' own ports included).
DECOY_PORTS = ("br-int", "br-ex", "int-host0", "hostveth0", "patch-int",
               "patch-ex")
DECOY_BRIDGES = ("br-int", "br-ex")
#: The ids the host's veth port carries: a VIF's three, of no VIF here.
DECOY_IFACE_ID = "0dec0100-0000-4000-8000-00000000d0c0"
DECOY_VM_UUID = "0dec0200-0000-4000-8000-00000000d0c0"

# VIF ids and MACs: one family per (pool, kind), so that no two VIFs of
# the soak share a device name or a MAC.
_FAMILY = {
    ("main", "ovs"): 0xA0000000,
    ("main", "hybrid"): 0xA1000000,
    ("main", "lb"): 0xA2000000,
    ("client", "ovs"): 0xB0000000,
    ("client", "hybrid"): 0xB1000000,
    ("client", "lb"): 0xB2000000,
}
_MAC_BYTE = {
    ("main", "ovs"): 0x40,
    ("main", "hybrid"): 0x41,
    ("main", "lb"): 0x42,
    ("client", "ovs"): 0x50,
    ("client", "hybrid"): 0x51,
    ("client", "lb"): 0x52,
}

GROWTH_LIMIT = 0.10
#: The index of a killed client's warm-up VIFs (its batches count up from
#: 0 and never reach it).
CLIENT_WARM_UP = 60000


# -- VIFs --


def make_vif(pool: str, kind: str, n: int) -> Any:
    """VIF ``n`` of ``kind`` (``ovs``, ``hybrid``, ``lb``) of ``pool``."""
    from os_vif.sandbox import vifs

    vid = vifs.vif_id(n, family=_FAMILY[(pool, kind)])
    vif: Any
    if kind == "ovs":
        vif = vifs.ovs_vif(n, vid=vid)
    elif kind == "hybrid":
        vif = vifs.hybrid_vif(n, vid=vid)
    else:
        vif = vifs.bridge_vif(n, bridge=LB_BRIDGES[n % len(LB_BRIDGES)],
                              vid=vid)
    vif.address = "fa:16:3e:%02x:%02x:%02x" % (
        _MAC_BYTE[(pool, kind)], n >> 8 & 0xFF, n & 0xFF
    )
    return vif


@dataclasses.dataclass(eq=False)
class Entry:
    """One VIF of the soak and what the model says of it."""

    key: str
    kind: str
    vif: Any
    #: Its own kernel devices (a linux_bridge VIF's bridge is shared).
    devices: tuple[str, ...]
    #: Its OVS port, if it has one.
    port: str | None
    #: The shared Linux bridge of a linux_bridge VIF.
    bridge: str | None
    #: Should it be plugged (the last call on it asked so)?
    plugged: bool = False
    #: Did a fault hit it since the last checkpoint?
    dirty: bool = False

    def objects(self) -> list[str]:
        """Its objects as gc names them: ``device X``, ``port X``."""
        found = ["device " + name for name in self.devices]
        if self.port is not None:
            found.append("port " + self.port)
        return found


def make_entry(pool: str, kind: str, n: int) -> Entry:
    """The entry of VIF ``n`` of ``kind`` of ``pool``; names derived here.

    The names are derived independently of os_vif, as os-vif 5.x derives
    them (a prefix and the first 11 characters of the VIF id).
    """
    vif = make_vif(pool, kind, n)
    short = str(vif.id)[:11]
    if kind == "ovs":
        return Entry("%s-ovs-%d" % (pool, n), kind, vif, ("tap" + short,),
                     "tap" + short, None)
    if kind == "hybrid":
        return Entry(
            "%s-hybrid-%d" % (pool, n),
            kind,
            vif,
            ("qbr" + short, "qvb" + short, "qvo" + short),
            "qvo" + short,
            None,
        )
    return Entry("%s-lb-%d" % (pool, n), kind, vif, ("tap" + short,), None,
                 str(vif.bridge_name))


def instance() -> Any:
    """The instance every VIF of the soak belongs to."""
    from os_vif.sandbox import vifs

    return vifs.INSTANCE


# -- the host, read without os_vif --


def read_links() -> dict[str, dict[str, Any]]:
    """Every link of the namespace: kind, MTU, up, MAC, master, alias.

    Read by ``ip`` in a process of its own: the soak's own process is the
    os_vif client whose memory and descriptors are measured, so it reads
    the host through no library os_vif does not use itself.
    """
    out = subprocess.run(
        ["ip", "-d", "-j", "link", "show"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {
        str(link["ifname"]): {
            "kind": link.get("linkinfo", {}).get("info_kind"),
            "mtu": link.get("mtu"),
            "up": "UP" in link.get("flags", ()),
            "address": link.get("address"),
            "master": link.get("master"),
            "alias": link.get("ifalias"),
        }
        for link in json.loads(out)
    }


def _ovs_value(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2:
        tag, body = value
        if tag == "map":
            return {str(k): _ovs_value(v) for k, v in body}
        if tag == "set":
            return [_ovs_value(v) for v in body]
        if tag in ("uuid", "named-uuid"):
            return body
    return value


def _ovs_table(text: str) -> list[dict[str, Any]]:
    table = json.loads(text)
    return [
        dict(zip(table["headings"], map(_ovs_value, row), strict=True))
        for row in table["data"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def read_ovs(server: Any) -> dict[str, dict[str, Any]]:
    """Bridges and ports of the switch, read with ovs-vsctl.

    ``{"bridges": {name: row}, "ports": {name: row}}``; a port's row has
    its ``bridge`` and its interface's columns under ``interface``.
    """
    out = server.vsctl(
        "--format=json",
        "--",
        "--columns=_uuid,name,ports,datapath_type,external_ids,"
        "other_config,fail_mode",
        "list",
        "Bridge",
        "--",
        "--columns=_uuid,name,tag,external_ids,other_config,interfaces",
        "list",
        "Port",
        "--",
        "--columns=_uuid,name,type,external_ids,options,mtu_request",
        "list",
        "Interface",
    ).strip().splitlines()
    bridges, ports, interfaces = (_ovs_table(line) for line in out)
    iface_by_uuid = {row.pop("_uuid"): row for row in interfaces}
    bridge_of: dict[str, str] = {}
    named_bridges: dict[str, dict[str, Any]] = {}
    for row in bridges:
        row.pop("_uuid")
        for port in _as_list(row.pop("ports")):
            bridge_of[port] = row["name"]
        named_bridges[row["name"]] = row
    named_ports: dict[str, dict[str, Any]] = {}
    port_names: dict[str, str] = {}
    for row in ports:
        port_uuid = row.pop("_uuid")
        port_names[port_uuid] = row["name"]
        row["bridge"] = bridge_of.get(port_uuid)
        row["interface"] = [
            iface_by_uuid.get(i) for i in _as_list(row.pop("interfaces"))
        ]
        named_ports[row["name"]] = row
    for row in named_bridges.values():
        row["ports"] = sorted(
            name for name, port in named_ports.items()
            if port["bridge"] == row["name"]
        )
    return {"bridges": named_bridges, "ports": named_ports}


@dataclasses.dataclass
class HostView:
    """The namespace's links and the switch's rows at one moment."""

    links: dict[str, dict[str, Any]]
    bridges: dict[str, dict[str, Any]]
    ports: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, server: Any) -> HostView:
        """Read the host now."""
        ovs = read_ovs(server)
        return cls(read_links(), ovs["bridges"], ovs["ports"])

    def has(self, obj: str) -> bool:
        """Say whether ``device X`` / ``port X`` is on the host."""
        kind, name = obj.split(" ", 1)
        return name in (self.links if kind == "device" else self.ports)

    def objects(self) -> set[str]:
        """Every link and port, as gc names them."""
        return {"device " + name for name in self.links} | {
            "port " + name for name in self.ports
        }

    def decoys(self) -> dict[str, Any]:
        """What the host owns, in full (compared between checkpoints)."""
        bridges = {}
        for name in DECOY_BRIDGES:
            row = dict(self.bridges.get(name) or {})
            if name == "br-int":
                # VIF ports come and go on br-int; the host's stay.
                row["ports"] = sorted(
                    p for p in row.get("ports", ()) if p in DECOY_PORTS
                )
            bridges[name] = row
        return {
            "links": {name: self.links.get(name) for name in DECOY_LINKS},
            "bridges": bridges,
            "ports": {name: self.ports.get(name) for name in DECOY_PORTS},
        }


def make_decoys(server: Any) -> None:
    """Make the host's own devices and ports (see the module)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        ipr.link("add", ifname="hostveth0", kind="veth", peer="hostveth1")
        ipr.link("add", ifname="br-host", kind="bridge")
        ipr.link("add", ifname="taphost0", kind="tuntap", mode="tap")
        ipr.link("add", ifname="taphost1", kind="tuntap", mode="tap")
        ipr.link("add", ifname="qvbhost0", kind="bridge")
        index = {
            name: ipr.link_lookup(ifname=name)[0] for name in DECOY_LINKS
        }
        bridge = index["br-host"]
        ipr.link("set", index=index["hostveth1"], master=bridge)
        ipr.link("set", index=index["taphost1"], master=bridge)
        for name in DECOY_LINKS:
            ipr.link("set", index=index[name], mtu=1400, state="up")
        mac = ipr.get_links(index["hostveth0"])[0].get("address")
    server.vsctl(
        "add-br", "br-int",
        "--", "set", "Bridge", "br-int", "datapath_type=netdev",
        "external_ids:owner=host", "other_config:soak=decoy",
        "--", "add-port", "br-int", "int-host0",
        "--", "set", "Interface", "int-host0", "type=internal",
        "external_ids:iface-id=someone-else",
        "--", "add-port", "br-int", "hostveth0",
        "--", "set", "Interface", "hostveth0",
        "external_ids:iface-id=" + DECOY_IFACE_ID,
        "external_ids:attached-mac=" + str(mac),
        "external_ids:vm-uuid=" + DECOY_VM_UUID,
        "--", "add-br", "br-ex",
        "--", "set", "Bridge", "br-ex", "datapath_type=netdev",
        "--", "add-port", "br-int", "patch-int",
        "--", "set", "Interface", "patch-int", "type=patch",
        "options:peer=patch-ex",
        "--", "add-port", "br-ex", "patch-ex",
        "--", "set", "Interface", "patch-ex", "type=patch",
        "options:peer=patch-int",
    )


# -- the process --


def resources() -> dict[str, int]:
    """This process's resident memory (kB) and open file descriptors."""
    rss = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    # listdir's own descriptor is open while it reads.
    return {"rss_kb": rss, "fds": len(os.listdir("/proc/self/fd")) - 1}


def configure(connection: str, privsep_timeout: int) -> None:
    """Load os_vif and point its plugins at the soak's switch."""
    from oslo_config import cfg

    import os_vif

    os_vif.initialize()
    for group in ("os_vif_ovs", "os_vif_linux_bridge"):
        cfg.CONF.set_override("privsep_timeout", privsep_timeout, group)
    cfg.CONF.set_override("ovsdb_connection", connection, "os_vif_ovs")
    cfg.CONF.set_override("ovs_vsctl_timeout", 20, "os_vif_ovs")
    cfg.CONF.set_override("create_tap", True, "os_vif_linux_bridge")


def _process_alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def privsep_daemons(netns_inode: int) -> set[int]:
    """Pids of the privsep daemons (os_vif's helper) in the namespace."""
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as cmdline:
                argv = cmdline.read()
            if b"os_vif.internal.privileged.helper" not in argv and (
                b"privsep-helper" not in argv
            ):
                continue
            if os.stat("/proc/%s/ns/net" % entry).st_ino != netns_inode:
                continue
        except OSError:
            continue
        if _process_alive(int(entry)):
            found.add(int(entry))
    return found


def own_daemons() -> set[int]:
    """The pids of this process's privsep daemons that it knows of."""
    from os_vif.internal.privileged import context
    from os_vif.internal.unprivileged import daemon

    pids = {daemon.daemon_pid(ctx) for ctx in context.CONTEXTS}
    return {pid for pid in pids if pid is not None}


def journals() -> set[str]:
    """The plan journals in the daemons' directory now."""
    from os_vif.internal.privileged import journal

    try:
        return set(os.listdir(journal.DIRECTORY))
    except OSError:
        return set()


# -- errors --


#: Bugs the soak found, by name: what they look like in a check, for
#: ``--tolerate`` while one is not fixed.  Each is counted in the report
#: (``known_issues``) and is a failure unless tolerated; a fixed one stays
#: here so that its return is named.
KNOWN_ISSUES = {
    "tap-down-after-replug": (
        "ovs-vswitchd leaves a VIF's tap admin-down when the VIF is "
        "plugged again soon after an unplug that deleted the tap before "
        "ovs-vswitchd had let go of its port: check says the tap's 'up' "
        "is False (fixed: an unplug waits for ovs-vswitchd to apply the "
        "port's removal before the device goes)"
    ),
}


def known_issue(entry: Entry, report: Any) -> str | None:
    """The name of the known issue a not-ok check report shows, or None."""
    if (
        entry.kind == "ovs"
        and isinstance(report, BaseException) is False
        and getattr(report, "error", None) is None
        and report.problems
        and all(
            problem.object == "device " + entry.devices[0]
            and problem.what == "up"
            and problem.found is False
            for problem in report.problems
        )
    ):
        return "tap-down-after-replug"
    return None



def error_label(err: BaseException) -> str:
    """``Outer(Inner)``: the class and the class of its ``err``, if any."""
    inner = getattr(err, "kwargs", {}).get("err")
    if isinstance(inner, BaseException):
        return "%s(%s)" % (type(err).__name__, type(inner).__name__)
    return type(err).__name__


def is_foreign(err: BaseException) -> bool:
    """True when ``err`` (or the ``err`` it carries) is not os_vif's."""
    from os_vif import exception

    if not isinstance(err, exception.ExceptionBase):
        return True
    inner = getattr(err, "kwargs", {}).get("err")
    return isinstance(inner, BaseException) and not isinstance(
        inner, exception.ExceptionBase
    )


# -- the record --


@dataclasses.dataclass(eq=False)
class Fault:
    """One fault the schedule made."""

    seq: int
    kind: str
    started: float
    ended: float | None = None
    mid_call: bool = False
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Seconds from the fault to the end of the first successful plug or
    #: unplug that started after it was over.
    recovery: float | None = None
    recovered_at: float | None = None
    calls_failed: int = 0
    vifs_failed: int = 0
    exceptions: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    done: threading.Event = dataclasses.field(
        default_factory=threading.Event
    )

    def as_dict(self, t0: float) -> dict[str, Any]:
        """The fault for the JSON report (times from the soak's start)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at_s": round(self.started - t0, 3),
            "took_s": None
            if self.ended is None
            else round(self.ended - self.started, 3),
            "mid_call": self.mid_call,
            "recovery_s": None
            if self.recovery is None
            else round(self.recovery, 3),
            "calls_failed": self.calls_failed,
            "vifs_failed": self.vifs_failed,
            "exceptions": dict(self.exceptions),
            "detail": self.detail,
        }


@dataclasses.dataclass
class OpStats:
    """Calls of one kind."""

    calls: int = 0
    failed: int = 0
    vifs: int = 0
    vifs_failed: int = 0
    seconds: float = 0.0


class SoakFailure(Exception):
    """The world could not be set up or torn down."""


# -- the soak --


class Soak:
    """The churn, the fault schedule, the checkpoints and the record."""

    def __init__(self, args: argparse.Namespace, server: Any,
                 netns_name: str, netns_inode: int) -> None:
        self.args = args
        self.server = server
        self.netns_name = netns_name
        self.netns_inode = netns_inode
        self.rng = random.Random(args.seed)
        self.fault_rng = random.Random(args.seed * 7919 + 1)
        self.entries = [
            make_entry("main", KINDS[i % len(KINDS)], i)
            for i in range(args.vifs)
        ]
        self.abandoned: list[Entry] = []
        #: The leaks each client kill left, as seen right after it.
        self.recorded_leaks: set[str] = set()
        self.client_next = 0
        self.batch_max = max(4, min(25, args.vifs // 8))
        self.lock = threading.RLock()
        self.gate = threading.Lock()
        self.busy = threading.Event()
        #: The keys of the VIFs of the call in flight (not damaged by hand:
        #: the damage would race with the call's own changes).
        self.in_flight: set[str] = set()
        self.stop_faults = threading.Event()
        self.pending: collections.deque[Fault] = collections.deque()
        self.faults: list[Fault] = []
        self.ops: dict[str, OpStats] = collections.defaultdict(OpStats)
        self.failures: list[str] = []
        self.foreign: list[str] = []
        self.unattributed: list[str] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.damaged_checks = 0
        self.known = collections.Counter[str]()
        self.leaks = {"made": 0, "found": 0, "collected": 0}
        self.client_stats = collections.Counter[str]()
        self.resources: dict[str, dict[str, int]] = {}
        self.per_vif_plug = 0.02
        self.client_estimate: float | None = None
        self.t0 = time.monotonic()

    # -- bookkeeping --

    def fail(self, message: str) -> None:
        """Record a soak failure (the soak goes on)."""
        with self.lock:
            self.failures.append(message)
        print("soak: FAIL: %s" % message, file=sys.stderr, flush=True)

    def _blame(self, start: float, end: float) -> Fault | None:
        """The fault a call that failed between ``start`` and ``end`` met."""
        with self.lock:
            during = [f for f in self.faults if start <= f.started <= end]
            if during:
                return during[0]
            before = [
                f
                for f in self.faults
                if f.started < start
                and (f.recovered_at is None or f.recovered_at > start)
            ]
            return before[-1] if before else None

    def _record(
        self,
        op: str,
        start: float,
        end: float,
        size: int,
        errors: Sequence[tuple[Entry, BaseException | str]],
        mutating: bool,
        strict: bool = False,
    ) -> None:
        stats = self.ops[op]
        stats.calls += 1
        stats.vifs += size
        stats.seconds += end - start
        if not errors:
            if mutating and size:
                self._recovered(start, end)
            return
        stats.failed += 1
        stats.vifs_failed += len(errors)
        labels: collections.Counter[str] = collections.Counter()
        for entry, err in errors:
            if isinstance(err, BaseException):
                label = error_label(err)
                if is_foreign(err):
                    text = "%s on %s: %s: %s\n%s" % (
                        op, entry.key, label, err,
                        "".join(traceback.format_exception(err)),
                    )
                    with self.lock:
                        self.foreign.append(text)
                    self.fail("foreign exception: " + text.splitlines()[0])
            else:
                label = err.split(": ", 1)[0]
            labels[label] += 1
        fault = None if strict else self._blame(start, end)
        sample = "%s of %d VIF(s) at %.1fs: %s; first: %s" % (
            op,
            size,
            end - self.t0,
            dict(labels),
            _short(errors[0][1]),
        )
        if fault is None:
            with self.lock:
                self.unattributed.append(sample)
            self.fail("failure no fault explains: " + sample)
            return
        with self.lock:
            fault.calls_failed += 1
            fault.vifs_failed += len(errors)
            fault.exceptions.update(labels)
            samples = fault.detail.setdefault("failures", [])
            if len(samples) < 3:
                samples.append(sample)

    def _recovered(self, start: float, end: float) -> None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.recovery is None
                    and fault.ended is not None
                    and start >= fault.ended
                ):
                    fault.recovery = end - fault.started
                    fault.recovered_at = end

    # -- calls --

    def _mutate(self, op: str, batch: list[Entry], strict: bool = False
                ) -> list[Entry]:
        """Run ``op`` on ``batch``; return the entries that failed."""
        import os_vif

        pairs = [(entry.vif, instance()) for entry in batch]
        plugging = op.startswith("plug")
        with self.lock:
            self.in_flight = {entry.key for entry in batch}
        start = time.monotonic()
        self.busy.set()
        results: list[Any]
        try:
            if op == "plug_many":
                results = list(os_vif.plug_many(pairs))
            elif op == "unplug_many":
                results = list(os_vif.unplug_many(pairs))
            elif op == "plug":
                os_vif.plug(*pairs[0])
                results = [None]
            else:
                os_vif.unplug(*pairs[0])
                results = [None]
        except Exception as err:  # noqa: BLE001 - classified below
            results = [err] * len(batch)
        finally:
            self.busy.clear()
        end = time.monotonic()
        with self.lock:
            self.in_flight = set()
        failed = [
            (e, r)
            for e, r in zip(batch, results, strict=True)
            if r is not None
        ]
        with self.lock:
            for entry in batch:
                entry.plugged = plugging
            for entry, _ in failed:
                entry.dirty = True
        if plugging and not failed and batch:
            self.per_vif_plug = 0.8 * self.per_vif_plug + 0.2 * (
                (end - start) / len(batch)
            )
        self._record(op, start, end, len(batch), failed, True, strict)
        return [entry for entry, _ in failed]

    def _check(self, batch: list[Entry], strict: bool = False
               ) -> list[tuple[Entry, Any]]:
        """check_many ``batch``; return the (entry, report) not ok."""
        import os_vif

        start = time.monotonic()
        try:
            reports = os_vif.check_many(
                [(entry.vif, instance()) for entry in batch]
            )
        except Exception as err:  # noqa: BLE001 - classified below
            self._record("check_many", start, time.monotonic(), len(batch),
                         [(e, err) for e in batch], False, strict)
            return [(e, err) for e in batch]
        end = time.monotonic()
        bad = [(e, r) for e, r in zip(batch, reports, strict=True) if not r.ok]
        errors: list[tuple[Entry, BaseException | str]] = []
        with self.lock:
            for entry, report in bad:
                if entry.dirty:
                    # A fault hit it: not ok is expected (a checkpoint
                    # re-plugs it once).
                    self.damaged_checks += 1
                    continue
                known = known_issue(entry, report)
                if known is not None:
                    self.known[known] += 1
                    if known in self.args.tolerate:
                        # Counted, and re-plugged at the next checkpoint.
                        entry.dirty = True
                        continue
                if strict:
                    continue  # a checkpoint says what it makes of it
                entry.dirty = True
                errors.append(
                    (entry, report.error if report.error is not None
                     else "check:%s: %s: %s" % (
                         report.status, entry.key, _problems(report)))
                )
        self._record("check_many", start, end, len(batch), errors, False,
                     strict)
        return bad

    def _gc(self, keep: list[Entry], dry_run: bool, strict: bool = False
            ) -> Any:
        import os_vif

        op = "gc_dry_run" if dry_run else "gc"
        start = time.monotonic()
        try:
            report = os_vif.gc([entry.vif for entry in keep], dry_run=dry_run)
        except Exception as err:  # noqa: BLE001 - classified below
            dummy = Entry("gc", "gc", None, (), None, None)
            self._record(op, start, time.monotonic(), 0, [(dummy, err)],
                         False, strict)
            return None
        end = time.monotonic()
        errors: list[tuple[Entry, BaseException | str]] = []
        for collection in report.plugins:
            if collection.error is not None:
                errors.append((Entry("gc:" + str(collection.plugin), "gc",
                                     None, (), None, None), collection.error))
            for removal in collection.removals:
                if removal.error is not None:
                    errors.append((Entry(removal.what, "gc", None, (), None,
                                         None), removal.error))
        self._record(op, start, end, len(report), errors, not dry_run,
                     strict)
        return report

    # -- churn --

    def churn_step(self) -> None:
        """One call of the churn, chosen at random."""
        rng = self.rng
        with self.lock:
            plugged = [e for e in self.entries if e.plugged]
            unplugged = [e for e in self.entries if not e.plugged]
        share = len(plugged) / max(1, len(self.entries))
        choices: list[tuple[str, float]] = [("gc_dry_run", 0.4)]
        if unplugged:
            choices += [("plug_many", 4.0 if share < 0.5 else 2.0),
                        ("plug", 1.0)]
        if plugged:
            choices += [("unplug_many", 4.0 if share > 0.5 else 2.0),
                        ("unplug", 1.0), ("check_many", 1.5)]
        op = rng.choices([c[0] for c in choices],
                         weights=[c[1] for c in choices])[0]
        if op in ("plug_many", "unplug_many", "check_many"):
            pool = unplugged if op == "plug_many" else plugged
            size = rng.randint(1, min(self.batch_max, len(pool)))
            batch = rng.sample(pool, size)
            if op == "check_many":
                self._check(batch)
            else:
                self._mutate(op, batch)
        elif op in ("plug", "unplug"):
            usual = unplugged if op == "plug" else plugged
            # Now and then the idempotent case: plug a plugged VIF, unplug
            # an unplugged one.
            pool = usual if rng.random() < 0.8 else self.entries
            self._mutate(op, [rng.choice(pool)])
        else:
            self._gc_dry_run_during_churn(plugged)

    def _gc_dry_run_during_churn(self, plugged: list[Entry]) -> None:
        report = self._gc(plugged, dry_run=True)
        if report is None:
            return
        found = {removal.what for removal in report}
        with self.lock:
            allowed = {
                obj for entry in self.abandoned for obj in entry.objects()
            }
            allowed |= {"device " + bridge for bridge in LB_BRIDGES}
            for entry in self.entries:
                if entry.dirty and not entry.plugged:
                    allowed.update(entry.objects())
        extra = found - allowed
        if extra:
            self.fail(
                "gc (dry run, during churn) would remove what no fault "
                "leaked: %s" % ", ".join(sorted(extra))
            )

    # -- faults --

    def fault_loop(self) -> None:
        """The schedule: one fault every ``--fault-interval`` seconds."""
        try:
            self._fault_loop()
        except BaseException as err:  # noqa: BLE001 - reported, not lost
            self.fail("the fault schedule stopped: %s\n%s" % (
                err, traceback.format_exc()))

    def _fault_loop(self) -> None:
        interval = self.args.fault_interval
        kinds = [k for k in FAULT_KINDS if k not in self.args.no_fault]
        round_: list[str] = []
        due = self.t0 + interval
        while not self.stop_faults.wait(max(0.0, due - time.monotonic())):
            if not round_:
                round_ = list(kinds)
                self.fault_rng.shuffle(round_)
            kind = round_.pop()
            with self.gate:
                if self.stop_faults.is_set():
                    return
                self._inject(kind)
            due = max(due + interval, time.monotonic())

    def _inject(self, kind: str) -> None:
        fault = Fault(seq=len(self.faults) + 1, kind=kind,
                      started=time.monotonic())
        if kind in ("daemon_kill", "ovsdb_restart", "vswitchd_restart"):
            # Wait for a plug or unplug to be in flight, then strike a
            # random few milliseconds into it.
            self.busy.wait(3.0)
            time.sleep(self.fault_rng.uniform(0.0, 0.03))
            fault.mid_call = self.busy.is_set()
            fault.started = time.monotonic()
        with self.lock:
            self.faults.append(fault)
        try:
            if kind == "client_kill":
                # Run by the main thread between two calls (see
                # service_pending): the churn and the client do not race.
                self.pending.append(fault)
                while not fault.done.wait(0.1):
                    if self.stop_faults.is_set() and not self.pending:
                        break
                return
            getattr(self, "_fault_" + kind)(fault)
        except Exception as err:  # noqa: BLE001 - a harness failure
            self.fail("fault %s could not be made: %s\n%s" % (
                kind, err, traceback.format_exc()))
        finally:
            if fault.ended is None:
                fault.ended = time.monotonic()

    def _fault_daemon_kill(self, fault: Fault) -> None:
        from os_vif.internal.privileged import context
        from os_vif.internal.unprivileged import daemon

        choice = self.fault_rng.choice(["vif_plug_ovs",
                                        "vif_plug_linux_bridge", "both"])
        killed = []
        for ctx in context.CONTEXTS:
            name = str(ctx.pypath).rsplit(".", 1)[-1]
            if choice not in ("both", name):
                continue
            pid = daemon.daemon_pid(ctx)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(name)
            except ProcessLookupError:
                pass
        fault.ended = time.monotonic()
        fault.detail.update(target=choice, killed=killed)

    def _fault_ovsdb_restart(self, fault: Fault) -> None:
        self.server.restart_ovsdb()
        fault.ended = time.monotonic()

    def _fault_vswitchd_restart(self, fault: Fault) -> None:
        self.server.restart_vswitchd()
        fault.ended = time.monotonic()

    def _damage_target(self, fault: Fault, kinds: Iterable[str]
                       ) -> Entry | None:
        with self.lock:
            pool = [
                e
                for e in self.entries
                if e.plugged
                and e.kind in kinds
                and e.key not in self.in_flight
            ]
            if not pool:
                fault.detail["target"] = None
                return None
            entry = self.fault_rng.choice(pool)
            # Marked before the damage: a check that sees it is expected.
            entry.dirty = True
        fault.detail["target"] = entry.key
        return entry

    def _fault_device_delete(self, fault: Fault) -> None:
        entry = self._damage_target(fault, KINDS)
        if entry is None:
            return
        device = self.fault_rng.choice(entry.devices)
        fault.detail["device"] = device
        result = subprocess.run(
            ["ip", "link", "del", "dev", device],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        fault.detail["deleted"] = result.returncode == 0
        if result.returncode:
            fault.detail["why"] = result.stderr.strip()
        fault.ended = time.monotonic()

    def _fault_port_delete(self, fault: Fault) -> None:
        entry = self._damage_target(fault, ("ovs", "hybrid"))
        if entry is None or entry.port is None:
            return
        fault.detail["port"] = entry.port
        self.server.vsctl("--no-wait", "--if-exists", "del-port", entry.port)
        fault.ended = time.monotonic()

    def service_pending(self) -> None:
        """Run the faults the main thread must make (client kills)."""
        while self.pending:
            fault = self.pending.popleft()
            try:
                self._client_kill(fault)
            except Exception as err:  # noqa: BLE001 - a harness failure
                self.fail("client_kill could not be made: %s\n%s" % (
                    err, traceback.format_exc()))
            finally:
                if fault.ended is None:
                    fault.ended = time.monotonic()
                fault.done.set()

    def _client_kill(self, fault: Fault) -> None:
        rng = self.fault_rng
        size = rng.randint(max(3, self.batch_max // 2), self.batch_max)
        batch = []
        for _ in range(size):
            kind = KINDS[self.client_next % len(KINDS)]
            batch.append(make_entry("client", kind, self.client_next))
            self.client_next += 1
        journals_before = journals()
        before = own_daemons()
        spec = {
            "netns": self.netns_name,
            "connection": self.server.connection,
            "privsep_timeout": self.args.privsep_timeout,
            "vifs": [[e.kind, int(e.key.rsplit("-", 1)[1])] for e in batch],
            # Plugged and unplugged before the batch (see run_client).
            "warm": [[kind, CLIENT_WARM_UP + i] for i, kind in
                     enumerate(("ovs", "lb"))],
        }
        log = tempfile.TemporaryFile(mode="w+")
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        lines = _LineReader(proc.stdout)
        ready = lines.wait_for("ready", 60.0)
        done = 0
        finished = False
        if ready:
            estimate = self.client_estimate or (
                0.1 + self.per_vif_plug * size
            )
            delay = rng.uniform(0.0, 1.0) * estimate
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                line = lines.next(deadline - time.monotonic())
                if line is None:
                    continue
                if line.startswith("done"):
                    done += 1
                elif line.startswith("finished"):
                    finished = True
                    self.client_estimate = float(line.split()[1])
        fault.started = time.monotonic()
        proc.kill()
        proc.wait()
        for line in lines.rest():
            if line.startswith("done"):
                done += 1
            elif line.startswith("finished"):
                finished = True
        proc.stdout.close()
        log.seek(0)
        client_log = log.read()
        log.close()
        if not ready:
            self.fail("the client did not start: %s" % client_log[-2000:])
        # Its daemons see their socket close; wait for them to end before
        # looking at what they left.
        lingering = self._wait_for_strays(before)
        left = self._orphan_journals(journals() - journals_before, batch)
        for path in left:
            # Only the dead client knew these plans: nobody will recover
            # them.  Reported, then removed (the soak made them).
            with contextlib.suppress(OSError):
                os.unlink(path)
        view = HostView.read(self.server)
        made = sorted(
            obj for entry in batch for obj in entry.objects() if view.has(obj)
        )
        with self.lock:
            self.abandoned.extend(batch)
            self.recorded_leaks.update(made)
        self.client_stats["kills"] += 1
        self.client_stats["mid_batch" if not finished else
                          "after_batch"] += 1
        self.client_stats["vifs"] += size
        self.client_stats["vifs_done_before_kill"] += done
        self.client_stats["journals_left"] += len(left)
        fault.mid_call = not finished
        fault.ended = time.monotonic()
        fault.detail.update(
            vifs=size,
            done_before_kill=done,
            finished=finished,
            leaked=made,
            journals_left=len(left),
            daemons_killed_by_soak=lingering,
        )

    @staticmethod
    def _orphan_journals(names: Iterable[str], batch: list[Entry]
                         ) -> list[str]:
        """The journals among ``names`` that the client's plans wrote.

        Other os_vif users of the host (tests running beside the soak)
        journal their plans in the same directory: only a journal that
        names one of the client's devices is the client's.
        """
        from os_vif.internal.privileged import journal

        mine = {name for entry in batch for name in entry.devices}
        found = []
        for name in sorted(names):
            path = os.path.join(journal.DIRECTORY, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as text:
                    content = text.read()
            except OSError:
                continue
            if any(device in content for device in mine):
                found.append(path)
        return found

    def _wait_for_strays(self, own: set[int]) -> int:
        """Wait for daemons not this process's to end; kill them after 10 s.

        Returns how many had to be killed.
        """
        deadline = time.monotonic() + 10.0
        while True:
            strays = privsep_daemons(self.netns_inode) - own - own_daemons()
            if not strays:
                return 0
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.fail("privsep daemon(s) %s of a killed client still ran 10 s "
                  "later" % sorted(strays))
        for pid in strays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(strays)

    # -- checkpoints --

    def hold_faults(self) -> None:
        """Take the gate: no fault starts until :meth:`release_faults`."""
        while not self.gate.acquire(timeout=0.05):
            self.service_pending()
        self.service_pending()

    def release_faults(self) -> None:
        """Let the schedule go on."""
        self.gate.release()

    def checkpoint(self, label: str, decoys: dict[str, Any]) -> None:
        """Hold the faults and check everything (see the module)."""
        self.hold_faults()
        try:
            # Whatever the last fault broke has a moment to come back.
            time.sleep(1.0)
            self._checkpoint(label, decoys)
        finally:
            self.release_faults()

    def _checkpoint(self, label: str, decoys: dict[str, Any]) -> None:
        started = time.monotonic()
        failures_before = len(self.failures)
        record: dict[str, Any] = {"label": label,
                                  "at_s": round(started - self.t0, 1)}
        with self.lock:
            retry = [e for e in self.entries if not e.plugged and e.dirty]
        # 1. Unplugged VIFs a fault hit: unplugged once more.
        if retry:
            failed = self._mutate("unplug_many", retry, strict=True)
            if failed:
                self.fail("%s: unplug failed again for %s" % (
                    label, ", ".join(e.key for e in failed)))
        record["unplugged_again"] = len(retry)
        # 2. Plugged VIFs: ok, or (hit by a fault) ok after one re-plug.
        with self.lock:
            kept = [e for e in self.entries if e.plugged]
        bad = self._check(kept, strict=True) if kept else []
        hit = [e for e, _ in bad if e.dirty]
        lost = [(e, r) for e, r in bad if not e.dirty]
        for entry, report in lost:
            self.fail("%s: %s checks %s though no fault hit it: %s" % (
                label, entry.key, _status(report), _problems(report)))
        if hit:
            self._mutate("plug_many", hit, strict=True)
            for entry, report in self._check(hit, strict=True):
                lost.append((entry, report))
                self.fail("%s: %s still checks %s after one re-plug: %s" % (
                    label, entry.key, _status(report), _problems(report)))
        record.update(plugged=len(kept), replugged=len(hit),
                      lost=[e.key for e, _ in lost])
        # 3. The host: nothing of unplugged VIFs, nothing unaccounted for.
        view = HostView.read(self.server)
        with self.lock:
            unplugged = [e for e in self.entries if not e.plugged]
            abandoned = list(self.abandoned)
        kept_objects = {obj for e in kept for obj in e.objects()}
        kept_bridges = {e.bridge for e in kept if e.bridge}
        leaked_bridges = {e.bridge for e in abandoned if e.bridge}
        left_behind = sorted(
            obj for e in unplugged for obj in e.objects() if view.has(obj)
        )
        for bridge in LB_BRIDGES:
            obj = "device " + bridge
            if (view.has(obj) and bridge not in kept_bridges
                    and bridge not in leaked_bridges):
                left_behind.append(obj)
        if left_behind:
            self.fail("%s: left on the host for unplugged VIFs: %s" % (
                label, ", ".join(left_behind)))
        expected = {
            obj for e in abandoned for obj in e.objects() if view.has(obj)
        }
        expected |= {
            "device " + b
            for b in leaked_bridges - kept_bridges
            if view.has("device " + b)
        }
        vanished = self.recorded_leaks - expected
        if vanished:
            self.fail("%s: leaks gone before gc (who removed them?): %s" % (
                label, ", ".join(sorted(vanished))))
        known = (
            kept_objects
            | expected
            | {"device " + b for b in kept_bridges}
            | {"device " + name for name in INFRA_LINKS | set(DECOY_LINKS)}
            | {"port " + name for name in DECOY_PORTS}
            | set(left_behind)
        )
        unaccounted = sorted(view.objects() - known)
        if unaccounted:
            self.fail("%s: on the host and accounted for by nothing: %s" % (
                label, ", ".join(unaccounted)))
        record.update(left_behind=left_behind, unaccounted=unaccounted)
        # 4. gc: the dry run lists exactly the leaks; then they go.
        dry = self._gc(kept, dry_run=True, strict=True)
        found = {r.what for r in dry} if dry is not None else set()
        if found != expected:
            self.fail("%s: gc (dry run) found %s; the leaks are %s" % (
                label,
                "+%s -%s" % (sorted(found - expected),
                             sorted(expected - found)),
                sorted(expected)))
        collected_report = self._gc(kept, dry_run=False, strict=True)
        collected = (
            {r.what for r in collected_report if not r.failed}
            if collected_report is not None else set()
        )
        if collected != found:
            self.fail("%s: gc removed %s, its dry run listed %s" % (
                label, sorted(collected), sorted(found)))
        after = HostView.read(self.server)
        still = sorted(obj for obj in expected if after.has(obj))
        if still:
            self.fail("%s: leaks still there after gc: %s" % (label, still))
        again = self._gc(kept, dry_run=True, strict=True)
        if again is not None and len(again):
            self.fail("%s: a second gc (dry run) still finds %s" % (
                label, sorted(r.what for r in again)))
        for entry, report in self._check(kept, strict=True):
            self.fail("%s: %s checks %s after gc: %s" % (
                label, entry.key, _status(report), _problems(report)))
        with self.lock:
            # Made: what the records say leaked (the killed clients' VIFs'
            # objects, and the Linux bridges only they still needed).
            self.leaks["made"] += len(expected)
            self.recorded_leaks = set()
            self.leaks["found"] += len(found & expected)
            self.leaks["collected"] += len(collected & expected)
            self.abandoned = []
            for entry in self.entries:
                entry.dirty = False
        record.update(leaks=len(expected), gc_found=len(found),
                      gc_collected=len(collected))
        # 5. The host's own: untouched.
        now = after.decoys()
        if now != decoys:
            self.fail("%s: the host's own objects changed: %s" % (
                label, _diff(decoys, now)))
        record["decoys_ok"] = now == decoys
        # 6. Memory and descriptors.
        use = resources()
        record.update(use)
        warm = self.resources.get("warm")
        if warm is None:
            self.resources["warm"] = dict(use)
        else:
            for key in ("rss_kb", "fds"):
                if use[key] > warm[key] * (1 + GROWTH_LIMIT):
                    self.fail("%s: %s grew from %d after warm-up to %d "
                              "(more than %d %%)" % (
                                  label, key, warm[key], use[key],
                                  GROWTH_LIMIT * 100))
        record["seconds"] = round(time.monotonic() - started, 2)
        record["ok"] = len(self.failures) == failures_before
        self.checkpoints.append(record)
        print("soak: checkpoint %s at %.0fs: %d plugged, %d re-plugged, "
              "%d leak(s) found and collected, rss %d kB, %d fds%s" % (
                  label, started - self.t0, len(kept), len(hit),
                  len(found), use["rss_kb"], use["fds"],
                  "" if record["ok"] else " -- FAILED"),
              file=sys.stderr, flush=True)

    def teardown_check(self) -> dict[str, Any]:
        """Unplug every VIF: only the host's own objects may remain."""
        with self.lock:
            kept = [e for e in self.entries if e.plugged]
        failed = []
        for start in range(0, len(kept), self.batch_max):
            failed += self._mutate("unplug_many",
                                   kept[start:start + self.batch_max],
                                   strict=True)
        view = HostView.read(self.server)
        known = {"device " + n for n in INFRA_LINKS | set(DECOY_LINKS)} | {
            "port " + n for n in DECOY_PORTS
        }
        left = sorted(view.objects() - known)
        if failed or left:
            self.fail("after unplugging every VIF: %d failed, left: %s" % (
                len(failed), ", ".join(left) or "nothing"))
        dry = self._gc([], dry_run=True, strict=True)
        if dry is not None and len(dry):
            self.fail("gc of an empty host finds %s" % sorted(
                r.what for r in dry))
        return {"unplugged": len(kept), "failed": len(failed), "left": left}

    # -- the run --

    def run(self) -> dict[str, Any]:
        """Churn until the end, checkpoints on the way; return the report."""
        args = self.args
        decoys = HostView.read(self.server).decoys()
        self.resources["start"] = resources()
        self.t0 = time.monotonic()
        end = self.t0 + args.duration
        next_checkpoint = self.t0 + args.warmup
        thread = threading.Thread(target=self.fault_loop, name="faults",
                                  daemon=True)
        thread.start()
        number = 0
        try:
            while time.monotonic() < end:
                self.service_pending()
                if time.monotonic() >= next_checkpoint:
                    number += 1
                    self.checkpoint("warm-up" if number == 1 else
                                    "#%d" % number, decoys)
                    next_checkpoint = time.monotonic() + (
                        args.checkpoint_interval)
                    continue
                self.churn_step()
        finally:
            self.stop_faults.set()
            while thread.is_alive():
                self.service_pending()
                thread.join(0.05)
        self.checkpoint("end", decoys)
        self.resources["end"] = resources()
        churn_seconds = time.monotonic() - self.t0
        teardown = self.teardown_check()
        return self.report(churn_seconds, teardown)

    # -- the report --

    def report(self, seconds: float, teardown: dict[str, Any]
               ) -> dict[str, Any]:
        """The whole record as a JSON-able dict."""
        args = self.args
        per_kind: dict[str, Any] = {}
        for kind in FAULT_KINDS:
            faults = [f for f in self.faults if f.kind == kind]
            recoveries = [f.recovery for f in faults if f.recovery is not None]
            exceptions: collections.Counter[str] = collections.Counter()
            for f in faults:
                exceptions.update(f.exceptions)
            per_kind[kind] = {
                "count": len(faults),
                "mid_call": sum(f.mid_call for f in faults),
                "calls_failed": sum(f.calls_failed for f in faults),
                "vifs_failed": sum(f.vifs_failed for f in faults),
                "exceptions": dict(exceptions),
                "recovery_s": _spread(recoveries),
                "unrecovered": len(faults) - len(recoveries),
            }
        warm = self.resources.get("warm", {})
        growth = {
            key: None if not warm.get(key) else round(
                (self.resources["end"][key] - warm[key]) / warm[key] * 100, 1)
            for key in ("rss_kb", "fds")
        }
        lost = sorted({k for c in self.checkpoints for k in c["lost"]})
        left = sorted({o for c in self.checkpoints for o in c["left_behind"]})
        return {
            "ok": not self.failures,
            "failures": self.failures,
            "parameters": {
                "duration_s": args.duration,
                "vifs": args.vifs,
                "fault_interval_s": args.fault_interval,
                "seed": args.seed,
                "privsep_timeout_s": args.privsep_timeout,
                "warmup_s": args.warmup,
                "checkpoint_interval_s": args.checkpoint_interval,
            },
            "seconds": round(seconds, 1),
            "vifs": {
                "main": len(self.entries),
                "by_kind": dict(collections.Counter(
                    e.kind for e in self.entries)),
                "client": self.client_stats["vifs"],
                "lost": lost,
                "left_behind": left,
                "damaged_checks_seen": self.damaged_checks,
            },
            "known_issues": {
                name: {"seen": self.known[name],
                       "tolerated": name in args.tolerate,
                       "what": KNOWN_ISSUES[name]}
                for name in KNOWN_ISSUES
            },
            "calls": {
                "total": sum(s.calls for s in self.ops.values()),
                "failed": sum(s.failed for s in self.ops.values()),
                "by_op": {
                    op: dataclasses.asdict(s) | {
                        "seconds": round(s.seconds, 2)}
                    for op, s in sorted(self.ops.items())
                },
                "foreign_exceptions": self.foreign,
                "unattributed_failures": self.unattributed,
            },
            "faults": {"total": len(self.faults), "by_kind": per_kind,
                       "list": [f.as_dict(self.t0) for f in self.faults]},
            "clients": dict(self.client_stats),
            "leaks": dict(self.leaks),
            "checkpoints": self.checkpoints,
            "resources": dict(self.resources) | {"growth_pct": growth},
            "teardown": teardown,
        }


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def _short(err: Any) -> str:
    text = "%s: %s" % (type(err).__name__, err) if isinstance(
        err, BaseException) else str(err)
    return text if len(text) < 300 else text[:297] + "..."


def _status(report: Any) -> str:
    return str(getattr(report, "status", type(report).__name__))


def _problems(report: Any) -> str:
    if isinstance(report, BaseException):
        return _short(report)
    if report.error is not None:
        return _short(report.error)
    return "; ".join(str(p) for p in report.problems[:4])


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    changes = []
    for part in before:
        for name in before[part]:
            if before[part][name] != after[part].get(name):
                changes.append("%s %s: %r -> %r" % (
                    part, name, before[part][name], after[part].get(name)))
    return "; ".join(changes)


class _LineReader:
    """Lines of a child's stdout, with timeouts."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.fd = stream.fileno()
        self.buffer = b""
        self.closed = False

    def next(self, timeout: float) -> str | None:
        """The next line, or None after ``timeout`` seconds or at EOF."""
        deadline = time.monotonic() + max(0.0, timeout)
        while b"\n" not in self.buffer and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.fd], [], [], left)
            if not readable:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.closed = True
            self.buffer += chunk
        if b"\n" not in self.buffer:
            return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def wait_for(self, word: str, timeout: float) -> bool:
        """Read until a line starting with ``word``; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            line = self.next(deadline - time.monotonic())
            if line is not None and line.startswith(word):
                return True
        return False

    def rest(self) -> list[str]:
        """Every line still to read (the child has exited)."""
        lines: list[str] = []
        while True:
            line = self.next(1.0)
            if line is None:
                return lines
            lines.append(line)


# -- the human table --


def render(report: dict[str, Any]) -> str:
    """The report as a table for people."""
    p = report["parameters"]
    out = [
        "os-vif soak: %ss of churn, %d VIFs %s, a fault every %ss, seed %s, "
        "privsep_timeout %ss: %s" % (
            p["duration_s"], p["vifs"], report["vifs"]["by_kind"],
            p["fault_interval_s"], p["seed"], p["privsep_timeout_s"],
            "PASS" if report["ok"] else "FAIL"),
        "",
        "%-18s %5s %5s %10s %6s %-26s %s" % (
            "fault", "n", "mid", "calls/VIFs", "unrec", "recovery s "
            "(min/med/max)", "exceptions"),
    ]
    for kind, row in report["faults"]["by_kind"].items():
        rec = row["recovery_s"]
        out.append("%-18s %5d %5d %10s %6d %-26s %s" % (
            kind, row["count"], row["mid_call"],
            "%d/%d" % (row["calls_failed"], row["vifs_failed"]),
            row["unrecovered"],
            "-" if rec is None else "%.2f/%.2f/%.2f" % (
                rec["min"], rec["median"], rec["max"]),
            ", ".join("%s x%d" % kv for kv in row["exceptions"].items())
            or "-"))
    calls = report["calls"]
    out += ["", "calls: %d, %d failed" % (calls["total"], calls["failed"])]
    for op, s in calls["by_op"].items():
        out.append("  %-12s %6d calls %6d VIFs %4d failed (%d VIFs) %8.1fs"
                   % (op, s["calls"], s["vifs"], s["failed"],
                      s["vifs_failed"], s["seconds"]))
    leaks = report["leaks"]
    res = report["resources"]
    clients = report["clients"]
    out += [
        "",
        "clients killed: %d (%d mid-batch), %d client VIFs, %d journals left"
        " by them" % (clients.get("kills", 0), clients.get("mid_batch", 0),
                      clients.get("vifs", 0), clients.get("journals_left", 0)),
        "leaks: made %d, found %d, collected %d" % (
            leaks["made"], leaks["found"], leaks["collected"]),
        "VIFs lost: %d, objects left behind: %d, damaged checks seen: %d" % (
            len(report["vifs"]["lost"]), len(report["vifs"]["left_behind"]),
            report["vifs"]["damaged_checks_seen"]),
        "known issues: " + (", ".join(
            "%s seen %d time(s)%s" % (
                name, row["seen"], " (tolerated)" if row["tolerated"] else "")
            for name, row in report["known_issues"].items()
            if row["seen"]) or "none seen"),
        "checkpoints: " + ", ".join(
            "%s@%ss %s" % (c["label"], c["at_s"], "ok" if c["ok"] else "FAIL")
            for c in report["checkpoints"]),
        "RSS kB: start %s, after warm-up %s, end %s (%+.1f %%)" % (
            res["start"]["rss_kb"], res.get("warm", {}).get("rss_kb"),
            res["end"]["rss_kb"], res["growth_pct"]["rss_kb"] or 0.0),
        "open fds: start %s, after warm-up %s, end %s (%+.1f %%)" % (
            res["start"]["fds"], res.get("warm", {}).get("fds"),
            res["end"]["fds"], res["growth_pct"]["fds"] or 0.0),
        "teardown: %d unplugged, %d failed, left: %s" % (
            report["teardown"]["unplugged"], report["teardown"]["failed"],
            ", ".join(report["teardown"]["left"]) or "nothing"),
    ]
    if report["failures"]:
        out += ["", "FAILURES:"] + ["  " + f for f in report["failures"]]
    return "\n".join(out)


# -- the world --


@contextlib.contextmanager
def world(args: argparse.Namespace) -> Iterator[tuple[Any, str, int]]:
    """The namespace and switch, entered; torn down whatever happens."""
    from pyroute2 import IPRoute
    from pyroute2 import netns as pyroute2_netns

    from os_vif.internal.ovsdb import connection
    from os_vif.sandbox import netns, ovs

    reason = netns.missing_reason() or ovs.missing_reason()
    if reason is not None:
        raise SoakFailure(reason)
    name = "osvif-soak-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    workdir = tempfile.mkdtemp(prefix="os-vif-soak-")
    server = ovs.OvsServer(workdir, netns=name)
    pyroute2_netns.create(name)
    try:
        inode = os.stat("/run/netns/" + name).st_ino
        server.start()
        with netns.entered(name):
            with IPRoute() as ipr:
                ipr.link("set", index=ipr.link_lookup(ifname="lo")[0],
                         state="up")
            try:
                yield server, name, inode
            finally:
                connection.close_all()
    finally:
        server.stop()
        with contextlib.suppress(FileNotFoundError):
            pyroute2_netns.remove(name)
        if args.keep_workdir:
            print("soak: the switch's files are in %s" % workdir,
                  file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_soak(args: argparse.Namespace) -> int:
    """Set up the world, soak, report; return the exit status."""
    try:
        with world(args) as (server, name, inode):
            configure(server.connection, args.privsep_timeout)
            make_decoys(server)
            soak = Soak(args, server, name, inode)
            report = soak.run()
    except SoakFailure as err:
        print("soak: cannot run: %s" % err, file=sys.stderr)
        return 2
    print(render(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2, sort_keys=True)
            out.write("\n")
    return 0 if report["ok"] else 1


# -- the client --


def run_client() -> int:
    """``--client``: plug a batch in the soak's namespace, then wait.

    Reads ``{"netns", "connection", "privsep_timeout", "vifs": [[kind,
    n]...], "warm": [[kind, n]...]}`` on stdin; plugs and unplugs the
    ``warm`` VIFs (its daemons and connection start), prints ``ready``
    before the batch, ``done <i>`` as
    each VIF is done and ``finished <seconds> <failed>`` after it, then
    waits to be killed: a client that dies after its plug returned leaves
    its VIFs as much as one killed during it.
    """
    from os_vif.sandbox import netns

    spec = json.load(sys.stdin)
    fd = os.open("/run/netns/" + spec["netns"], os.O_RDONLY | os.O_CLOEXEC)
    netns.setns(fd)
    os.close(fd)
    configure(spec["connection"], int(spec["privsep_timeout"]))
    import os_vif

    batch = [make_vif("client", kind, n) for kind, n in spec["vifs"]]
    # A client that has run a while: its daemons and its OVSDB connection
    # are up before the batch, so that the kill strikes the batch's work.
    warm = [make_vif("client", kind, n) for kind, n in spec["warm"]]
    pairs = [(vif, instance()) for vif in warm]
    failed: list[Exception] = [
        r for r in os_vif.plug_many(pairs) if r is not None
    ]
    failed += [r for r in os_vif.unplug_many(pairs) if r is not None]
    if failed:
        print("warm-up failed: %s" % failed[0], file=sys.stderr, flush=True)
        return 1

    def progress(index: int, result: Any) -> None:
        print("done %d %s" % (index, type(result).__name__), flush=True)

    print("ready", flush=True)
    start = time.monotonic()
    results = os_vif.plug_many([(vif, instance()) for vif in batch],
                               progress=progress)
    print("finished %.3f %d" % (time.monotonic() - start,
                                sum(r is not None for r in results)),
          flush=True)
    while True:
        time.sleep(60)


# -- the command line --


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module)."""
    parser = argparse.ArgumentParser(
        description="Soak os_vif under churn and faults (run as root).",
        epilog="Short mode (CI): --short.  Long mode: --duration 1800 "
        "--vifs 500 --fault-interval 10.",
    )
    parser.add_argument("--short", action="store_true",
                        help="CI's minute: 50 s of churn, 40 VIFs, a fault "
                        "every 5 s (explicit options still win)")
    parser.add_argument("--duration", type=float, help="seconds of churn "
                        "(default 300)")
    parser.add_argument("--vifs", type=int, help="VIFs in the churn "
                        "(default 100)")
    parser.add_argument("--fault-interval", type=float,
                        help="seconds between faults (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--privsep-timeout", type=int, default=8,
                        help="the plugins' privsep_timeout (default 8 s)")
    parser.add_argument("--warmup", type=float,
                        help="seconds before the first checkpoint, whose "
                        "RSS and fds are the reference (default: a fifth "
                        "of the duration, at least two fault intervals)")
    parser.add_argument("--checkpoint-interval", type=float,
                        help="seconds between checkpoints (default: a "
                        "quarter of the duration, at least 15 s)")
    parser.add_argument("--no-fault", action="append", default=[],
                        choices=FAULT_KINDS, help="leave a kind of fault out")
    parser.add_argument("--tolerate", action="append", default=[],
                        choices=sorted(KNOWN_ISSUES),
                        help="count a known, unfixed issue (see "
                        "KNOWN_ISSUES) without failing: its VIF is "
                        "re-plugged at the next checkpoint")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the report as JSON to FILE")
    parser.add_argument("--verbose", action="store_true",
                        help="show os_vif's warnings and errors")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the switch's logs")
    parser.add_argument("--client", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    short = {"duration": 50.0, "vifs": 40, "fault_interval": 5.0}
    default = {"duration": 300.0, "vifs": 100, "fault_interval": 10.0}
    for key, value in (short if args.short else default).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.warmup is None:
        args.warmup = max(args.duration / 5, 2 * args.fault_interval)
    if args.checkpoint_interval is None:
        args.checkpoint_interval = max(args.duration / 4, 15.0)
    if args.vifs < 6:
        parser.error("--vifs must be at least 6")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak (or, with ``--client``, a client it kills)."""
    args = parse(argv)
    # os_vif logs each failure the faults cause (with its traceback); the
    # report counts them.  --verbose shows them as they come.
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.CRITICAL,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
    )
    if args.client:
        return run_client()
    if os.geteuid() != 0:
        print("soak: needs root (network namespaces, privsep)",
              file=sys.stderr)
        return 2

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, stop)
    return run_soak(args)


if __name__ == "__main__":
    sys.exit(main())
