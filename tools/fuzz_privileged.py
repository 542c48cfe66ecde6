#!/usr/bin/env python3
"""Run the privileged entry point fuzzer for a long hunt (default 10,000).

Usage (as root, from the repository, with the test virtualenv)::

    .venv/bin/python tools/fuzz_privileged.py [--examples N] [--random]
        [--report FILE] [pytest arguments...]

It runs ``tests/functional/internal/test_fuzz_privileged.py`` with
``OS_VIF_FUZZ_PRIVILEGED_EXAMPLES=N`` and prints the count, the time and
the outcomes (how each call ended).  ``--random`` draws new examples each
run instead of the derandomized sequence CI runs (a failure prints the
``@reproduce_failure`` line that replays it).  The exit status is
pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST = "tests/functional/internal/test_fuzz_privileged.py"


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer; print its report; return pytest's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10000)
    parser.add_argument(
        "--random",
        action="store_true",
        help="new examples each run (not CI's derandomized ones)",
    )
    parser.add_argument("--report", help="also write the JSON report here")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        env = dict(
            os.environ,
            OS_VIF_FUZZ_PRIVILEGED_EXAMPLES=str(args.examples),
            OS_VIF_FUZZ_PRIVILEGED_REPORT=report.name,
        )
        if args.random:
            env["OS_VIF_FUZZ_PRIVILEGED_RANDOM"] = "1"
        status = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                TEST + "::test_fuzz_the_privileged_entry_point",
                *pytest_args,
            ],
            cwd=ROOT,
            env=env,
        )
        with open(report.name) as handle:
            text = handle.read()
    if not text:
        print("no report: the fuzzer did not run (see above)")
        return status or 1
    summary = json.loads(text)
    print(
        "%(examples)d examples in %(seconds).1f s" % summary,
        "(%.1f ms each)"
        % (1000 * summary["seconds"] / max(1, summary["examples"])),
    )
    for outcome, count in summary["outcomes"].items():
        print("  %6d  %s" % (count, outcome))
    if args.report:
        with open(args.report, "w") as handle:
            handle.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
