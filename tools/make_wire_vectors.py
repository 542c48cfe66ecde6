#!/usr/bin/env python3
"""Generate the wire test vectors and the stored-payload corpus.

Runs real os-vif (and kuryr-kubernetes) releases from PyPI, each in its own
isolated venv, and writes what they emit as JSON under ``--out``:

* ``os-vif-5.3.0/<Object>.json``: every sample of ``tests/wire_samples.py``
  at every version of its major, without and with version manifests (the
  oracle for issue 2's wire tests);
* ``corpus/os-vif-<release>/<Object>.json``: what older os-vif releases
  emit for the same samples at their own current versions;
* ``corpus/kuryr-kubernetes-<release>/*.json``: what kuryr-kubernetes wrote
  into its KuryrPort objects and pod annotations.

This process never imports ``os_vif``: the producers
(``tools/wire_vector_producer.py``, ``tools/kuryr_payload_producer.py``)
run in the venvs' interpreters.  A dev tool, not run in CI (CI needs no
access to PyPI for the oracle); venvs are cached and reused between runs.
Output is stable: a re-run rewrites identical files.  See
``tests/vectors/README.rst`` for the file format.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# The shared virtualenv maker, beside this script.
sys.path.insert(0, str(REPO / "tools"))
import oracle_venv  # noqa: E402

TOOLS = REPO / "tools"
TESTS = REPO / "tests"
REFERENCE_NAME = "os-vif-5.3.0-wire-schema.json"

ORACLE_RELEASE = "5.3.0"
#: Older os-vif releases for the corpus: one per step of object versions
#: (1.0.0 has the first version of everything; 1.4.0 Network 1.1 and
#: VIFVHostUser 1.1; 1.9.0 HostVIFInfo 1.1 and OVS profile 1.1; 1.13.0
#: K8sDPDK; 1.17.0 profiles 1.3 and datapath offload; 5.0.0 profiles 1.4)
#: plus the first release of each later major.
HISTORY_RELEASES = (
    "1.0.0",
    "1.4.0",
    "1.9.0",
    "1.13.0",
    "1.17.0",
    "2.0.0",
    "3.0.0",
    "4.0.0",
    "5.0.0",
)
#: kuryr-kubernetes set-ups for the corpus: label -> (kuryr release, extra
#: requirements).  10.0.0 is taken once with the os-vif pip resolves today
#: and once with the os-vif of its own OpenStack release (2024.1, os-vif
#: 3.5.0); the older ones with the os-vif of their era, so that nested
#: object versions are what those deployments stored.  6.0.1 is the last
#: release with VIFSriov (1.1); 1.0.0 (2019) has VIFSriov 1.0 and still
#: wrote the PodState pod annotation.  6.0.1 imports pytz undeclared and
#: needs an old protobuf for its generated gRPC code.
KURYR_SETUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kuryr-kubernetes-10.0.0": ("10.0.0", ()),
    "kuryr-kubernetes-10.0.0-os-vif-3.5.0": ("10.0.0", ("os-vif==3.5.0",)),
    "kuryr-kubernetes-6.0.1-os-vif-2.7.1": (
        "6.0.1",
        ("os-vif==2.7.1", "pytz", "protobuf<=3.20.3"),
    ),
    "kuryr-kubernetes-1.0.0-os-vif-1.15.2": ("1.0.0", ("os-vif==1.15.2",)),
}
FORMAT = "os-vif-wire-vectors/1"


def default_venv_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "os-vif-wire-vectors" / "venvs"


def ensure_venv(
    root: Path,
    base_python: str,
    distribution: str,
    release: str,
    extras: tuple[str, ...] = (),
    label: str | None = None,
) -> Path:
    """An isolated venv holding ``distribution==release``; reused if intact.

    ``extras`` are further requirements.  Made by ``tools/oracle_venv.py``,
    which the tests and benchmarks use for their os-vif 5.3.0 too.
    """
    try:
        python = oracle_venv.ensure_requirements(
            label or f"{distribution}-{release}",
            [f"{distribution}=={release}", *extras],
            root,
            base_python=base_python,
        )
    except oracle_venv.OracleUnavailable as err:
        raise SystemExit(str(err)) from err
    return Path(python)


def run_producer(python: Path, script: str, *args: str) -> dict[str, Any]:
    """Run a producer in a venv and return its JSON document."""
    # -P -s and no PYTHONPATH: neither the repository (cwd, script directory)
    # nor user site-packages reach the venv's sys.path, so the release under
    # test is the only os_vif it can import.  (Not -I: that would also drop
    # PYTHONHASHSEED, and a fixed seed keeps set-ordered output, such as the
    # verbatim annotation strings kuryr writes, stable between runs.)
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    result = subprocess.run(
        [str(python), "-P", "-s", str(TOOLS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=str(python.parent),
    )
    if result.returncode != 0:
        raise SystemExit(f"{script} failed in {python}:\n{result.stderr}")
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_per_object(
    out_dir: Path, document: dict[str, Any]
) -> dict[str, int]:
    """Split a producer document into one file per object; return counts."""
    by_object: dict[str, list[dict[str, Any]]] = {}
    for vector in document["vectors"]:
        by_object.setdefault(vector["object"], []).append(vector)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for name, vectors in by_object.items():
        write_json(
            out_dir / f"{name}.json",
            {
                "format": FORMAT,
                "producer": document["producer"],
                "release": document["release"],
                "environment": document["environment"],
                "object": name,
                "object_version": document["object_versions"][name],
                "vectors": vectors,
            },
        )
    return {name: len(vectors) for name, vectors in sorted(by_object.items())}


def check_against_reference(document: dict[str, Any], reference: Path) -> None:
    """The oracle must cover exactly the reference's objects and versions."""
    objects = json.loads(reference.read_text(encoding="utf-8"))["objects"]
    expected = {name: spec["version"] for name, spec in objects.items()}
    if document["object_versions"] != expected:
        raise SystemExit(
            "oracle object versions differ from the reference: "
            f"{document['object_versions']} != {expected}"
        )
    pairs = {(v["object"], v["target_version"]) for v in document["vectors"]}
    for name, spec in objects.items():
        history = set(spec.get("history", {})) | {"1.0", spec["version"]}
        seen = {version for obj, version in pairs if obj == name}
        if seen != history:
            raise SystemExit(
                f"{name}: versions {sorted(seen)} emitted, "
                f"reference history has {sorted(history)}"
            )


