"""Bulk plug, re-plug and unplug of N VIFs on Open vSwitch, three ways.

Run as root: ``python benchmarks/bench_bulk.py [-n 100 500] [--repeat R]``.

The harness of ``bench_ovs.py`` (a private ovsdb-server and ovs-vswitchd
with the userspace datapath in a throwaway network namespace, each
implementation in a process of its own there, os-vif 5.3.0 in its own
venv); for each N and each VIF type -- ``VIFOpenVSwitch`` with
``create_port`` + ``create_tap``, and the hybrid ``VIFBridge`` -- the N
VIFs are plugged, plugged again (nothing to change), then unplugged by:

* **os_vif**: ``os_vif.plug_many`` / ``os_vif.unplug_many`` of all N
  (every VIF must succeed, or the run stops);
* **floor**: the same changes as one ovsdbapp transaction for all ports
  and kernel requests batched (``raw_batch.py``): taps by ioctl, every
  link change of a step in one netlink send, the deletions as one
  RTM_DELLINK of the link group set at creation.  Its re-plug is the
  least a re-plug must do: one link dump and one read of the OVSDB cache;
* **5.3.0**: os-vif 5.3.0 plugging the same VIFs one by one (its
  ``os_vif.plug`` / ``os_vif.unplug``; it has no bulk call), in its venv.

The table gives milliseconds per VIF and the total for the re-plug, with
the ratios of the targets (issue 13, at N=500): bulk plug within 1.3x of
the floor and at least 4x (ovs) / 10x (hybrid) faster per VIF than 5.3.0;
bulk unplug within 1.5x of the floor and at least 20x faster than 5.3.0;
re-plug of N unchanged VIFs under 100 ms in total.  ``--without-oracle``
leaves 5.3.0 out, for a quick look at os_vif against the floor.  os_vif's
figures are those of the ovs plugin's native ``plug_many`` /
``unplug_many``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_ovs  # noqa: E402 - the shared harness (it sets sys.path)
import raw_batch  # noqa: E402
from bench_ovs import (  # noqa: E402
    INSTANCE,
    KINDS,
    MTU,
    mac,
    make_vif,
    netns_fixture,
    ovs_server,
    vif_id,
)
from oslo_config import cfg  # noqa: E402
from pyroute2 import IPRoute  # noqa: E402

OPS = ("plug", "replug", "unplug")


def names(kind: str, n: int) -> dict[str, str]:
    """The devices of VIF ``n`` (as bench_ovs.make_vif names them)."""
    vid = vif_id(n)
    if kind == "ovs":
        return {"tap": ("tap" + vid)[:14], "port": ("tap" + vid)[:14]}
    return {
        "qbr": ("qbr" + vid)[:14],
        "qvb": ("qvb" + vid)[:14],
        "qvo": ("qvo" + vid)[:14],
        "port": ("qvo" + vid)[:14],
    }


# -- the floor --


class BulkFloor:
    """The N VIFs' changes in as few requests as the kernel and OVSDB take."""

    def __init__(self, connection: str) -> None:
        self.api = raw_batch.ovsdb_api(connection)
        self.nl = raw_batch.Netlink()
        self.ipr = IPRoute()

    def plug(self, kind: str, count: int) -> None:
        devices = [names(kind, n) for n in range(count)]
        if kind == "ovs":
            raw_batch.make_taps([d["tap"] for d in devices])
            index = raw_batch.indexes(self.nl)
            self.nl.batch(
                (
                    "set",
                    {
                        "index": index[d["tap"]],
                        "mtu": MTU,
                        "address": mac(n),
                        "group": raw_batch.GROUP,
                        "state": "up",
                    },
                )
                for n, d in enumerate(devices)
            )
        else:
            creations: list[tuple[str, dict[str, Any]]] = []
            for d in devices:
                creations.append(
                    (
                        "add",
                        {
                            "ifname": d["qbr"],
                            "kind": "bridge",
                            "br_stp_state": 0,
                            "br_forward_delay": 0,
                            "mtu": MTU,
                            "group": raw_batch.GROUP,
                        },
                    )
                )
                creations.append(
                    (
                        "add",
                        {
                            "ifname": d["qvb"],
                            "kind": "veth",
                            "peer": {"ifname": d["qvo"]},
                            "mtu": MTU,
                            "group": raw_batch.GROUP,
                        },
                    )
                )
            self.nl.batch(creations)
            for d in devices:
                for key in (
                    "ipv6/conf/%s/disable_ipv6",
                    "ipv4/conf/%s/arp_ignore",
                ):
                    with open("/proc/sys/net/" + key % d["qbr"], "w") as f:
                        f.write("1")
            index = raw_batch.indexes(self.nl)
            changes: list[tuple[str, dict[str, Any]]] = []
            for d in devices:
                changes.append(
                    ("set", {"index": index[d["qbr"]], "state": "up"})
                )
                changes.append(
                    (
                        "set",
                        {"index": index[d["qvo"]], "mtu": MTU, "state": "up"},
                    )
                )
                changes.append(
                    (
                        "set",
                        {
                            "index": index[d["qvb"]],
                            "master": index[d["qbr"]],
                            "state": "up",
                        },
                    )
                )
            self.nl.batch(changes)
        raw_batch.add_ports(
            self.api,
            [(d["port"], vif_id(n), mac(n)) for n, d in enumerate(devices)],
        )

    def replug(self, kind: str, count: int) -> None:
        # What a re-plug cannot do without: see that everything is there.
        links = raw_batch.indexes(self.nl)
        rows = raw_batch.interfaces(self.api)
        for n in range(count):
            d = names(kind, n)
            assert d["port"] in links and d["port"] in rows, d

    def unplug(self, kind: str, count: int) -> None:
        raw_batch.del_ports(
            self.api, (names(kind, n)["port"] for n in range(count))
        )
        self.nl.delete_group()

    def verify(self, kind: str, count: int, present: bool) -> None:
        """Fail unless the VIFs' ports and devices are all there (or gone).

        Outside the timing: a floor that silently skips a change would
        make every ratio against it a lie.
        """
        ports = raw_batch.port_names(self.api)
        links = set(self.nl.links())
        wrong = [
            name
            for n in range(count)
            for key, name in names(kind, n).items()
            if ((name in ports) if key == "port" else (name in links))
            != present
        ]
        if wrong:
            state = "missing" if present else "left"
            raise SystemExit(
                "floor %s: %d names %s, first %s"
                % (kind, len(wrong), state, wrong[0])
            )

    def close(self) -> None:
        self.api.ovsdb_connection.stop()
        self.nl.close()
        self.ipr.close()


