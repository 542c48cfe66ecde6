"""os-vif-cni's cost per call, beside the reference plugins in the same run.

A runtime executes a CNI plugin once per call, so what a call costs starts
with what starting the plugin costs.  Measured, each ``--calls`` times,
the commands interleaved round-robin (the machine's load weighs on all
alike), p50 and p95 in milliseconds:

* ``client VERSION``: the compiled os-vif-cni client's VERSION round trip
  to a warm daemon (the client's own cost: exec, connect, relay);
* ``python3 -S``: ``python3 -S -c pass``, the floor of any Python plugin;
* ``bridge VERSION``: the reference ``bridge`` plugin's VERSION
  (containernetworking-plugins, Go);
* ``client ADD`` / ``client DEL``: os-vif-cni (the client, the daemon,
  host-local, ``os_vif.plug`` / ``unplug`` of a ``linux_bridge``
  ``VIFBridge`` with its workload end: a veth pair, the host end on the
  bridge, the peer named, addressed and routed in the container's
  namespace), one container after the other;
* ``bridge ADD`` / ``bridge DEL``: the reference ``bridge`` plugin with
  host-local, the same sequence, into a namespace of its own;
* ``client DEL unknown`` / ``bridge DEL unknown``: DEL of an attachment
  never added (one exec of host-local inside each);
* ``os-vif-cni-python VERSION`` (``--python-calls``, fewer: each costs a
  Python start and os_vif's imports): the plugin without the daemon.

And ``--gc N``: GC of N stale attachments among N live ones, all real
(ADDs through the client); the stale ones are containers gone without a
DEL (their namespace deleted) -- issue 22's target is under 2 s for 200
among 200.

The namespace the daemon runs in gets iptables' filter/FORWARD chains, as
a host with an iptables firewall has them, and each network keeps one
container attached throughout, as a node does: the bridge and os_vif's
forwarding rules for it are made once, not by every ADD.

Usage::

    python benchmarks/bench_cni.py [--calls 100] [--python-calls 10]
        [--gc 200] [--json]

Needs root, cc, /usr/lib/cni/{bridge,host-local} (tools/setup-env.sh
ensure_podman).  Everything runs in a throwaway network namespace (the
daemon, its privsep daemons, both bridges) and the containers'
namespaces are made for the run; files live in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from os_vif.cni import protocol, shim, store
from os_vif.sandbox import netns as netns_fixture

CNI_PATH = "/usr/lib/cni"


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1000, 2),
            "p95": round(p95 * 1000, 2), "n": len(ordered)}


def _timed(argv: list[str], env: dict[str, str], stdin: bytes,
           expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, env=env, capture_output=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit("%s failed (%d): %s" % (
            argv[0], proc.returncode,
            (proc.stdout + proc.stderr)[:300].decode(errors="replace")))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--python-calls", type=int, default=10)
    parser.add_argument("--gc", type=int, default=200,
                        help="stale (and as many live) attachments for "
                        "the GC measure; 0 skips it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for need in ("bridge", "host-local"):
        if not os.access(os.path.join(CNI_PATH, need), os.X_OK):
            raise SystemExit("%s/%s is missing: run tools/setup-env.sh's "
                             "ensure_podman" % (CNI_PATH, need))
    with netns_fixture.fresh_netns("bcni"):
        results = _run(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, value in results.items():
            print("%-28s %s" % (name, value))
    return 0


def _run(args: argparse.Namespace) -> dict[str, Any]:
    root = tempfile.mkdtemp(prefix="bcni-", dir="/tmp")
    sock = os.path.join(root, "cni.sock")
    state = os.path.join(root, "state")
    client = os.path.join(root, "os-vif-cni")
    shim.build(client, daemon_command="exec %s -m os_vif.cni.server"
               % sys.executable)
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "OS_VIF_CNI_SOCKET": sock, "OS_VIF_CNI_STATE_DIR": state}
    config = {
        "cniVersion": "1.0.0", "name": "bench", "type": "os-vif-cni",
        "plugin": "linux_bridge", "bridge": "bcnilb0",
        "ipam": {"type": "host-local", "dataDir": os.path.join(root, "ipam"),
                 "ranges": [[{"subnet": "10.96.0.0/16"}]],
                 "routes": [{"dst": "0.0.0.0/0"}]},
    }
    bridge_config = dict(config, name="benchref", type="bridge",
                         bridge="bcniref0", isGateway=True)
    version_in = b'{"cniVersion": "1.0.0"}'
    unknown_env = dict(base_env, CNI_COMMAND="DEL", CNI_CONTAINERID="bench1",
                       CNI_IFNAME="eth0", CNI_PATH=CNI_PATH)
    version_env = dict(base_env, CNI_COMMAND="VERSION")
    bridge = os.path.join(CNI_PATH, "bridge")
    firewall = _host_firewall()
    pods = {"client": _make_netns("bcni-pod-osvif"),
            "bridge": _make_netns("bcni-pod-ref")}

    def add_del(plugin: str, command: str) -> Callable[[int], float]:
        argv = [client] if plugin == "client" else [bridge]
        conf = json.dumps(config if plugin == "client"
                          else bridge_config).encode()

        def measure(i: int) -> float:
            env = dict(base_env, CNI_COMMAND=command, CNI_PATH=CNI_PATH,
                       CNI_CONTAINERID="%s%04d" % (plugin, i),
                       CNI_IFNAME="eth0", CNI_NETNS=pods[plugin])
            return _timed(argv, env, conf)
        return measure

    measures: dict[str, Callable[[int], float]] = {
        "client VERSION": lambda i: _timed([client], version_env,
                                           version_in),
        "python3 -S": lambda i: _timed(["python3", "-S", "-c", "pass"],
                                       base_env, b""),
        "bridge VERSION": lambda i: _timed([bridge], version_env,
                                           version_in),
        "client ADD": add_del("client", "ADD"),
        "client DEL": add_del("client", "DEL"),
        "bridge ADD": add_del("bridge", "ADD"),
        "bridge DEL": add_del("bridge", "DEL"),
        "client DEL unknown": lambda i: _timed(
            [client], unknown_env, json.dumps(config).encode()),
        "bridge DEL unknown": lambda i: _timed(
            [bridge], unknown_env, json.dumps(bridge_config).encode()),
    }
    results: dict[str, Any] = {"iptables FORWARD chain": firewall}
    try:
        # The first calls start the daemon and its privsep daemons: timed
        # apart, not counted.
        results["daemon start (first call)"] = round(
            measures["client VERSION"](0) * 1000, 1)
        results["first ADD + DEL (privsep start)"] = round(1000 * (
            measures["client ADD"](9999) + measures["client DEL"](9999)), 1)
        # A container that stays on each network, as on any node: the
        # bridge (and os_vif's forwarding rules for it) are made once, not
        # by every ADD, nor removed by every DEL.
        for plugin in ("client", "bridge"):
            _timed([client if plugin == "client" else bridge], dict(
                base_env, CNI_COMMAND="ADD", CNI_PATH=CNI_PATH,
                CNI_CONTAINERID="resident", CNI_IFNAME="eth9",
                CNI_NETNS=pods[plugin]), json.dumps(
                    config if plugin == "client" else bridge_config).encode())
        samples: dict[str, list[float]] = {name: [] for name in measures}
        # Round-robin, each ADD followed by its DEL: the machine's load
        # weighs on all alike.
        for i in range(args.calls):
            for name, measure in measures.items():
                samples[name].append(measure(i))
        for name, values in samples.items():
            if values:
                results[name] = _percentiles(values)
        if args.calls:
            # The targets: ADD within 2x the reference, DEL no slower.
            for command in ("ADD", "DEL"):
                results["client/bridge %s p50" % command] = round(
                    results["client " + command]["p50"]
                    / results["bridge " + command]["p50"], 2)
        python_env = dict(base_env, CNI_COMMAND="VERSION")
        if args.python_calls:
            results["os-vif-cni-python VERSION"] = _percentiles([
                _timed([sys.executable, "-m", "os_vif.cni.main"],
                       python_env, version_in)
                for _ in range(args.python_calls)])
        if args.gc:
            results["gc"] = _bench_gc(args.gc, client, base_env, config,
                                      state, pods)
    finally:
        _stop_daemon(sock)
        for path in pods.values():
            _remove_netns(path)
        shutil.rmtree(root, ignore_errors=True)
    return results


def _make_netns(prefix: str) -> str:
    name = "%s-%d" % (prefix, os.getpid())
    pyroute2_netns.create(name)
    return "/run/netns/" + name


def _remove_netns(path: str) -> None:
    try:
        pyroute2_netns.remove(os.path.basename(path))
    except OSError:
        pass


def _bench_gc(count: int, client: str, base_env: dict[str, str],
              config: dict[str, Any], state: str,
              pods: dict[str, str]) -> dict[str, Any]:
    """GC of ``count`` stale attachments among ``count`` live ones.

    Every attachment is a real one (ADD through the client: a veth, its
    address from host-local, its record).  The stale ones are containers
    gone without a DEL (their namespace deleted, as when a runtime lost
    track of them): GC unplugs what is left of each (os_vif), releases
    its address and forgets its record; the live ones are kept.
    """
    stale_pod = _make_netns("bcni-pod-stale")
    pods["stale"] = stale_pod
    live: list[protocol.Attachment] = []
    stale: list[protocol.Attachment] = []
    conf = json.dumps(config).encode()
    stale_hosts = set()
    for i in range(2 * count):
        is_live = bool(i % 2)
        att = protocol.Attachment("gc%04d" % i, "e%d" % i)
        env = dict(base_env, CNI_COMMAND="ADD", CNI_PATH=CNI_PATH,
                   CNI_CONTAINERID=att.container_id, CNI_IFNAME=att.ifname,
                   CNI_NETNS=pods["client"] if is_live else stale_pod)
        proc = subprocess.run([client], input=conf, env=env,
                              capture_output=True, check=True)
        if not is_live:
            stale_hosts.add(json.loads(proc.stdout)["interfaces"][0]["name"])
        (live if is_live else stale).append(att)
    _remove_netns(stale_pod)
    # The kernel destroys a deleted namespace's devices (and so the veths'
    # host ends) in the background; a runtime's GC comes long after.
    # Waited for, and timed apart.
    start = time.perf_counter()
    with IPRoute() as ipr:
        while any(link.get_attr("IFLA_LINKINFO") is not None
                  and link.get_attr("IFLA_IFNAME") in stale_hosts
                  for link in ipr.get_links()):
            if time.perf_counter() - start > 60:
                raise SystemExit("the stale namespace's devices stay")
            time.sleep(0.05)
    teardown = time.perf_counter() - start
    records = store.Store(state)
    valid = [{"containerID": a.container_id, "ifname": a.ifname}
             for a in live]
    # The resident attachment of the ADD/DEL measure is live too.
    valid.append({"containerID": "resident", "ifname": "eth9"})
    gc_config = dict(config, cniVersion="1.1.0", **{
        "cni.dev/valid-attachments": valid})
    env = dict(base_env, CNI_COMMAND="GC", CNI_PATH=CNI_PATH)
    elapsed = _timed([client], env, json.dumps(gc_config).encode())
    left = [a for a in records.attachments("bench")
            if a.container_id != "resident"]
    if sorted(left, key=str) != sorted(live, key=str):
        raise SystemExit("GC left %d attachments, %d expected"
                         % (len(left), len(live)))
    return {"stale": count, "live": count, "seconds": round(elapsed, 3),
            "namespace teardown before it (kernel)": round(teardown, 3)}


def _host_firewall() -> str:
    """Give the namespace iptables' filter/FORWARD chains, as a host with
    an iptables firewall has them (os_vif's linux_bridge plugin puts its
    forwarding rules there).  Says what was done."""
    made = []
    for tool in ("iptables-nft", "ip6tables-nft"):
        if shutil.which(tool) is None:
            continue
        proc = subprocess.run([tool, "-P", "FORWARD", "ACCEPT"],
                              capture_output=True, check=False)
        if proc.returncode == 0:
            made.append(tool)
    return "made (%s)" % ", ".join(made) if made else "none"


def _stop_daemon(sock: str) -> None:
    try:
        with open(sock + ".lock") as stream:
            pid = int(stream.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
