"""Isolated virtualenvs holding released os-vif (or its clients), as oracles.

The real os-vif 5.3.0 is never imported into this project's process: it is
installed from the package index into a virtualenv of its own and run there
as a separate program (``tools/oracle_worker.py`` for the functional tests,
``benchmarks/oracle_ovs_worker.py``, the producers of
``tools/make_wire_vectors.py``).  This module makes such a virtualenv once
and reuses it afterwards; it is the one place that does.

:func:`ensure` gives os-vif 5.3.0 (or another release) under
``$OS_VIF_ORACLE_DIR`` (default ``/var/tmp/os-vif-oracle``, kept across
reboots and shared by every checkout on the machine):
``<dir>/os-vif-5.3.0``.  :func:`ensure_requirements` makes any other set of
requirements.  A virtualenv counts only once its install finished and its
check passed (a marker file records the requirements it was made for), so
an interrupted install is redone rather than used.  A lock file serialises
concurrent makers (two test runs at once).

Usage: ``python tools/oracle_venv.py [--version 5.3.0]`` makes the os-vif
virtualenv if needed and prints its path.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

__all__ = [
    "DEFAULT_DIR",
    "DIR_ENV",
    "OracleUnavailable",
    "cached",
    "ensure",
    "ensure_requirements",
    "venv_path",
]

#: The environment variable naming the directory of the virtualenvs.
DIR_ENV = "OS_VIF_ORACLE_DIR"
#: Where they go when it is not set.
DEFAULT_DIR = "/var/tmp/os-vif-oracle"
#: The release the tests and benchmarks compare with.
DEFAULT_VERSION = "5.3.0"

_MARKER = ".os-vif-oracle-complete"
# What must import in an os-vif virtualenv for it to be usable.
_OS_VIF_CHECK = "import os_vif, vif_plug_ovs, oslo_privsep, pyroute2, ovsdbapp"


class OracleUnavailable(RuntimeError):
    """The virtualenv is not there and could not be made (no PyPI?)."""


def _root(root: str | os.PathLike[str] | None) -> str:
    return os.path.abspath(root or os.environ.get(DIR_ENV) or DEFAULT_DIR)


def venv_path(
    version: str = DEFAULT_VERSION, root: str | os.PathLike[str] | None = None
) -> str:
    """Return where the virtualenv of os-vif ``version`` lives."""
    return os.path.join(_root(root), "os-vif-" + version)


def _python(venv: str) -> str:
    return os.path.join(venv, "bin", "python")


def _complete(venv: str, requirements: Sequence[str]) -> bool:
    # The marker holds the requirements it was made for: a changed pin
    # makes a new virtualenv.
    try:
        with open(os.path.join(venv, _MARKER)) as marker:
            made_for = marker.read().split()
    except OSError:
        return False
    return made_for == list(requirements) and os.access(
        _python(venv), os.X_OK
    )


def cached(
    version: str = DEFAULT_VERSION, root: str | os.PathLike[str] | None = None
) -> str | None:
    """Return the python of a complete virtualenv of ``version``, or None."""
    venv = venv_path(version, root)
    if _complete(venv, ["os-vif==" + version]):
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


def ensure_requirements(
    name: str,
    requirements: Sequence[str],
    root: str | os.PathLike[str] | None = None,
    *,
    base_python: str = sys.executable,
    check: str | None = None,
    timeout: float = 600.0,
) -> str:
    """Return the python of the virtualenv ``<root>/<name>``.

    Make it first when it is missing, incomplete or made for other
    ``requirements`` (``pip install`` of them from the package index, with
    ``base_python``'s ``venv``), then run ``check`` (python code that must
    succeed there, e.g. imports).  Raise :class:`OracleUnavailable` with
    pip's own explanation when that fails; a half-made virtualenv is
    removed again.
    """
    venv = os.path.join(_root(root), name)
    if _complete(venv, requirements):
        return _python(venv)
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another maker may have finished while this one waited.
        if _complete(venv, requirements):
            return _python(venv)
        shutil.rmtree(venv, ignore_errors=True)
        try:
            _run([base_python, "-m", "venv", venv], timeout)
            _run(
                [
                    _python(venv),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    *requirements,
                ],
                timeout,
            )
            if check is not None:
                _run([_python(venv), "-c", check], timeout)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        with open(os.path.join(venv, _MARKER), "w") as marker:
            marker.write("\n".join(requirements) + "\n")
    return _python(venv)


def ensure(
    version: str = DEFAULT_VERSION,
    root: str | os.PathLike[str] | None = None,
    timeout: float = 600.0,
) -> str:
    """Return the python of the virtualenv of os-vif ``version``.

    Made first when needed (about a minute), see
    :func:`ensure_requirements`.
    """
    return ensure_requirements(
        os.path.basename(venv_path(version, root)),
        ["os-vif==" + version],
        root,
        check=_OS_VIF_CHECK,
        timeout=timeout,
    )


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
