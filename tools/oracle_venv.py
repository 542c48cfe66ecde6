"""Isolated virtualenvs holding a released os-vif, to run it as an oracle.

The real os-vif 5.3.0 is never imported into this project's process: it is
installed from PyPI into a virtualenv of its own and run there as a
separate program (``tools/oracle_worker.py``, ``benchmarks/
oracle_ovs_worker.py``).  This module makes that virtualenv once and
reuses it afterwards, for the functional tests and the benchmarks alike.

The virtualenvs live under ``$OS_VIF_ORACLE_DIR`` (default
``/var/tmp/os-vif-oracle``, kept across reboots and shared by every
checkout on the machine), one per version: ``<dir>/os-vif-5.3.0``.  A
virtualenv counts only once its install finished and ``os_vif`` imports in
it (a marker file records that), so an interrupted install is redone
rather than used.  A lock file serialises concurrent makers (two test runs
at once).

Usage: ``python tools/oracle_venv.py [--version 5.3.0]`` makes the
virtualenv if needed and prints its path.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys

__all__ = [
    "DEFAULT_DIR",
    "DIR_ENV",
    "OracleUnavailable",
    "cached",
    "ensure",
    "venv_path",
]

#: The environment variable naming the directory of the virtualenvs.
DIR_ENV = "OS_VIF_ORACLE_DIR"
#: Where they go when it is not set.
DEFAULT_DIR = "/var/tmp/os-vif-oracle"
#: The release the tests and benchmarks compare with.
DEFAULT_VERSION = "5.3.0"

_MARKER = ".os-vif-oracle-complete"
# What must import for the virtualenv to be usable.
_CHECK = "import os_vif, vif_plug_ovs, oslo_privsep, pyroute2, ovsdbapp"


class OracleUnavailable(RuntimeError):
    """The virtualenv is not there and could not be made (no PyPI?)."""


def venv_path(version: str = DEFAULT_VERSION, root: str | None = None) -> str:
    """Return where the virtualenv of os-vif ``version`` lives."""
    root = root or os.environ.get(DIR_ENV) or DEFAULT_DIR
    return os.path.join(os.path.abspath(root), "os-vif-" + version)


def _python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def cached(
    version: str = DEFAULT_VERSION, root: str | None = None
) -> str | None:
    """Return the python of a complete virtualenv of ``version``, or None."""
    venv = venv_path(version, root)
    if os.path.exists(os.path.join(venv, _MARKER)) and os.access(
        _python(venv), os.X_OK
    ):
        return _python(venv)
    return None


def _run(argv: list[str], timeout: float) -> None:
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise OracleUnavailable(
            "%s took more than %ss" % (" ".join(argv), timeout)
        ) from err
    if result.returncode != 0:
        # pip's last lines say why (no network, no such version...).
        tail = "\n".join(
            line
            for line in (result.stderr + result.stdout).splitlines()
            if not line.startswith("WARNING: Location")
        ).strip()[-1500:]
        raise OracleUnavailable(
            "%s failed (exit %d): %s"
            % (" ".join(argv[:4]), result.returncode, tail)
        )


def ensure(
    version: str = DEFAULT_VERSION,
    root: str | None = None,
    timeout: float = 600.0,
) -> str:
    """Return the python of the virtualenv of os-vif ``version``.

    Make the virtualenv first when it is missing or incomplete (``pip
    install os-vif==<version>`` from the package index, about a minute).
    Raise :class:`OracleUnavailable` with pip's own explanation when that
    fails; a half-made virtualenv is removed again.
    """
    python = cached(version, root)
    if python is not None:
        return python
    venv = venv_path(version, root)
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another maker may have finished while this one waited.
        python = cached(version, root)
        if python is not None:
            return python
        shutil.rmtree(venv, ignore_errors=True)
        try:
            _run([sys.executable, "-m", "venv", venv], timeout)
            _run(
                [
                    _python(venv),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "os-vif==" + version,
                ],
                timeout,
            )
            _run([_python(venv), "-c", _CHECK], timeout)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        with open(os.path.join(venv, _MARKER), "w") as marker:
            marker.write("os-vif==%s\n" % version)
    return _python(venv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument(
        "--dir", help="directory of the virtualenvs (default: $%s or %s)"
        % (DIR_ENV, DEFAULT_DIR)
    )
    args = parser.parse_args()
    try:
        python = ensure(args.version, args.dir)
    except OracleUnavailable as err:
        sys.exit(
            "cannot make the os-vif %s virtualenv: %s" % (args.version, err)
        )
    print(os.path.dirname(os.path.dirname(python)))


if __name__ == "__main__":
    main()
