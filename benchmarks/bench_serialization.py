"""Serialisation speed and size, against os-vif 5.3.0 in the same run.

The object is the fully populated ``VIFOpenVSwitch`` of
``tests/wire_samples.py`` (a network with an IPv4 and an IPv6 subnet,
fixed IPs with floating IPs, routes, DNS, an Open vSwitch port profile with
a datapath offload).  Measured:

* compact round trip: ``loads(dumps(vif))``;
* our primitive round trip: ``from_primitive(json.loads(json.dumps(
  to_primitive(vif))))``;
* os-vif 5.3.0's round trip: ``obj_from_primitive(json.loads(json.dumps(
  vif.obj_to_primitive())))``, run by the os-vif 5.3.0 interpreter in a
  subprocess (it is never imported here), its batches interleaved with
  ours; the best batch of each counts;
* the JSON sizes of both formats.

Targets (issue 6): compact <= 40% of the primitive's bytes; compact round
trip >= 3x faster than os-vif 5.3.0's; our primitive path no slower.

Usage::

    python benchmarks/bench_serialization.py [--oracle-python PATH]
        [--make-oracle DIR] [--rounds N] [--repeat N] [--json]

``--make-oracle DIR`` creates a venv with ``os-vif==5.3.0`` from PyPI there
when ``--oracle-python`` (default ``/tmp/oracle53/bin/python``) is absent.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import timeit
import venv
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "wire_samples.py"

# Run by the os-vif 5.3.0 interpreter; builds the same sample from the
# same sample module and times 5.3.0's own round trip, one batch per line
# read on standard input, so that its batches interleave with ours (the
# machine's load then weighs on both alike).
ORACLE_SCRIPT = r"""
import importlib.util, json, sys, timeit
spec = importlib.util.spec_from_file_location("wire_samples", sys.argv[1])
samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples)
from os_vif import objects
objects.register_all()
from os_vif.objects import base
vif = samples.build_sample("VIFOpenVSwitch", "populated")
rounds = int(sys.argv[2])

def round_trip():
    text = json.dumps(vif.obj_to_primitive())
    return base.VersionedObject.obj_from_primitive(json.loads(text))

assert round_trip() == vif
print(json.dumps({
    "primitive_bytes": len(json.dumps(vif.obj_to_primitive()))}), flush=True)
for _line in sys.stdin:
    print(timeit.timeit(round_trip, number=rounds) / rounds, flush=True)
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
        self.info = json.loads(self.stdout.readline())

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


def _measure(rounds: int, repeat: int, oracle: _Oracle) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from os_vif import serialization
    from tests import wire_samples

    vif = wire_samples.build_sample("VIFOpenVSwitch", "populated")

    def compact() -> Any:
        return serialization.loads(serialization.dumps(vif))

    def primitive() -> Any:
        text = json.dumps(serialization.to_primitive(vif))
        return serialization.from_primitive(json.loads(text))

    assert compact() == vif and primitive() == vif

    def batch(func: Any) -> float:
        return timeit.timeit(func, number=rounds) / rounds

    times: dict[str, list[float]] = {"compact": [], "primitive": [],
                                     "oracle": []}
    for _ in range(repeat):
        # Interleaved batches; the best of each is the least disturbed.
        times["oracle"].append(oracle.batch())
        times["compact"].append(batch(compact))
        times["primitive"].append(batch(primitive))
    return {
        "oracle_round_trip_s": min(times["oracle"]),
        "compact_round_trip_s": min(times["compact"]),
        "primitive_round_trip_s": min(times["primitive"]),
        "compact_bytes": len(serialization.dumps(vif).encode()),
        "primitive_bytes": len(
            serialization.dumps(vif, format="primitive").encode()
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle-python", default="/tmp/oracle53/bin/python")
    parser.add_argument("--make-oracle", type=pathlib.Path, default=None)
    parser.add_argument("--rounds", type=int, default=500,
                        help="round trips per batch (default 500)")
    parser.add_argument("--repeat", type=int, default=9,
                        help="interleaved batches of each (default 9)")
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
        ours = _measure(args.rounds, args.repeat, oracle)
    finally:
        oracle.close()
    theirs = {
        "round_trip_s": ours["oracle_round_trip_s"],
        "primitive_bytes": oracle.info["primitive_bytes"],
    }
    result = {
        "os_vif_5_3_0_round_trip_us": theirs["round_trip_s"] * 1e6,
        "compact_round_trip_us": ours["compact_round_trip_s"] * 1e6,
        "primitive_round_trip_us": ours["primitive_round_trip_s"] * 1e6,
        "compact_speedup": theirs["round_trip_s"]
        / ours["compact_round_trip_s"],
        "primitive_speedup": theirs["round_trip_s"]
        / ours["primitive_round_trip_s"],
        "compact_bytes": ours["compact_bytes"],
        "primitive_bytes": ours["primitive_bytes"],
        "os_vif_5_3_0_primitive_bytes": theirs["primitive_bytes"],
        "compact_size_ratio": ours["compact_bytes"] / ours["primitive_bytes"],
    }
    targets = {
        "compact <= 40% of primitive bytes": result["compact_size_ratio"]
        <= 0.40,
        "compact round trip >= 3x os-vif 5.3.0": result["compact_speedup"]
        >= 3.0,
        "primitive path no slower than os-vif 5.3.0": result[
            "primitive_speedup"
        ]
        >= 1.0,
    }
    if args.json:
        print(json.dumps({"figures": result, "targets": targets}, indent=1))
    else:
        for key, value in result.items():
            print("%-32s %12.3f" % (key, value))
        for name, met in targets.items():
            print("%-48s %s" % (name, "met" if met else "NOT MET"))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