def make_oracle(args: argparse.Namespace) -> None:
    python = ensure_venv(args.venv_root, args.python, "os-vif", ORACLE_RELEASE)
    document = run_producer(
        python,
        "wire_vector_producer.py",
        "all-versions",
        "--tests-dir",
        str(TESTS),
    )
    if args.reference.exists():
        check_against_reference(document, args.reference)
    counts = write_per_object(args.out / f"os-vif-{ORACLE_RELEASE}", document)
    failures = [v["id"] for v in document["vectors"] if v["error"]]
    print(
        f"os-vif {ORACLE_RELEASE}: {sum(counts.values())} vectors in "
        f"{len(counts)} files, {len(failures)} recorded failures"
    )


def make_history(args: argparse.Namespace) -> None:
    for release in args.history:
        python = ensure_venv(args.venv_root, args.python, "os-vif", release)
        document = run_producer(
            python,
            "wire_vector_producer.py",
            "current",
            "--tests-dir",
            str(TESTS),
        )
        counts = write_per_object(
            args.out / "corpus" / f"os-vif-{release}", document
        )
        print(
            f"os-vif {release}: {sum(counts.values())} payloads in "
            f"{len(counts)} files"
        )


def make_kuryr(args: argparse.Namespace) -> None:
    for label in args.kuryr:
        release, extras = KURYR_SETUPS[label]
        python = ensure_venv(
            args.venv_root,
            args.python,
            "kuryr-kubernetes",
            release,
            extras,
            label=label,
        )
        document = run_producer(python, "kuryr_payload_producer.py")
        out_dir = args.out / "corpus" / label
        if out_dir.exists():
            shutil.rmtree(out_dir)
        for payload in document["payloads"]:
            write_json(
                out_dir / f"{payload['name']}.json",
                {"format": FORMAT, **payload},
            )
        print(f"{label}: {len(document['payloads'])} payload files")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python tools/make_wire_vectors.py "
        "--out tests/vectors",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=TESTS / "vectors",
        help="output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--venv-root",
        type=Path,
        default=default_venv_root(),
        help="where the isolated venvs are made and reused "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter the venvs are made from (default: this one)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=REPO.parent / "shared" / "reference" / REFERENCE_NAME,
        help="wire schema the oracle output is checked "
        "against, if present (default: %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["oracle", "history", "kuryr"],
        help="generate only these parts (repeatable; default: all)",
    )
    parser.add_argument(
        "--history",
        nargs="*",
        default=list(HISTORY_RELEASES),
        metavar="RELEASE",
        help="older os-vif releases for the corpus (default: %(default)s)",
    )
    parser.add_argument(
        "--kuryr",
        nargs="*",
        default=list(KURYR_SETUPS),
        choices=list(KURYR_SETUPS),
        metavar="SETUP",
        help="kuryr-kubernetes set-ups for the corpus, by label "
        "(default: %(default)s)",
    )
    args = parser.parse_args(argv)
    parts = args.only or ["oracle", "history", "kuryr"]
    if "oracle" in parts:
        make_oracle(args)
    if "history" in parts:
        make_history(args)
    if "kuryr" in parts:
        make_kuryr(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
