"""Per-VIF plug, re-plug and unplug on Open vSwitch, three ways.

Run as root: ``python benchmarks/bench_ovs.py [-n 100 500]``.

A private ovsdb-server and ovs-vswitchd (userspace datapath) run in a
throwaway network namespace; for each N and each VIF type --
``VIFOpenVSwitch`` with ``create_port`` + ``create_tap``, and the hybrid
``VIFBridge`` -- N VIFs are plugged, plugged again, then unplugged by:

* **os_vif**: this project's ``ovs`` plugin through ``os_vif.plug`` /
  ``os_vif.unplug`` (privsep daemon, validation, the IDL cache check);
* **floor**: the same kernel changes with pyroute2 (no privsep, no
  validation, no reads) and the same OVSDB changes in one ovsdbapp
  transaction per port; its "re-plug" does it all again;
* **5.3.0**: os-vif 5.3.0 from PyPI, in its own venv (made once by
  ``tools/oracle_venv.py``, under ``$OS_VIF_ORACLE_DIR``), with its
  privsep daemon.

Each runs in a process of its own inside the namespace, against the same
switch, after a warm-up plug (daemon started, OVSDB connected).

With ``--repeat R`` each cell is the median of R interleaved rounds (the
machine may be busy with other work).  The table gives milliseconds per
VIF and the ratios the targets are about:
plug within 1.3x of the floor, a re-plug at most a tenth of a plug, a
hybrid plug at least 3x faster than 5.3.0's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

warnings.filterwarnings("ignore")

from oslo_config import cfg  # noqa: E402
from ovsdbapp.backend.ovs_idl import connection as ovs_connection  # noqa: E402
from ovsdbapp.backend.ovs_idl import idlutils  # noqa: E402
from ovsdbapp.schema.open_vswitch import impl_idl  # noqa: E402
from pyroute2 import IPRoute  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
# The shared maker of the os-vif 5.3.0 virtualenv.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import oracle_venv  # noqa: E402

import os_vif  # noqa: E402
from os_vif.objects import instance_info  # noqa: E402
from os_vif.objects import vif as vif_objects  # noqa: E402
from os_vif.sandbox import vifs  # noqa: E402

# The sandbox helpers moved from the test tree into os_vif.sandbox; accept
# either location.
try:
    from os_vif.sandbox import netns as netns_fixture
except ImportError:  # pragma: no cover - older tree
    from tests.functional import netns as netns_fixture  # type: ignore
try:
    from os_vif.sandbox import ovs as ovs_server
except ImportError:
    from tests.functional import ovs_server  # type: ignore

HERE = os.path.dirname(os.path.abspath(__file__))
BRIDGE, MTU = "br-int", 1450
INSTANCE = instance_info.InstanceInfo(
    uuid="d2c1b38e-4b6e-4a57-9b41-95e3e4e7a0f1", name="vm", project_id="p"
)
OPS = ("plug", "replug", "unplug")
KINDS = ("ovs", "hybrid")


def vif_id(n: int) -> str:
    return str(uuid.UUID(int=(0xA0000000 + n) << 96 | 0x1234))


def mac(n: int) -> str:
    return "fa:16:3e:20:%02x:%02x" % (n >> 8 & 0xFF, n & 0xFF)


def make_vif(kind: str, n: int) -> vif_objects.VIFBase:
    vid = vif_id(n)
    if kind == "ovs":
        vif: vif_objects.VIFBase = vifs.ovs_vif(n, bridge=BRIDGE, mtu=MTU,
                                                vid=vid)
    else:
        vif = vifs.hybrid_vif(n, bridge=BRIDGE, mtu=MTU, vid=vid)
    vif.address = mac(n)
    return vif


def settle(connection: str) -> None:
    """Return once ovs-vswitchd has applied everything committed so far.

    Between timed steps (never inside one): a step that ends when
    ovsdb-server has committed leaves ovs-vswitchd reconfiguring hundreds
    of ports for a while, which on two cores would slow down whatever is
    timed next -- a re-plug of a restarted service finds a switch at rest.
    ``ovs-vsctl`` without ``--no-wait`` waits for exactly that.
    """
    subprocess.run(
        [
            "ovs-vsctl",
            "--db=" + connection,
            "--timeout=600",
            "set",
            "Open_vSwitch",
            ".",
            "external_ids:os-vif-bench=settled",
        ],
        check=True,
        capture_output=True,
    )


# -- the floor ---------------------------------------------------------------


class _NoWaitTransaction(impl_idl.OvsVsctlTransaction):
    # Like os_vif (and ovs-vsctl --no-wait): done when ovsdb-server has
    # committed; ovs-vswitchd applies it asynchronously.
    def do_post_commit(self, txn: Any) -> None:
        return None


class _FloorIdl(impl_idl.OvsdbIdl):
    _ovsdb_connection = None

    def create_transaction(
        self, check_error: bool = False, log_errors: bool = True, **kw: Any
    ) -> _NoWaitTransaction:
        return _NoWaitTransaction(
            self,
            self.ovsdb_connection,
            check_error=check_error,
            log_errors=log_errors,
        )


class Floor:
    """The same changes, made as directly as the libraries allow."""

    def __init__(self, connection: str) -> None:
        helper = idlutils.get_schema_helper(connection, "Open_vSwitch")
        for table in ("Open_vSwitch", "Bridge", "Port", "Interface", "QoS"):
            helper.register_table(table)
        idl = ovs_connection.OvsdbIdl(connection, helper)
        self.api = _FloorIdl(ovs_connection.Connection(idl, timeout=120))
        self.ipr = IPRoute()

    def _port(self, name: str, n: int) -> None:
        vid = vif_id(n)
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_br(BRIDGE, datapath_type="netdev"))
            txn.add(self.api.add_port(BRIDGE, name))
            txn.add(
                self.api.db_set(
                    "Interface",
                    name,
                    (
                        "external_ids",
                        {
                            "iface-id": vid,
                            "iface-status": "active",
                            "attached-mac": mac(n),
                            "vm-uuid": INSTANCE.uuid,
                        },
                    ),
                    ("mtu_request", MTU),
                )
            )

    def _index(self, name: str) -> int:
        return self.ipr.link_lookup(ifname=name)[0]

    def plug(self, kind: str, n: int) -> None:
        vid = vif_id(n)
        ipr = self.ipr
        if kind == "ovs":
            tap = ("tap" + vid)[:14]
            if not ipr.link_lookup(ifname=tap):
                ipr.link("add", ifname=tap, kind="tuntap", mode="tap")
            ipr.link(
                "set",
                index=self._index(tap),
                mtu=MTU,
                address=mac(n),
                state="up",
            )
            self._port(tap, n)
            return
        qbr, qvb, qvo = (
            ("qbr" + vid)[:14],
            ("qvb" + vid)[:14],
            ("qvo" + vid)[:14],
        )
        if not ipr.link_lookup(ifname=qbr):
            ipr.link(
                "add",
                ifname=qbr,
                kind="bridge",
                br_stp_state=0,
                br_forward_delay=0,
            )
        for key, value in (
            ("ipv6/conf/%s/disable_ipv6", 1),
            ("ipv4/conf/%s/arp_ignore", 1),
        ):
            with open("/proc/sys/net/" + key % qbr, "w") as sysctl:
                sysctl.write(str(value))
        ipr.link("set", index=self._index(qbr), mtu=MTU, state="up")
        if not ipr.link_lookup(ifname=qvb):
            ipr.link("add", ifname=qvb, kind="veth", peer=qvo)
        for end in (qvo, qvb):
            ipr.link("set", index=self._index(end), mtu=MTU, state="up")
        ipr.link("set", index=self._index(qvb), master=self._index(qbr))
        self._port(qvo, n)

    def unplug(self, kind: str, n: int) -> None:
        vid = vif_id(n)
        if kind == "ovs":
            port, devices = ("tap" + vid)[:14], [("tap" + vid)[:14]]
        else:
            port = ("qvo" + vid)[:14]
            devices = [("qvb" + vid)[:14], ("qbr" + vid)[:14]]
        self.api.del_port(port, if_exists=True).execute(check_error=True)
        for device in devices:
            self.ipr.link("del", index=self._index(device))

    def close(self) -> None:
        self.api.ovsdb_connection.stop()
        self.ipr.close()


# -- running -----------------------------------------------------------------


def timed(func: Callable[[int], None], count: int) -> float:
    start = time.perf_counter()
    for n in range(count):
        func(n)
    return time.perf_counter() - start


def run_os_vif(kind: str, count: int, connection: str) -> dict[str, float]:
    os_vif.initialize()
    cfg.CONF.set_override("ovsdb_connection", connection, "os_vif_ovs")
    vifs = [make_vif(kind, n) for n in range(count)]
    # Warm up: privsep daemon and OVSDB connection, outside the timing.
    warm = make_vif(kind, 9999)
    os_vif.plug(warm, INSTANCE)
    os_vif.unplug(warm, INSTANCE)
    return {
        "plug": timed(lambda n: os_vif.plug(vifs[n], INSTANCE), count),
        "replug": timed(lambda n: os_vif.plug(vifs[n], INSTANCE), count),
        "unplug": timed(lambda n: os_vif.unplug(vifs[n], INSTANCE), count),
    }


def run_floor(kind: str, count: int, connection: str) -> dict[str, float]:
    floor = Floor(connection)
    floor.plug(kind, 9999)
    floor.unplug(kind, 9999)
    result = {
        "plug": timed(lambda n: floor.plug(kind, n), count),
        "replug": timed(lambda n: floor.plug(kind, n), count),
        "unplug": timed(lambda n: floor.unplug(kind, n), count),
    }
    floor.close()
    return result


WORKERS = {"os_vif": run_os_vif, "floor": run_floor}


def run_worker(
    impl: str, server: ovs_server.OvsServer, kind: str, count: int
) -> dict[str, float]:
    """Run one implementation in a process of its own, in the namespace.

    Each implementation gets a fresh process with only its own OVSDB
    client: an idle IDL connection left in the same process would parse
    every update ovs-vswitchd writes while the other one is timed.
    """
    return _run_in_namespace(
        server,
        [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            impl,
            kind,
            str(count),
            server.connection,
        ],
    )


def _run_in_namespace(
    server: ovs_server.OvsServer, argv: list[str], cwd: str | None = None
) -> dict[str, float]:
    """Run ``argv`` in the switch's namespace; return its last JSON line."""
    assert server.netns is not None
    out = subprocess.run(
        ["ip", "netns", "exec", server.netns, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def run_oracle(
    python: str,
    venv: str,
    server: ovs_server.OvsServer,
    kind: str,
    count: int,
    workdir: str,
) -> dict[str, float]:
    conf = os.path.join(workdir, "oracle.conf")
    with open(conf, "w") as handle:
        handle.write(
            "[os_vif_ovs]\novsdb_connection = %s\n"
            "[vif_plug_ovs_privileged]\nhelper_command = %s\n"
            % (server.connection, os.path.join(venv, "bin", "privsep-helper"))
        )
    return _run_in_namespace(
        server,
        [
            python,
            os.path.join(HERE, "oracle_ovs_worker.py"),
            conf,
            kind,
            str(count),
        ],
        cwd=workdir,
    )


def reset(server: ovs_server.OvsServer) -> None:
    server.delete_bridges()
    with IPRoute() as ipr:
        for link in ipr.get_links():
            if link.get("ifname") not in ("lo", "ovs-netdev"):
                try:
                    ipr.link("del", index=link["index"])
                except Exception:  # noqa: BLE001 - a veth peer went first
                    pass


def report(results: dict, counts: list[int]) -> str:
    lines = [
        "%-7s %-4s %-7s %10s %10s %10s %10s %9s"
        % ("type", "N", "op", "os_vif", "floor", "5.3.0", "os_vif/", "5.3.0/"),
        "%-7s %-4s %-7s %10s %10s %10s %10s %9s"
        % ("", "", "", "ms/VIF", "ms/VIF", "ms/VIF", "floor", "os_vif"),
    ]
    for kind in KINDS:
        for count in counts:
            for op in OPS:
                lines.append(contender_row(results, kind, count, op, 2))
            plug = results["os_vif"][kind][count]["plug"]
            replug = results["os_vif"][kind][count]["replug"]
            lines.append(
                "%-7s %-4d re-plug/plug (os_vif): %.3f"
                % (kind, count, replug / plug)
            )
    return "\n".join(lines)


def contender_row(
    results: Mapping[str, Any], kind: str, count: int, op: str, digits: int
) -> str:
    """One line of a report: ms per VIF of os_vif, the floor and 5.3.0.

    Then os_vif over the floor and 5.3.0 over os_vif; ``nan`` for a
    contender that did not run.
    """
    ours, floor, oracle = (
        results[impl][kind][count][op] / count * 1000
        if impl in results
        else float("nan")
        for impl in ("os_vif", "floor", "5.3.0")
    )
    return "%-7s %-4d %-7s %10.*f %10.*f %10.*f %8.2fx %8.1fx" % (
        kind,
        count,
        op,
        digits,
        ours,
        digits,
        floor,
        digits,
        oracle,
        ours / floor,
        oracle / ours,
    )


def add_worker_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """The hidden ``--worker WHAT KIND N OVSDB`` of a benchmark's workers."""
    parser.add_argument(
        "--worker",
        nargs=4,
        metavar=(what, "KIND", "N", "OVSDB"),
        help=argparse.SUPPRESS,
    )


def worker_main(
    worker: Sequence[str] | None,
    workers: Mapping[str, Callable[[str, int, str], Any]],
) -> bool:
    """Run the worker ``--worker`` names, print its JSON; say if it ran."""
    if not worker:
        return False
    name, kind, count, connection = worker
    print(json.dumps(workers[name](kind, int(count), connection)))
    return True


def require_switch() -> None:
    """Exit naming what is missing to run a private switch in a netns."""
    reason = ovs_server.missing_reason() or netns_fixture.missing_reason()
    if reason:
        sys.exit("cannot run: " + reason)


def oracle() -> tuple[str, str]:
    """The os-vif 5.3.0 virtualenv's Python and directory (made once)."""
    try:
        python = oracle_venv.ensure()
    except oracle_venv.OracleUnavailable as err:
        sys.exit("cannot run os-vif 5.3.0: %s" % err)
    return python, os.path.dirname(os.path.dirname(python))


def interleaved_medians(
    runners: dict[str, Callable[[str, int], dict[str, float]]],
    kind: str,
    count: int,
    repeat: int,
    reset: Callable[[], None],
    ops: Sequence[str],
    rounds: dict[str, list[dict[str, float]]] | None = None,
) -> dict[str, dict[str, float]]:
    """Run every contender ``repeat`` times; return each one's median.

    Rounds interleave the contenders, each round in a different order, so
    that a burst of load from elsewhere hits them alike; ``reset`` clears
    the switch before each run and after the last.  ``rounds``, when
    given, receives every round's figures, per contender.
    """
    order = list(runners)
    if rounds is None:
        rounds = {}
    rounds.update({impl: [] for impl in order})
    for number in range(repeat):
        shift = number % len(order)
        for impl in order[shift:] + order[:shift]:
            reset()
            rounds[impl].append(runners[impl](kind, count))
    reset()
    return {
        impl: {op: statistics.median(s[op] for s in samples) for op in ops}
        for impl, samples in rounds.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, nargs="+", default=[100, 500])
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; the median is shown"
    )
    parser.add_argument("--json", help="also write the raw results here")
    add_worker_argument(parser, "IMPL")
    args = parser.parse_args()
    if worker_main(args.worker, WORKERS):
        return
    require_switch()
    oracle_python, oracle_dir = oracle()
    results: dict = {"os_vif": {}, "floor": {}, "5.3.0": {}}
    with tempfile.TemporaryDirectory() as workdir:
        with netns_fixture.fresh_netns("osvif-bench") as ns:
            server = ovs_server.OvsServer(
                os.path.join(workdir, "ovs"), netns=ns.name
            )
            server.start()
            try:
                runners = {
                    "floor": lambda k, c: run_worker("floor", server, k, c),
                    "os_vif": lambda k, c: run_worker("os_vif", server, k, c),
                    "5.3.0": lambda k, c: run_oracle(
                        oracle_python,
                        oracle_dir,
                        server,
                        k,
                        c,
                        workdir,
                    ),
                }
                for kind in KINDS:
                    for count in args.n:
                        medians = interleaved_medians(
                            runners,
                            kind,
                            count,
                            args.repeat,
                            lambda: reset(server),
                            OPS,
                        )
                        for impl, cell in medians.items():
                            results[impl].setdefault(kind, {})[count] = cell
                        print(
                            "done: %s N=%d" % (kind, count),
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                server.stop()
    print(report(results, args.n))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
