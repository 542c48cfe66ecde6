"""os_vif objects over oslo.messaging: serializer CPU, and plugs per second.

Two measurements, each against a floor measured in the same run:

1. **Serializer CPU per message**, for the fully populated
   ``VIFOpenVSwitch`` of ``tests/wire_samples.py``: what an RPC message
   costs the serializers on both ends, i.e. ``serialize_entity``,
   ``jsonutils.dumps`` (as oslo.messaging writes it), ``jsonutils.loads``,
   ``deserialize_entity``; CPU time (``time.process_time``), batches
   interleaved, the best batch of each counts.

   * ours: :class:`os_vif.serialization.RPCSerializer`;
   * os-vif 5.3.0: oslo.versionedobjects' ``VersionedObjectSerializer``
     over os_vif's base, run by the os-vif 5.3.0 interpreter of an
     isolated venv (``--oracle-python``, or made with ``--make-oracle
     DIR``);
   * floor: ``jsonutils.dumps`` + ``loads`` of the primitive alone.

   Target: at least 3 times less CPU per message than os-vif 5.3.0.

2. **Plugs per second over a real broker**: the example of
   ``doc/source/examples/port_binding.py`` with a private RabbitMQ and its
   compute host in a throwaway network namespace (root, rabbitmq-server);
   the controller binds one Linux bridge VIF, then sends ``plug`` of that
   unchanged VIF again and again (os_vif finds nothing to do on the host).
   Floor: ``host_info()`` calls (an RPC round trip carrying an object, no
   plug).  ``--no-broker`` skips it.

Usage::

    python benchmarks/bench_rpc.py [--oracle-python PY | --make-oracle DIR]
        [--rounds 500] [--repeat 9] [--calls 300] [--no-broker] [--json]

Exits non-zero when the CPU target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import venv
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "wire_samples.py"
EXAMPLE = ROOT / "doc" / "source" / "examples" / "port_binding.py"

# Run by the os-vif 5.3.0 interpreter: the same sample, through its own
# serializer, one batch per line read on standard input (interleaved with
# ours); prints the CPU seconds per message.
ORACLE_SCRIPT = r"""
import importlib.util, json, sys, time, warnings
warnings.simplefilter("ignore")
spec = importlib.util.spec_from_file_location("wire_samples", sys.argv[1])
samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples)
from oslo_serialization import jsonutils
from oslo_versionedobjects import base as ovo_base
from os_vif import objects
from os_vif.objects import base
objects.register_all()

class Serializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = base.VersionedObject

ser = Serializer()
vif = samples.build_sample("VIFOpenVSwitch", "populated")
rounds = int(sys.argv[2])

def message():
    text = jsonutils.dumps({"vif": ser.serialize_entity({}, vif)})
    return ser.deserialize_entity({}, jsonutils.loads(text)["vif"])

assert message() == vif
print("ready", flush=True)
for _line in sys.stdin:
    start = time.process_time()
    for _ in range(rounds):
        message()
    print((time.process_time() - start) / rounds, flush=True)
"""


class _Oracle:
    """os-vif 5.3.0 in a subprocess, timing one batch when asked."""

    def __init__(self, python: str, rounds: int) -> None:
        self.proc = subprocess.Popen(
            [python, "-I", "-c", ORACLE_SCRIPT, str(SAMPLES), str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        line = self.stdout.readline()
        if "ready" not in line:
            raise RuntimeError("the os-vif 5.3.0 worker failed: %r" % line)

    def batch(self) -> float:
        self.stdin.write("go\n")
        self.stdin.flush()
        return float(self.stdout.readline())

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=60)


def _make_oracle(directory: pathlib.Path) -> str:
    python = directory / "bin" / "python"
    if not python.exists():
        venv.create(directory, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "os-vif==5.3.0"],
            check=True,
        )
    return str(python)


def _cpu_per_call(func: Any, rounds: int) -> float:
    start = time.process_time()
    for _ in range(rounds):
        func()
    return (time.process_time() - start) / rounds


def measure_serializers(
    rounds: int, repeat: int, oracle: _Oracle
) -> dict[str, float]:
    """CPU seconds per message: ours, os-vif 5.3.0's, the floor."""
    sys.path.insert(0, str(ROOT))
    from oslo_serialization import jsonutils

    from os_vif import serialization
    from tests import wire_samples

    vif = wire_samples.build_sample("VIFOpenVSwitch", "populated")
    ser = serialization.RPCSerializer()
    primitive = ser.serialize_entity({}, vif)

    def ours() -> Any:
        text = jsonutils.dumps({"vif": ser.serialize_entity({}, vif)})
        return ser.deserialize_entity({}, jsonutils.loads(text)["vif"])

    def floor() -> Any:
        return jsonutils.loads(jsonutils.dumps({"vif": primitive}))

    assert ours() == vif
    times: dict[str, list[float]] = {"ours": [], "5.3.0": [], "floor": []}
    for _ in range(repeat):
        times["5.3.0"].append(oracle.batch())
        times["ours"].append(_cpu_per_call(ours, rounds))
        times["floor"].append(_cpu_per_call(floor, rounds))
    return {name: min(values) for name, values in times.items()}