# -- the workers (each in its own process, in the namespace) --


def _timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run_floor(kind: str, count: int, connection: str) -> dict[str, float]:
    floor = BulkFloor(connection)
    floor.plug(kind, 1)  # warm up: connection, bridge, first netlink
    floor.unplug(kind, 1)
    result = {}
    for op in OPS:
        bench_ovs.settle(connection)
        result[op] = _timed(lambda op=op: getattr(floor, op)(kind, count))
        floor.verify(kind, count, present=op != "unplug")
    floor.close()
    return result


def _all_succeeded(results: list[Any], what: str) -> None:
    failed = [r for r in results if r is not None]
    if failed:
        raise SystemExit(
            "%s: %d VIFs failed, first: %s" % (what, len(failed), failed[0])
        )


def run_os_vif(kind: str, count: int, connection: str) -> dict[str, float]:
    import os_vif

    os_vif.initialize()
    cfg.CONF.set_override("ovsdb_connection", connection, "os_vif_ovs")
    pairs = [(make_vif(kind, n), INSTANCE) for n in range(count)]
    warm = [(make_vif(kind, 9999), INSTANCE)]
    _all_succeeded(os_vif.plug_many(warm), "warm-up plug")
    _all_succeeded(os_vif.unplug_many(warm), "warm-up unplug")
    result = {}
    for op, call in (
        ("plug", os_vif.plug_many),
        ("replug", os_vif.plug_many),
        ("unplug", os_vif.unplug_many),
    ):
        bench_ovs.settle(connection)
        start = time.perf_counter()
        outcome = call(pairs)
        result[op] = time.perf_counter() - start
        _all_succeeded(outcome, op)
    return result