def measure_broker(calls: int) -> dict[str, float]:
    """Calls per second over a private broker: plug, and host_info."""
    sys.path.insert(0, str(ROOT))
    import importlib.util

    from pyroute2 import IPRoute
    from pyroute2 import netns as pyroute2_netns

    from os_vif.objects import instance_info
    from os_vif.sandbox import netns, rabbitmq

    reason = rabbitmq.missing_reason() or netns.missing_reason()
    if reason:
        raise RuntimeError(reason)
    spec = importlib.util.spec_from_file_location("port_binding", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    name = "osvif-bench-%s" % uuid.uuid4().hex[:6]
    path = "/run/netns/" + name
    workdir = tempfile.mkdtemp(prefix="os-vif-bench-rabbit-")
    pyroute2_netns.create(name)
    compute = None
    try:
        with netns.entered_path(path, restart_privsep=False):
            with IPRoute() as ipr:
                ipr.link("set", index=ipr.link_lookup(ifname="lo")[0],
                         state="up")
        broker = rabbitmq.RabbitServer(workdir, netns=name)
        broker.start()
        try:

            def enter() -> None:
                netns.setns(os.open(path, os.O_RDONLY))

            compute = subprocess.Popen(
                [sys.executable, "-W", "ignore", str(EXAMPLE), "compute",
                 "--url", broker.url, "--host", "bench",
                 "--plugins", "linux_bridge"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, preexec_fn=enter,
            )
            assert compute.stdout is not None
            if "serving" not in compute.stdout.readline():
                raise RuntimeError("the compute host did not start")
            with netns.entered_path(path, restart_privsep=False):
                transport = example.transport(broker.url)
                try:
                    controller = example.Controller(transport)
                    instance = instance_info.InstanceInfo(
                        uuid="0e4c6a1f-2b3d-4c5e-8f9a-0b1c2d3e4f5a",
                        name="bench", project_id="bench")
                    vif = controller.bind(
                        "bench",
                        example.candidate_vifs(
                            "a7c2e0d4-1b3f-4e5a-9c8d-7f6e5d4c3b2a",
                            "52:54:00:0e:0e:01", "br-bench", "tap-bench"),
                        instance,
                    )
                    start = time.perf_counter()
                    for _ in range(calls):
                        controller.plug("bench", vif, instance)
                    plug_s = time.perf_counter() - start
                    start = time.perf_counter()
                    for _ in range(calls):
                        controller.host_info("bench")
                    info_s = time.perf_counter() - start
                    controller.unplug("bench", vif, instance)
                finally:
                    transport.cleanup()
        finally:
            if compute is not None:
                compute.terminate()
                compute.wait(30)
            broker.stop()
    finally:
        pyroute2_netns.remove(name)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"plug_per_s": calls / plug_s, "host_info_per_s": calls / info_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--oracle-python",
        default="/var/tmp/os-vif-oracle/os-vif-5.3.0/bin/python",
    )
    parser.add_argument("--make-oracle", type=pathlib.Path, default=None)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--no-broker", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    python = args.oracle_python
    if not pathlib.Path(python).exists():
        if args.make_oracle is None:
            parser.error(
                "%s not found: give --oracle-python or --make-oracle DIR"
                % python
            )
        python = _make_oracle(args.make_oracle)
    oracle = _Oracle(python, args.rounds)
    try:
        cpu = measure_serializers(args.rounds, args.repeat, oracle)
    finally:
        oracle.close()
    figures: dict[str, float] = {
        "rpc_serializer_us": cpu["ours"] * 1e6,
        "os_vif_5_3_0_serializer_us": cpu["5.3.0"] * 1e6,
        "json_floor_us": cpu["floor"] * 1e6,
        "cpu_ratio_5_3_0_over_ours": cpu["5.3.0"] / cpu["ours"],
        "ours_over_floor": cpu["ours"] / cpu["floor"],
    }
    if not args.no_broker:
        broker = measure_broker(args.calls)
        figures.update(broker)
        figures["plug_over_host_info"] = (
            broker["plug_per_s"] / broker["host_info_per_s"]
        )
    targets = {
        "RPCSerializer >= 3x less CPU than os-vif 5.3.0": figures[
            "cpu_ratio_5_3_0_over_ours"
        ] >= 3.0,
    }
    if args.json:
        print(json.dumps({"figures": figures, "targets": targets}, indent=1))
    else:
        for key, value in figures.items():
            print("%-32s %12.2f" % (key, value))
        for target, met in targets.items():
            print("%-50s %s" % (target, "met" if met else "NOT MET"))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