WORKERS = {"os_vif": run_os_vif, "floor": run_floor}


def wipe(server: ovs_server.OvsServer) -> None:
    """Remove every bridge and device of the namespace (a batch, a group).

    Then compact the database: 5.3.0's thousand transactions would
    otherwise have ovsdb-server compacting its log while the next
    contender runs.
    """
    server.delete_bridges()
    server.compact()
    nl = raw_batch.Netlink()
    with IPRoute() as ipr:
        nl.set_group(
            link["index"]
            for link in ipr.get_links()
            if link.get("ifname") not in ("lo", "ovs-netdev")
        )
    nl.delete_group()
    nl.close()


def report(
    results: dict, counts: list[int], kinds: Sequence[str] = KINDS
) -> str:
    header = "%-7s %-4s %-7s %10s %10s %10s %9s %9s"
    lines = [
        header
        % ("type", "N", "op", "os_vif", "floor", "5.3.0", "os_vif/", "5.3.0/"),
        header % ("", "", "", "ms/VIF", "ms/VIF", "ms/VIF", "floor", "os_vif"),
    ]
    for kind in kinds:
        for count in counts:
            for op in OPS:
                lines.append(
                    bench_ovs.contender_row(results, kind, count, op, 3)
                )
            lines.append(
                "%-7s %-4d re-plug of all %d (os_vif): %.0f ms in total "
                "(target < 100 ms)"
                % (
                    kind,
                    count,
                    count,
                    results["os_vif"][kind][count]["replug"] * 1000,
                )
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, nargs="+", default=[100, 500])
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; the median is shown"
    )
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=list(KINDS)
    )
    parser.add_argument(
        "--json", help="also write the medians and every round here"
    )
    parser.add_argument(
        "--without-oracle",
        action="store_true",
        help="leave os-vif 5.3.0 out (quicker: os_vif against the floor)",
    )
    bench_ovs.add_worker_argument(parser, "IMPL")
    args = parser.parse_args()
    if bench_ovs.worker_main(args.worker, WORKERS):
        return
    bench_ovs.require_switch()
    oracle_python = oracle_dir = ""
    if not args.without_oracle:
        oracle_python, oracle_dir = bench_ovs.oracle()
    results: dict = {"os_vif": {}, "floor": {}}
    if not args.without_oracle:
        results["5.3.0"] = {}
    every_round: dict = {impl: {} for impl in results}
    with tempfile.TemporaryDirectory() as workdir:
        with netns_fixture.fresh_netns("osvif-bulk") as ns:
            server = ovs_server.OvsServer(
                os.path.join(workdir, "ovs"), netns=ns.name
            )
            server.start()
            try:

                def ours(impl: str, kind: str, count: int) -> dict[str, float]:
                    return bench_ovs._run_in_namespace(
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

                runners = {
                    "floor": lambda k, c: ours("floor", k, c),
                    "os_vif": lambda k, c: ours("os_vif", k, c),
                    "5.3.0": lambda k, c: bench_ovs.run_oracle(
                        oracle_python, oracle_dir, server, k, c, workdir
                    ),
                }
                if args.without_oracle:
                    del runners["5.3.0"]
                for kind in args.kinds:
                    for count in args.n:
                        rounds: dict[str, list[dict[str, float]]] = {}
                        medians = bench_ovs.interleaved_medians(
                            runners,
                            kind,
                            count,
                            args.repeat,
                            lambda: wipe(server),
                            OPS,
                            rounds,
                        )
                        for impl, samples in rounds.items():
                            every_round[impl].setdefault(kind, {})[
                                count
                            ] = samples
                        for impl, cell in medians.items():
                            results[impl].setdefault(kind, {})[count] = cell
                        print(
                            "done: %s N=%d" % (kind, count),
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                server.stop()
    print(report(results, args.n, args.kinds))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {"medians": results, "rounds": every_round}, handle, indent=1
            )


if __name__ == "__main__":
    main()
